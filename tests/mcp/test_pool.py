"""MCP servers in the gateway: first use, crash → restart, stderr → log, failures isolated."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import logs
from lynkr_cli.mcp import pool
from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.serve.tools.loop import run_loop
from lynkr_cli.serve.tools.toolbox import build_toolbox
from lynkr_cli.settings import get_settings
from tests.tools.scripted import ScriptedModel, accumulate, tool_results

pytestmark = pytest.mark.timeout(90)


def settings_with(workdir: Path, servers: dict[str, Any]) -> Any:
    (workdir / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    return get_settings({"gateway.workspace_root": str(workdir)})


async def test_crash_restarts_with_backoff(home: Path, workdir: Path, crashy: Any) -> None:
    p = pool.McpPool(settings_with(workdir, {"c": crashy}), workdir)
    try:
        text, is_error = await p.call("c", "hello", {"name": "a"})
        assert not is_error and text.startswith("hello a from pid")
        first_pid = text.rsplit(" ", 1)[1]
        text, is_error = await p.call("c", "die", {})
        assert is_error  # the model is told; the gateway keeps going
        text, is_error = await p.call("c", "hello", {"name": "b"})
        assert not is_error, text
        assert text.rsplit(" ", 1)[1] != first_pid
        (row,) = p.status()
        assert row["restarts"] >= 1 and row["state"] == "up"
    finally:
        await p.close()
    assert p.servers["c"].state == "stopped"


async def test_stderr_goes_to_structured_log(home: Path, workdir: Path, crashy: Any) -> None:
    import structlog

    stream = io.StringIO()
    logs.configure("info", stream=stream)
    p = pool.McpPool(settings_with(workdir, {"c": crashy}), workdir)
    try:
        await p.list_tools()
    finally:
        await p.close()
        structlog.reset_defaults()
    records = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    stderr = [r for r in records if r.get("event") == "mcp.stderr"]
    assert any(r["line"] == "crashy starting up" and r["server"] == "c" for r in stderr)
    assert any(r.get("event") == "mcp.up" for r in records)


async def test_failing_server_is_isolated(home: Path, workdir: Path, time_server: Any) -> None:
    broken = {"command": str(workdir / "missing-bin")}
    settings = settings_with(workdir, {"time": time_server, "broken": broken})
    box = await build_toolbox(settings, ToolContext(settings, workdir.resolve()))
    try:
        assert "mcp__time__get_current_time" in box.names()
        assert not any(n.startswith("mcp__broken__") for n in box.names())
        status = {row["name"]: row for row in pool.get_pool(settings).status()}
        for _ in range(100):  # its start may still be running on a loaded machine (bounded)
            if status["broken"]["state"] != "starting":
                break
            await asyncio.sleep(0.1)
            status = {row["name"]: row for row in pool.get_pool(settings).status()}
        assert status["broken"]["state"] in ("backoff", "failed")
        assert "could not start" in status["broken"]["error"]
        _text, is_error = await box.run("mcp__broken__anything", {}, 5)
        assert is_error
    finally:
        await pool.shutdown()


async def test_model_calls_mcp_tool_through_loop(
    home: Path, workdir: Path, time_server: Any
) -> None:
    settings = settings_with(workdir, {"time": time_server})
    call = {"type": "tool_use", "id": "toolu_t", "name": "mcp__time__get_current_time",
            "input": {"timezone": "Etc/UTC"}}  # fmt: skip
    model = await ScriptedModel([
        lambda b: [call],
        lambda b: [{"type": "text", "text": "It is " + tool_results(b)[0]["content"]}],
    ]).start()  # fmt: skip
    body = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "time?"}]}
    try:
        events = [e async for e in run_loop(body, model.call_upstream, settings)]
    finally:
        await model.stop()
        await pool.shutdown()
    offered = {t["name"]: t for t in model.bodies[0]["tools"]}
    assert offered["mcp__time__get_current_time"]["input_schema"]["required"] == ["timezone"]
    assert "lynkr_read_file" in offered
    assert '"timezone": "Etc/UTC"' in accumulate(events)["content"][0]["text"]


async def test_servers_start_on_first_use_and_stay_up(
    home: Path, workdir: Path, crashy: Any
) -> None:
    settings = settings_with(workdir, {"c": crashy})
    p = pool.get_pool(settings, workdir)
    try:
        assert p.servers == {} or all(s.state == "stopped" for s in p.servers.values())
        one, _ = await p.call("c", "hello", {"name": "x"})
        two, _ = await p.call("c", "hello", {"name": "y"})
        assert one.rsplit(" ", 1)[1] == two.rsplit(" ", 1)[1]  # same process: it stayed up
        assert pool.get_pool(settings, workdir) is p
    finally:
        await pool.shutdown()


async def test_call_timeout_and_env_isolation(
    home: Path, workdir: Path, everything: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-gateway-secret-0123456789")
    (workdir / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"ev": {"command": str(everything), "args": ["stdio"]}}})
    )
    settings = get_settings({"gateway.workspace_root": str(workdir), "mcp.call_timeout": 0.5})
    p = pool.McpPool(settings, workdir)
    try:
        args = {"duration": 10, "steps": 2}
        text, is_error = await p.call("ev", "trigger-long-running-operation", args)
        assert is_error and "timed out after 0.5s" in text
        text, is_error = await p.call("ev", "echo", {"message": "still alive"})
        assert not is_error and "still alive" in text
        text, _ = await p.call("ev", "get-env", {})
        assert "PATH" in text and "sk-gateway-secret" not in text
    finally:
        await p.close()


async def test_health_ping_restarts_a_killed_server(home: Path, workdir: Path, crashy: Any) -> None:
    import asyncio
    import os
    import signal

    (workdir / ".mcp.json").write_text(json.dumps({"mcpServers": {"c": crashy}}))
    settings = get_settings({"gateway.workspace_root": str(workdir), "mcp.health_interval": 0.2})
    p = pool.McpPool(settings, workdir)
    try:
        text, _ = await p.call("c", "hello", {"name": "a"})
        pid = int(text.rsplit(" ", 1)[1])
        os.kill(pid, signal.SIGKILL)  # dies behind the pool's back: no call notices
        for _ in range(600):  # bounded: up to ~60 s
            if p.servers["c"].restarts >= 1 and p.servers["c"].state == "up":
                break
            await asyncio.sleep(0.1)
        assert p.servers["c"].restarts >= 1 and p.servers["c"].state == "up"
        text, is_error = await p.call("c", "hello", {"name": "b"})
        assert not is_error and int(text.rsplit(" ", 1)[1]) != pid
    finally:
        await p.close()


async def test_an_unknown_tool_is_the_models_error_and_keeps_the_server(
    home: Path, workdir: Path, time_server: Any
) -> None:
    p = pool.McpPool(settings_with(workdir, {"time": time_server}), workdir)
    try:
        text, is_error = await p.call("time", "no_such_tool", {})
        assert is_error and "Unknown tool: no_such_tool" in text
        text, is_error = await p.call("time", "get_current_time", {"timezone": "Etc/UTC"})
        assert not is_error, text
        (row,) = p.status()
        assert row["restarts"] == 0 and row["state"] == "up"  # not treated as a crash
    finally:
        await p.close()
