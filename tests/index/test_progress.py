"""The progress bar is for a person at a terminal: on a pipe there is none (and no Rich)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.index.helpers import make_repo
from tests.index.test_fastpath import FAST, Run

MANY = {f"pkg/m{i:03}.py": f"def f{i}():\n    return {i}\n" * 40 for i in range(260)}


def test_no_bar_and_no_rich_on_a_pipe(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "many", dict(MANY), use_git=False)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", FAST, "index", "--no-claude-md"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    run = Run(proc)
    assert run.code == 0, run.stderr
    assert run.stderr == "" and "index rebuilt: 260 files" in run.stdout
    assert not {m for m in run.modules if m.split(".")[0] == "rich"}


def test_bar_on_a_terminal(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "many", dict(MANY), use_git=False)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", FAST, "index", "--no-claude-md"],
        cwd=root, stdout=subprocess.PIPE, stderr=follower, env=dict(os.environ, COLUMNS="80"),
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0
    assert b"parsing" in seen
