"""``lynkr serve`` / ``lynkr start`` as a user runs them: flags, refusals, a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from tests.serve import fakes
from tests.serve.conftest import FAMILIES


def test_non_loopback_bind_refuses_without_insecure(invoke) -> None:
    result = invoke("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "--insecure" in result.stderr and "LYNKR_API_KEY" in result.stderr
    assert result.stdout == ""


def test_gateway_pointed_at_itself_refuses_to_start(invoke, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", "http://localhost:8123/v1/messages")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    result = invoke("start", "--provider", "anthropic", "--port", "8123")
    assert result.exit_code == 3
    assert "is this gateway itself" in result.stderr
    assert "ANTHROPIC_BASE_URL" in result.stderr


def test_unknown_provider_exits_2_with_the_choices(invoke, monkeypatch) -> None:
    result = invoke("serve", "--provider", "bogus", "--port", "0")
    assert result.exit_code == 2
    assert "unknown provider 'bogus' (from --provider)" in result.stderr
    assert "azure-anthropic" in result.stderr and "databricks" in result.stderr
    monkeypatch.setenv("PROVIDER", "azure_antropic")  # a typo, from Lynkr's variable
    result = invoke("serve", "--port", "0")
    assert result.exit_code == 2 and "(from PROVIDER)" in result.stderr


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        (
            {"DATABRICKS_API_BASE": "adb-1.azuredatabricks.net", "DATABRICKS_API_KEY": "dapi1"},
            "DATABRICKS_API_BASE",
        ),
        ({"OPENAI_ENDPOINT": "localhost:8000/v1/chat/completions"}, "OPENAI_ENDPOINT"),
        (
            {"ANTHROPIC_ENDPOINT": "anthropic.example/v1/messages", "ANTHROPIC_API_KEY": "k"},
            "ANTHROPIC_ENDPOINT",
        ),
    ],
)
def test_invalid_upstream_url_exits_3_naming_the_setting(invoke, monkeypatch, env, setting) -> None:
    provider = {"DATABRICKS_API_BASE": "databricks", "OPENAI_ENDPOINT": "openai"}.get(
        next(iter(env)), "anthropic"
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = invoke("serve", "--provider", provider, "--port", "0")
    assert result.exit_code == 3, result.stderr
    assert f"({setting}) is not a valid URL" in result.stderr
    assert "hint:" in result.stderr and setting in result.stderr.split("hint:")[1]


def test_start_is_an_alias_with_the_same_options(invoke) -> None:
    serve = invoke("serve", "--help")
    start = invoke("start", "--help")
    assert serve.exit_code == start.exit_code == 0
    for flag in ("--host", "--port", "--provider", "--insecure", "--model-map", "--fallback"):
        assert flag in serve.stdout and flag in start.stdout


async def spawn(
    *args: str, env: dict[str, str] | None = None
) -> tuple[asyncio.subprocess.Process, str]:
    """Start ``lynkr serve`` on a free port; return the process and its base URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lynkr_cli",
        "serve",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode().strip()
    assert line.startswith("export ANTHROPIC_BASE_URL=http://127.0.0.1:"), line
    return proc, line.split("=", 1)[1]


@pytest.fixture
async def processes() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    procs: list[asyncio.subprocess.Process] = []
    yield procs
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_make_run_without_provider_starts_and_explains(processes) -> None:
    proc, url = await spawn()
    processes.append(proc)
    body = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        assert (await http.head("/")).status_code == 200
        for _ in range(2):  # every request, and the process stays up
            resp = await http.post("/v1/messages?beta=true", json=body)
            assert resp.status_code == 503
            message = resp.json()["error"]["message"]
            assert "LYNKR_PROVIDER" in message and "DATABRICKS_API_KEY" in message
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), timeout=15) == 0
    assert proc.stderr is not None
    stderr = (await proc.stderr.read()).decode()
    assert "no upstream provider configured" in stderr


async def test_sigterm_drains_in_flight_stream(fake, processes) -> None:
    started = asyncio.Event()

    async def slow(request: web.Request, body: dict) -> web.StreamResponse:
        events = fakes.text_events("drained answer", body["model"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(fakes.sse(events[0]))
        started.set()
        for event in events[1:]:
            await asyncio.sleep(0.1)
            await resp.write(fakes.sse(event))
        await resp.write_eof()
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=slow)
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "up-key",
        "ANTHROPIC_ENDPOINT": up.url + "/v1/messages",
        "LYNKR_GRACE_SECONDS": "10",
    }
    proc, url = await spawn(env=env)
    processes.append(proc)
    body = {
        "model": "claude-x",
        "max_tokens": 5,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        request = asyncio.create_task(http.post("/v1/messages", json=body))
        await asyncio.wait_for(started.wait(), timeout=10)
        proc.send_signal(signal.SIGTERM)
        resp = await request
    assert resp.status_code == 200
    assert resp.text.rstrip().endswith('data: {"type":"message_stop"}')
    assert await asyncio.wait_for(proc.wait(), timeout=15) == 0


def test_help_does_not_import_the_gateway() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from lynkr_cli.cli import main\n"
        "main(['serve', '--help'])\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'tree_sitter', 'mcp')]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "--provider" in out.stdout


def test_settle_heap_freezes_start_up_objects() -> None:
    """Full collections must not walk the start-up heap (~30 ms each: the p99 spike)."""
    import gc

    from lynkr_cli.serve import server

    threshold = gc.get_threshold()
    try:
        server.settle_heap()
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] == server.GC_GEN0_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
