"""The access log: one short human line per request on a terminal, JSON lines when piped."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(60)
BODY = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


def read_until(fd: int, pattern: str, seconds: float = 30) -> str:
    """What the terminal shows, until ``pattern`` appears (bounded)."""
    seen = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not re.search(pattern, seen):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536).decode(errors="replace")
            except OSError:
                break
    return seen


def test_on_a_terminal_each_request_is_one_human_line(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "LYNKR_CACHE": "false", "LYNKR_TOOLS_MODE": "never", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lynkr_cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip().split("=", 1)[1]
        httpx.post(url + "/v1/messages", json=BODY, timeout=10)  # no provider: a 503
        screen = read_until(master, r"POST /v1/messages")
    finally:
        proc.terminate()
        proc.wait(30)
        os.close(master)
    line = next(ln for ln in screen.splitlines() if "POST /v1/messages" in ln)
    assert re.match(r"\d\d:\d\d:\d\d  503  POST /v1/messages  claude-x  \d+ ms  cache bypass", line)
    assert "error: lynkr has no upstream provider configured" in line
    assert "{" not in line  # not JSON


def test_piped_the_access_log_stays_json(tmp_path: Path) -> None:
    env = {**os.environ, "LYNKR_CACHE": "false", "LYNKR_TOOLS_MODE": "never"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lynkr_cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip().split("=", 1)[1]
        httpx.post(url + "/v1/messages", json=BODY, timeout=10)
        time.sleep(0.3)  # the access log flushes within 50 ms
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    lines = [json.loads(ln) for ln in err.decode().splitlines() if ln.startswith("{")]
    assert any(d.get("logger") == "lynkr.access" and d["status"] == 503 for d in lines)
