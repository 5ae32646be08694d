"""Which repository a directory belongs to, as git and ruff find theirs.

Every ``lynkr index`` command starts from a directory (PATH, or the current one)
and works on the repository holding it: git's top level when the directory is in a
git work tree, else the nearest directory at or above it that holds a ``.lynkr/``
folder (an index built there before), else the directory itself. ``--root`` skips
the search. So ``cd src/deep && lynkr index search X`` reads the repository's index,
and never builds a second, partial one (or writes a CLAUDE.md) in ``src/deep``.

Stat calls only, no ``git`` process: git's own discovery looks for ``.git`` (a
directory, or a file in worktrees and submodules) upwards the same way. Only when
``GIT_DIR`` or ``GIT_WORK_TREE`` is set, which can place the work tree anywhere, is
``git rev-parse --show-toplevel`` asked.
"""

from __future__ import annotations

import os
from pathlib import Path

INDEX_DIR = ".lynkr"


def repo_root(root: str | None, start: str = ".") -> str:
    """``--root`` as given, else the repository holding ``start``."""
    return root if root is not None else str(find_root(start))


def find_root(start: Path | str) -> Path:
    """The repository root for ``start`` (resolved); ``start`` itself when none is found."""
    base = Path(start).resolve()
    if not base.is_dir():
        return base  # the caller reports it: not a directory
    top = git_toplevel(base)
    if top is not None:
        return top
    marked = _nearest_index_dir(base)
    return marked if marked is not None else base


def git_toplevel(base: Path) -> Path | None:
    """The top level of the git work tree holding ``base``, or None outside one."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return _git_says(base)
    for directory in (base, *base.parents):
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
    return None


def _git_says(base: Path) -> Path | None:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", str(base), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = proc.stdout.strip()
    return Path(text).resolve() if proc.returncode == 0 and text else None


def _nearest_index_dir(base: Path) -> Path | None:
    """The nearest directory at or above ``base`` holding ``.lynkr/`` (not lynkr's home)."""
    home = os.environ.get("LYNKR_HOME", "").strip()
    own = os.path.realpath(os.path.expanduser(home)) if home else None
    for directory in (base, *base.parents):
        marker = os.path.join(directory, INDEX_DIR)
        if os.path.isdir(marker) and os.path.realpath(marker) != own:
            return directory
    return None
