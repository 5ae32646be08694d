"""Small real repositories for the index tests: files on disk, committed with real git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Index Test",
    "GIT_AUTHOR_EMAIL": "index@example.invalid",
    "GIT_COMMITTER_NAME": "Index Test",
    "GIT_COMMITTER_EMAIL": "index@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return proc.stdout


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(root: Path, files: dict[str, str | bytes], *, use_git: bool = True) -> Path:
    """Write ``files`` under ``root`` and, with ``use_git``, commit them in a new repository."""
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


def bump_mtime(path: Path) -> None:
    """Make an edit visible even on filesystems with coarse timestamps."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))
