"""Another program writing ~/.claude.json while lynkr does: detected, retried, never lost.

- at the worst moment (lynkr has read the file and computed its change), the real
  `claude mcp add` (or, without it, a writer doing what Claude Code does) edits the file:
  lynkr must notice, recompute on the new text, and keep both edits;
- a separate process rewriting the file in a loop while lynkr switches back and forth:
  every one of its keys must survive;
- Claude Code's own lock (`~/.claude.json.lock`, proper-lockfile) is honoured, and a stale
  one (a crashed Claude Code) is taken over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lynkr_cli.switch import files
from tests.conftest import ROOT, tool_path

TIME_SERVER = str(ROOT / ".venv" / "bin" / "mcp-server-time")
OFFLINE = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}

# What Claude Code does on every config save: take the lock when it can (else write
# anyway, as its fallback does), read, change, write a temporary file, rename it over.
WRITER = r"""
import json, os, sys, tempfile, time
path, count = sys.argv[1], int(sys.argv[2])
lock = path + ".lock"
for i in range(count):
    try:
        os.mkdir(lock)
        locked = True
    except FileExistsError:
        locked = False
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        data[f"writer-{i}"] = i
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        os.replace(tmp, path)
    finally:
        if locked:
            os.rmdir(lock)
    time.sleep(0.01)
"""


def _setup(invoke, home: Path) -> Path:
    path = home / ".claude.json"
    path.write_text(json.dumps({"numStartups": 1}, indent=2) + "\n")
    for name in ("one", "two"):
        result = invoke(
            "switch", "add", name, "--base-url", "http://127.0.0.1:9", "--key", "sk-c-0123456789"
        )
        assert result.exit_code == 0, result.stderr
    assert (
        invoke("switch", "mcp", "add", "time", "--profile", "one", "--", TIME_SERVER).exit_code == 0
    )
    assert invoke("switch", "mcp", "add", "clock", "--profile", "two", "--", "date").exit_code == 0
    return path


def _claude_mcp_add(home: Path, name: str) -> None:
    claude = tool_path("claude")
    if claude is not None:
        env = {**os.environ, **OFFLINE, "HOME": str(home)}
        argv = [str(claude), "mcp", "add", "--scope", "user", name, "--", "echo", "hi"]
        subprocess.run(argv, env=env, capture_output=True, timeout=120, check=True)
        return
    path = home / ".claude.json"  # no CLI here: do what it does
    data = json.loads(path.read_text())
    data.setdefault("mcpServers", {})[name] = {"type": "stdio", "command": "echo", "args": ["hi"]}
    tmp = path.with_name(".claude.json.writer")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def test_an_edit_between_read_and_write_is_kept(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _setup(invoke, home)
    calls: list[Path] = []

    def concurrent_edit(target: Path) -> None:
        if target == path and not calls:
            calls.append(target)
            _claude_mcp_add(home, "theirs")

    monkeypatch.setattr(files, "before_commit", concurrent_edit)
    result = invoke("switch", "one", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    [entry] = doc["files"]
    assert calls and entry["retries"] >= 1  # the change was seen and the write recomputed
    servers = json.loads(path.read_text())["mcpServers"]
    assert set(servers) == {"theirs", "time"}  # both edits are there
    # The backup holds what lynkr really replaced: the file with "theirs" in it.
    assert "theirs" in Path(entry["backup"]).read_text()


def test_a_file_that_never_settles_is_an_error_and_nothing_is_lost(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _setup(invoke, home)
    count = iter(range(1000))

    def always(target: Path) -> None:
        if target == path:
            data = json.loads(path.read_text())
            data[f"other-{next(count)}"] = True
            path.write_text(json.dumps(data))

    monkeypatch.setattr(files, "before_commit", always)
    result = invoke("switch", "one")
    assert result.exit_code == 3
    assert "kept changing while lynkr wrote it" in result.stderr
    data = json.loads(path.read_text())
    assert all(f"other-{i}" in data for i in range(files.ATTEMPTS))
    assert "mcpServers" not in data
    assert not [p for p in home.iterdir() if p.name.startswith(".claude.json.")]


def test_a_concurrent_writer_process_loses_nothing(invoke, home: Path) -> None:
    path = _setup(invoke, home)
    rounds = 150
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(rounds)])
    try:
        switches = 0
        while writer.poll() is None and switches < 200:
            result = invoke("switch", "one" if switches % 2 == 0 else "two")
            assert result.exit_code == 0, result.stderr
            switches += 1
        assert writer.wait(timeout=120) == 0
    finally:
        writer.kill()
    data = json.loads(path.read_text())
    missing = [i for i in range(rounds) if f"writer-{i}" not in data]
    assert missing == [], f"lost writer keys {missing} after {switches} switches"
    # Whatever the writer's own read-modify-write overwrote, the next switch restores.
    assert invoke("switch", "one").exit_code == 0
    assert set(json.loads(path.read_text())["mcpServers"]) == {"time"}
    assert all(f"writer-{i}" in json.loads(path.read_text()) for i in range(rounds))


def test_claude_codes_lock_is_waited_for(invoke, home: Path) -> None:
    path = _setup(invoke, home)
    before = path.read_bytes()
    lock = home / ".claude.json.lock"
    lock.mkdir()  # a running Claude Code holds it
    env = {**os.environ, "HOME": str(home)}
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "lynkr"), "switch", "one"],
        env=env,
        cwd=Path.cwd(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # While the lock is held, the settings file may change but ~/.claude.json must not.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and proc.poll() is None:
            assert path.read_bytes() == before
            time.sleep(0.05)
        assert proc.poll() is None, "lynkr did not wait for Claude Code's lock"
        lock.rmdir()  # Claude Code is done
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert "time" in json.loads(path.read_text())["mcpServers"]
    assert not lock.exists()


def test_a_stale_lock_is_taken_over(invoke, home: Path) -> None:
    path = _setup(invoke, home)
    lock = home / ".claude.json.lock"
    lock.mkdir()
    old = time.time() - files.LOCK_STALE - 5
    os.utime(lock, (old, old))  # left by a Claude Code that crashed
    result = invoke("switch", "one")
    assert result.exit_code == 0, result.stderr
    assert "time" in json.loads(path.read_text())["mcpServers"]
    assert not lock.exists()
