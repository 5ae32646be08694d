"""The server-side tool loop against a scripted model on a real 127.0.0.1 server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.registry import ToolSpec
from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.serve.tools.loop import run_loop, should_offer
from lynkr_cli.serve.tools.toolbox import Toolbox, registry_toolbox
from lynkr_cli.settings import Settings, get_settings
from tests.tools.scripted import ScriptedModel, accumulate, tool_results

pytestmark = pytest.mark.timeout(60)
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "What is in notes.txt?"}]}  # fmt: skip


def call(name: str, args: dict[str, Any], n: int = 1) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{name}_{n}", "name": name, "input": args}


def settings_for(root: Path, **extra: Any) -> Settings:
    return get_settings({"gateway.workspace_root": str(root), **extra})


async def run(model: ScriptedModel, settings: Settings, box: Toolbox | None = None,
              body: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    if box is None:
        box = registry_toolbox(settings, ToolContext(settings, settings.gateway.workspace_root))  # type: ignore[arg-type]
    await model.start()
    try:
        return [e async for e in run_loop(body or BODY, model.call_upstream, settings, toolbox=box)]
    finally:
        await model.stop()


async def test_read_file_round_trip(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("the launch code is banana\n")
    look = call("lynkr_read_file", {"path": "notes.txt"})
    model = ScriptedModel([
        lambda b: [{"type": "text", "text": "Let me look."}, look],
        lambda b: [{"type": "text", "text": "File says: " + tool_results(b)[0]["content"]}],
    ])  # fmt: skip
    events = await run(model, settings_for(tmp_path))
    message = accumulate(events)
    assert [b["type"] for b in message["content"]] == ["text", "text"]
    assert "banana" in message["content"][1]["text"]
    assert message["stop_reason"] == "end_turn"
    # usage summed over the two upstream calls (100+101 in, 10+11 out)
    assert message["usage"]["input_tokens"] == 201
    assert message["usage"]["output_tokens"] == 21
    first, second = model.bodies
    assert "lynkr_read_file" in {t["name"] for t in first["tools"]}
    assistant, _user = second["messages"][-2:]
    assert assistant["role"] == "assistant"
    used = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert used == [call("lynkr_read_file", {"path": "notes.txt"})]
    result = tool_results(second)[0]
    assert result["tool_use_id"] == used[0]["id"] and not result.get("is_error")


async def test_tool_error_becomes_is_error_result(tmp_path: Path) -> None:
    model = ScriptedModel([
        lambda b: [call("lynkr_read_file", {"path": "../../etc/passwd"})],
        lambda b: [{"type": "text", "text": "Could not read it."}],
    ])  # fmt: skip
    events = await run(model, settings_for(tmp_path))
    result = tool_results(model.bodies[1])[0]
    assert result["is_error"] is True
    assert "outside the workspace" in result["content"]
    assert "root:" not in result["content"]
    assert accumulate(events)["content"][0]["text"] == "Could not read it."


async def test_client_never_sees_server_tool_use(tmp_path: Path) -> None:
    model = ScriptedModel([
        lambda b: [call("lynkr_list_files", {})],
        lambda b: [call("lynkr_search", {"pattern": "x"}, 2)],
        lambda b: [{"type": "text", "text": "done"}],
    ])  # fmt: skip
    events = await run(model, settings_for(tmp_path))
    assert not [e for e in events if "tool_use" in json.dumps(e.get("content_block", {}))]
    assert [e["type"] for e in events].count("message_start") == 1
    assert len(model.bodies) == 3


async def test_max_steps_ends_turn_with_explanation(tmp_path: Path) -> None:
    model = ScriptedModel([lambda b: [call("lynkr_list_files", {}, len(b["messages"]))]])
    events = await run(model, settings_for(tmp_path, **{"gateway.max_steps": 2}))
    message = accumulate(events)
    assert len(model.bodies) == 2
    assert message["stop_reason"] == "end_turn"
    assert "max_steps" in message["content"][-1]["text"]


async def test_max_tool_calls_ends_turn(tmp_path: Path) -> None:
    calls = [call("lynkr_list_files", {}, n) for n in range(3)]
    model = ScriptedModel([lambda b: calls])
    events = await run(model, settings_for(tmp_path, **{"gateway.max_tool_calls": 2}))
    message = accumulate(events)
    assert len(model.bodies) == 1
    assert "max_tool_calls" in message["content"][-1]["text"]


def slow_tool(seconds: float) -> ToolSpec:
    async def run(args: dict[str, Any], ctx: ToolContext) -> str:
        await asyncio.sleep(seconds)
        return "slow result"

    return ToolSpec("slow", "sleeps", {"type": "object", "properties": {}}, "read", run)


async def test_pings_while_tools_run(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **{"server.ping_interval": 0.05})
    box = Toolbox(ToolContext(settings, tmp_path), specs={"slow": slow_tool(0.4)})
    echo = lambda b: [{"type": "text", "text": tool_results(b)[0]["content"]}]  # noqa: E731
    model = ScriptedModel([lambda b: [call("slow", {})], echo])
    events = await run(model, settings, box)
    types = [e["type"] for e in events]
    assert "ping" in types
    assert accumulate(events)["content"][0]["text"] == "slow result"


async def test_tool_timeout_is_error(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **{"gateway.tool_timeout": 0.1})
    box = Toolbox(ToolContext(settings, tmp_path), specs={"slow": slow_tool(30)})
    model = ScriptedModel(
        [lambda b: [call("slow", {})], lambda b: [{"type": "text", "text": "ok"}]]
    )
    await run(model, settings, box)
    result = tool_results(model.bodies[1])[0]
    assert result["is_error"] and "timed out" in result["content"]


async def test_invalid_tool_json_and_unknown_tool(tmp_path: Path) -> None:
    bad = {
        "type": "tool_use",
        "id": "toolu_bad",
        "name": "lynkr_read_file",
        "raw_input": '{"path": ',
    }
    model = ScriptedModel([lambda b: [bad, call("no_such_tool", {})],
                           lambda b: [{"type": "text", "text": "ok"}]])  # fmt: skip
    await run(model, settings_for(tmp_path))
    results = tool_results(model.bodies[1])
    assert [r["is_error"] for r in results] == [True, True]
    assert "not valid JSON" in results[0]["content"]
    assert "no such tool" in results[1]["content"]


async def test_secret_shaped_output_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text('KEY = "sk-abcdefghijklmnopqrstuvwx"\n')
    model = ScriptedModel([lambda b: [call("lynkr_read_file", {"path": "config.py"})],
                           lambda b: [{"type": "text", "text": "ok"}]])  # fmt: skip
    await run(model, settings_for(tmp_path))
    content = tool_results(model.bodies[1])[0]["content"]
    assert "sk-abcdefghijklmnopqrstuvwx" not in content and "****" in content


async def test_always_mode_keeps_client_tools(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **{"gateway.tools_mode": "always"})
    body = {**BODY, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
    model = ScriptedModel([lambda b: [call("Read", {"file_path": "x"})]])
    events = await run(model, settings, body=body)
    message = accumulate(events)
    assert message["stop_reason"] == "tool_use"
    assert [b["name"] for b in message["content"]] == ["Read"]
    names = {t["name"] for t in model.bodies[0]["tools"]}
    assert "Read" in names and "lynkr_read_file" in names


def test_should_offer_modes(tmp_path: Path) -> None:
    with_tools = {**BODY, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
    auto = settings_for(tmp_path)
    assert should_offer(BODY, auto) and not should_offer(with_tools, auto)
    never = settings_for(tmp_path, **{"gateway.tools_mode": "never"})
    assert not should_offer(BODY, never)
    always = settings_for(tmp_path, **{"gateway.tools_mode": "always"})
    assert should_offer(with_tools, always)


async def test_passthrough_when_client_sends_tools(tmp_path: Path) -> None:
    body = {**BODY, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
    model = ScriptedModel([lambda b: [{"type": "text", "text": "hi"}]])
    await run(model, settings_for(tmp_path), body=body)
    assert [t["name"] for t in model.bodies[0]["tools"]] == ["Read"]


async def test_mixed_client_and_server_calls_go_to_client(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **{"gateway.tools_mode": "always"})
    body = {**BODY, "tools": [{"name": "Read", "input_schema": {"type": "object"}}]}
    model = ScriptedModel([lambda b: [call("lynkr_list_files", {}), call("Read", {"f": "x"})]])
    events = await run(model, settings, body=body)
    message = accumulate(events)
    # The client gets only what it can execute; the server call is dropped, not half-run.
    assert [b["name"] for b in message["content"]] == ["Read"]
    assert message["stop_reason"] == "tool_use"
    assert len(model.bodies) == 1


async def test_upstream_error_event_is_forwarded(tmp_path: Path) -> None:
    async def failing(body: dict[str, Any]) -> Any:
        yield {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

    settings = settings_for(tmp_path)
    box = Toolbox(ToolContext(settings, tmp_path))
    events = [e async for e in run_loop(BODY, failing, settings, toolbox=box)]
    assert events == [
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    ]


def test_auto_mode_leaves_tool_free_requests_alone(tmp_path: Path) -> None:
    auto = settings_for(tmp_path)
    title = {**BODY, "output_config": {"format": {"type": "json_schema", "schema": {}}}}
    none = {**BODY, "tool_choice": {"type": "none"}}
    claude_code = {
        **BODY,
        "system": [
            {
                "type": "text",
                "text": "x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=cli;",
            }
        ],
    }
    plain_system = {**BODY, "system": "You are terse."}
    assert not should_offer(title, auto)
    assert not should_offer(none, auto)
    assert not should_offer(claude_code, auto)
    assert should_offer(plain_system, auto)
    assert should_offer(claude_code, settings_for(tmp_path, **{"gateway.tools_mode": "always"}))


async def test_cut_off_server_call_is_dropped_not_run(tmp_path: Path) -> None:
    cut = {"type": "_stop", "reason": "max_tokens"}
    model = ScriptedModel(
        [lambda b: [{"type": "text", "text": "Let me"}, call("lynkr_list_files", {}), cut]]
    )
    events = await run(model, settings_for(tmp_path))
    message = accumulate(events)
    assert [b["type"] for b in message["content"]] == ["text"]
    assert message["stop_reason"] == "max_tokens"
    assert len(model.bodies) == 1


async def test_thinking_blocks_round_trip_with_signature(tmp_path: Path) -> None:
    thought = {"type": "thinking", "thinking": "I should list files.", "signature": "sig-abc"}
    model = ScriptedModel([
        lambda b: [thought, call("lynkr_list_files", {})],
        lambda b: [{"type": "text", "text": "done"}],
    ])  # fmt: skip
    events = await run(model, settings_for(tmp_path))
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "text"]
    assistant = model.bodies[1]["messages"][-2]
    assert assistant["content"][0] == thought
    assert assistant["content"][1]["type"] == "tool_use"
