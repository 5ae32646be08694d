"""Small real repositories for the index tests: files on disk, committed with real git."""

from __future__ import annotations

import os
from pathlib import Path

from tests import gitrepo


def git(root: Path, *args: str) -> str:
    """git in ``root``, hermetic: the fixed test identity and no global config."""
    return gitrepo.git(root, *args, hermetic=True)


def make_repo(root: Path, files: dict[str, str | bytes], *, use_git: bool = True) -> Path:
    """Write ``files`` under ``root`` and, with ``use_git``, commit them in a new repository."""
    return gitrepo.make_repo(root, files, "initial", use_git=use_git, hermetic=True)


def bump_mtime(path: Path) -> None:
    """Make an edit visible even on filesystems with coarse timestamps."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))
