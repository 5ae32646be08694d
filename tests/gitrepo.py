"""Real git repositories for tests: one ``git()`` runner and one small-repo builder.

Every call is an argument list with a timeout, and runs with a fixed identity and
no global or system config, so the host's git settings never leak into a test.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Lynkr Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Lynkr Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run ``git -C cwd ARGS``; raise with git's stderr when it fails and ``check``.

    Identity and config variables already set (e.g. by a fixture) win over the defaults.
    """
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**GIT_ENV, **os.environ},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def make_repo(root: Path, files: dict[str, str], message: str = "first") -> Path:
    """``root`` as a git repository on branch main with ``files`` committed."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", message)
    return root
