"""The real ``lynkr`` process for tests: through a pipe (as Claude Code's Bash tool runs it)
or on a pseudo-terminal of a chosen width (as a person in an 80-column tmux sees it)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

LYNKR = [sys.executable, "-m", "lynkr_cli"]


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "80", **(extra or {})}
    env.pop("FORCE_COLOR", None)
    return env


def piped(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``lynkr ARGS`` with stdout and stderr pipes; COLUMNS=80 unless ``env`` says otherwise."""
    return subprocess.run(
        [*LYNKR, *args],
        cwd=cwd,
        env=_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def on_terminal(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, columns: int = 80
) -> tuple[int, str]:
    """``lynkr ARGS`` with stdout, stderr and stdin on a pty ``columns`` wide: (code, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full_env = _env(env)
    full_env.pop("COLUMNS")  # the terminal's own width decides
    full_env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [*LYNKR, *args], cwd=cwd, env=full_env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def tsv(stdout: str, header: list[str]) -> list[list[str]]:
    """The rows of a piped table, after checking its header and that every row is whole."""
    lines = stdout.splitlines()
    assert lines, "no output"
    assert lines[0].split("\t") == header, lines[0]
    rows = [line.split("\t") for line in lines[1:]]
    for row in rows:
        assert len(row) == len(header), row
    return rows
