"""The round trip through real programs: lynkr writes, `lynkr mcp` and Claude Code read.

- `lynkr switch mcp add` + `lynkr switch PROFILE`, then `lynkr mcp list` shows the server
  from the written ~/.claude.json and `lynkr mcp tools` starts the real `mcp-server-time`
  (installed from PyPI by the dev extra) and lists its tools;
- the real Claude Code CLI's `claude mcp list`, with HOME set to the temporary home and
  the offline environment of protocol.md §8, connects to it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require, tool_path

LYNKR = ROOT / ".venv" / "bin" / "lynkr"
TIME_SERVER = ROOT / ".venv" / "bin" / "mcp-server-time"
OFFLINE = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "CLAUDE_CODE_MAX_RETRIES": "0",
}


@pytest.fixture
def time_server(invoke, home: Path, xdg: Path) -> Path:
    require(TIME_SERVER.exists(), "mcp-server-time not installed in .venv (pip install -e .[dev])")
    added = invoke(
        "switch", "add", "work", "--base-url", "http://127.0.0.1:9", "--key", "sk-e2e-0000000000"
    )
    assert added.exit_code == 0, added.stderr
    result = invoke(
        "switch", "mcp", "add", "time", "--", str(TIME_SERVER), "--local-timezone", "UTC"
    )
    assert result.exit_code == 0, result.stderr
    switched = invoke("switch", "work")
    assert switched.exit_code == 0, switched.stderr
    return home / ".claude.json"


def _run(argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE, **extra}
    return subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=Path.cwd(), timeout=120, check=False
    )


def test_lynkr_mcp_lists_and_reaches_the_written_server(time_server: Path, invoke) -> None:
    listed = invoke("mcp", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    servers = {s["name"]: s for s in json.loads(listed.stdout)["servers"]}
    assert servers["time"]["source"] == f"user {time_server}"
    assert servers["time"]["command"] == str(TIME_SERVER)
    tools = _run([str(LYNKR), "mcp", "tools", "time", "--json"])
    assert tools.returncode == 0, tools.stderr
    [entry] = json.loads(tools.stdout)["servers"]
    names = {tool["name"] for tool in entry["tools"]}
    assert {"get_current_time", "convert_time"} <= names
    called = _run(
        [str(LYNKR), "mcp", "call", "time", "get_current_time", '{"timezone": "UTC"}', "--json"]
    )
    assert called.returncode == 0, called.stderr
    assert '"timezone": "UTC"' in json.loads(called.stdout)["text"]


def test_the_real_claude_code_cli_sees_the_server(time_server: Path, home: Path) -> None:
    claude = tool_path("claude")
    require(claude is not None, "Claude Code CLI not installed (bash scripts/test-deps.sh)")
    proc = _run([str(claude), "mcp", "list"], HOME=str(home))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("time:")), "")
    assert str(TIME_SERVER) in line, proc.stdout
    assert "Connected" in line, proc.stdout  # Claude Code started it and spoke MCP
    got = _run([str(claude), "mcp", "get", "time"], HOME=str(home))
    assert "Scope: User config" in got.stdout, got.stdout
