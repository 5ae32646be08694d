"""Doctor against real things on this machine: a gateway (or none), upstreams, git, index,
MCP servers, the cache directory and Docker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from tests.conftest import ROOT, require, tool_path
from tests.gitrepo import make_repo
from tests.switch.helpers import serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _ready(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "provider": "anthropic"})


async def _not_ready(request: web.Request) -> web.Response:
    return web.json_response({"status": "unavailable", "problem": "no key"}, status=503)


def test_gateway_answering_ready(doctor, monkeypatch) -> None:
    # A small real aiohttp server standing in for the gateway's health route; the
    # next test runs the real `lynkr serve`.
    with serve({("GET", "/health/ready"): _ready}) as server:
        monkeypatch.setenv("LYNKR_PORT", str(server["port"]))
        code, checks, _ = doctor("--only", "gateway")
    assert code == 0
    assert checks["gateway"]["status"] == "ok"
    assert "ready" in checks["gateway"]["summary"]


def test_gateway_not_ready_is_a_warning(doctor, monkeypatch) -> None:
    with serve({("GET", "/health/ready"): _not_ready}) as server:
        monkeypatch.setenv("LYNKR_PORT", str(server["port"]))
        code, checks, _ = doctor("--only", "gateway")
        strict, _, _ = doctor("--only", "gateway", "--strict")
    assert (code, strict) == (0, 1)
    assert (
        checks["gateway"]["status"] == "warn" and "no key" in checks["gateway"]["details"]["body"]
    )


def test_port_held_by_something_else_fails(doctor, monkeypatch) -> None:
    async def other(request: web.Request) -> web.Response:
        return web.Response(status=404, text="not here")

    with serve({("GET", "/"): other}) as server:
        monkeypatch.setenv("LYNKR_PORT", str(server["port"]))
        code, checks, _ = doctor("--only", "gateway")
    assert code == 1
    assert (
        "not as lynkr" in checks["gateway"]["summary"] and "LYNKR_PORT" in checks["gateway"]["fix"]
    )


def test_port_held_by_a_silent_listener_fails(doctor, monkeypatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        monkeypatch.setenv("LYNKR_PORT", str(sock.getsockname()[1]))
        code, checks, _ = doctor("--only", "gateway", "--timeout", "0.5")
    assert code == 1
    assert "does not answer HTTP" in checks["gateway"]["summary"]


def test_no_gateway_and_a_free_port_is_fine(doctor, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PORT", str(free_port()))
    code, checks, _ = doctor("--only", "gateway")
    assert code == 0 and "is free" in checks["gateway"]["summary"]


def test_no_gateway_while_claude_points_at_it_fails(doctor, home: Path, monkeypatch) -> None:
    port = free_port()
    monkeypatch.setenv("LYNKR_PORT", str(port))
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}})
    )
    code, checks, _ = doctor("--only", "gateway", "--only", "claude-target")
    assert code == 1
    assert checks["gateway"]["status"] == "fail" and "lynkr serve" in checks["gateway"]["fix"]
    assert checks["claude-target"]["status"] == "fail"
    assert checks["claude-target"]["details"]["stage"] == "connect"


def test_real_lynkr_serve(doctor, home: Path, monkeypatch, tmp_path: Path) -> None:
    """Start the real gateway (anthropic provider -> a local upstream) and ask doctor."""

    async def upstream(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    port = free_port()
    with serve({("GET", "/v1/messages"): upstream, ("POST", "/v1/messages"): upstream}) as up:
        env = {
            **os.environ,
            "HOME": str(home),
            "LYNKR_PROVIDER": "anthropic",
            "ANTHROPIC_ENDPOINT": f"{up['url']}/v1/messages",
            "ANTHROPIC_API_KEY": "sk-upstream-key-000000000",
            "LYNKR_PORT": str(port),
        }
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "lynkr"), "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            ready = _wait_ready(port, proc)
            require(
                ready,
                f"`lynkr serve` did not get ready: {(tmp_path / 'serve.log').read_text()[-500:]}",
            )
            monkeypatch.setenv("LYNKR_PORT", str(port))
            code, checks, _ = doctor("--only", "gateway", "--deep")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    assert checks["gateway"]["status"] == "ok", checks["gateway"]
    assert code == 0


def _wait_ready(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.2)
    return False


# --------------------------------------------------------------------------- upstream


def test_upstream_reachable_with_latency(doctor, monkeypatch) -> None:
    async def root(request: web.Request) -> web.Response:
        return web.Response(status=405)

    with serve({("GET", "/v1/messages"): root}) as up:
        monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
        monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"{up['url']}/v1/messages")
        _, checks, _ = doctor("--only", "upstream")
    result = checks["upstream"]
    assert result["status"] == "ok", result
    assert result["details"]["http_status"] == 405 and result["details"]["ttfb_ms"] >= 0


def test_upstream_unreachable_and_unresolvable(doctor, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"http://127.0.0.1:{free_port()}/v1/messages")
    code, checks, _ = doctor("--only", "upstream")
    assert code == 1 and checks["upstream"]["details"]["stage"] == "connect"
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", "https://no-such-host.invalid/v1/messages")
    code, checks, _ = doctor("--only", "upstream")
    assert code == 1 and checks["upstream"]["details"]["stage"] in ("dns", "timeout")
    assert checks["upstream"]["fix"]


# --------------------------------------------------------------------------- git / index


@pytest.fixture
def repo(home: Path) -> Path:
    require(tool_path("git") is not None, "git not installed")
    return make_repo(Path.cwd(), {"app.py": "def hello():\n    return 1\n"})


def test_git_state_and_policy(doctor, repo: Path, monkeypatch) -> None:
    (repo / "new.txt").write_text("x")
    _, checks, _ = doctor("--only", "git")
    assert checks["git"]["status"] == "ok"
    assert "on main, 1 changed files" in checks["git"]["summary"]
    assert checks["git-policy"]["status"] == "ok"
    monkeypatch.setenv("POLICY_GIT_ALLOW_FORCE_PUSH", "true")
    _, checks, _ = doctor("--only", "git-policy")
    assert checks["git-policy"]["status"] == "warn"
    assert "POLICY_GIT_ALLOW_FORCE_PUSH" in checks["git-policy"]["fix"]


def test_not_a_repository_skips(doctor, home: Path) -> None:
    _, checks, _ = doctor("--only", "git", "--only", "index")
    assert checks["git"]["status"] == "skip" and checks["index"]["status"] == "skip"


def test_index_missing_fresh_and_stale(doctor, repo: Path) -> None:
    _, checks, _ = doctor("--only", "index")
    assert checks["index"]["status"] == "warn" and "lynkr index" in checks["index"]["fix"]
    api = pytest.importorskip("lynkr_cli.index.api")
    api.ensure_index(repo)
    _, checks, _ = doctor("--only", "index")
    assert checks["index"]["status"] == "ok", checks["index"]
    assert "1 file indexed" in checks["index"]["summary"]
    (repo / "app.py").write_text("def hello():\n    return 2  # changed\n")
    _, checks, _ = doctor("--only", "index")
    assert checks["index"]["status"] == "warn" and "stale" in checks["index"]["summary"]


def test_grammar_wheels_present(doctor, home: Path) -> None:
    _, checks, _ = doctor("--only", "grammars")
    assert checks["grammars"]["status"] == "ok"
    assert "tree-sitter-python" in checks["grammars"]["details"]["found"]


# --------------------------------------------------------------------------- MCP / docker / cache


def _mcp_json(servers: dict[str, object]) -> None:
    (Path.cwd() / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_mcp_manifests_found_and_started_with_deep(doctor, home: Path) -> None:
    server = Path(sys.executable).parent / "mcp-server-time"
    require(server.exists(), "mcp-server-time not installed in .venv (dev extra)")
    _mcp_json(
        {
            "time": {"command": str(server), "args": []},
            "broken": {"command": "/nonexistent/mcp-server"},
        }
    )
    _, checks, _ = doctor("--only", "mcp")
    assert "time" in checks["mcp"]["summary"] and "broken" in checks["mcp"]["summary"]
    assert "mcp:time" not in checks  # servers start only with --deep
    code, checks, _ = doctor("--only", "mcp", "--deep")
    assert code == 1
    assert checks["mcp:time"]["status"] == "ok" and "tools" in checks["mcp:time"]["summary"]
    assert checks["mcp:broken"]["status"] == "fail"
    assert "lynkr mcp start broken" in checks["mcp:broken"]["fix"]


def test_docker_checked_only_when_a_sandbox_is_configured(doctor, home: Path, monkeypatch) -> None:
    _, checks, _ = doctor("--only", "docker")
    assert checks["docker"]["status"] == "skip"
    _mcp_json({"boxed": {"command": "node", "sandbox": {"type": "docker", "image": "node:22"}}})
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # no docker client here
    code, checks, _ = doctor("--only", "docker")
    assert code == 1
    assert checks["docker"]["status"] == "fail" and "boxed" in checks["docker"]["summary"]


def test_cache_directory_writable_and_not(doctor, home: Path, monkeypatch, tmp_path: Path) -> None:
    _, checks, _ = doctor("--only", "cache")
    assert checks["cache"]["status"] == "ok" and "writable" in checks["cache"]["summary"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LYNKR_CACHE_DIR", str(blocker / "cache"))  # parent is a file
    code, checks, _ = doctor("--only", "cache")
    assert code == 1 and checks["cache"]["status"] == "fail"
    assert "LYNKR_CACHE_DIR" in checks["cache"]["fix"]
