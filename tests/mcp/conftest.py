"""Real MCP servers for the tests: mcp-server-time (PyPI), server-everything (npm), and a
tiny SDK-built server that can crash on demand and writes to stderr."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require, tool_path

ROOT = Path(__file__).resolve().parents[2]
TIME_SERVER = ROOT / ".venv" / "bin" / "mcp-server-time"

# A real MCP server on the official SDK: "die" kills the process (a crash), stderr talks.
CRASHY = '''
import os, sys
from mcp.server.mcpserver import MCPServer

print("crashy starting up", file=sys.stderr, flush=True)
app = MCPServer("crashy")

@app.tool()
def hello(name: str) -> str:
    """Say hello."""
    return f"hello {name} from pid {os.getpid()}"

@app.tool()
def die() -> str:
    """Exit the process abruptly."""
    os._exit(3)

app.run()
'''


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME (and XDG config) in tmp, so no real ~/.claude.json is read."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("APPDATA", raising=False)
    return home


@pytest.fixture
def time_server() -> dict[str, object]:
    require(TIME_SERVER.exists(), "mcp-server-time not installed in .venv (pip install -e .[dev])")
    return {"command": str(TIME_SERVER), "args": []}


@pytest.fixture
def everything() -> Path:
    path = tool_path("mcp-server-everything")
    require(path is not None, "mcp-server-everything not installed; run scripts/test-deps.sh")
    assert path is not None
    return path


@pytest.fixture
def crashy(tmp_path: Path) -> dict[str, object]:
    script = tmp_path / "crashy.py"
    script.write_text(CRASHY)
    return {"command": sys.executable, "args": [str(script)]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def everything_http(everything: Path) -> Iterator[str]:
    """server-everything in streamable HTTP mode on a free port; yields its /mcp URL."""
    yield from _http_server(everything, "streamableHttp", "/mcp")


@pytest.fixture
def everything_sse(everything: Path) -> Iterator[str]:
    yield from _http_server(everything, "sse", "/sse")


def _http_server(binary: Path, mode: str, path: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    proc = subprocess.Popen([str(binary), mode], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, f"server-everything {mode} exited early"
                time.sleep(0.1)
        else:
            pytest.fail(f"server-everything {mode} did not listen within 30s")
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
