"""Real git repositories for tests: one ``git()`` runner and one small-repo builder.

Every call is an argument list with a timeout, run with a fixed identity and no
global or system config, so the host's git settings never leak into a test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Lynkr Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Lynkr Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True, hermetic: bool = False) -> str:
    """Run ``git -C cwd ARGS``; raise with git's stderr when it fails and ``check``.

    Identity and config variables already set (e.g. by a fixture) win over the
    defaults, unless ``hermetic``: then the defaults win over the environment too.
    """
    env = {**os.environ, **GIT_ENV} if hermetic else {**GIT_ENV, **os.environ}
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def make_repo(
    root: Path,
    files: Mapping[str, str | bytes],
    message: str = "first",
    *,
    use_git: bool = True,
    hermetic: bool = False,
) -> Path:
    """``files`` written under ``root`` and, with ``use_git``, committed on branch main."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    if use_git:
        git(root, "init", "-q", "-b", "main", hermetic=hermetic)
        git(root, "add", "--all", hermetic=hermetic)
        git(root, "commit", "-q", "-m", message, hermetic=hermetic)
    return root
