"""Capture what the real Claude Code CLI sends, for the routing tests.

A scripted Anthropic upstream on 127.0.0.1 records every request. Asked to "search the
web", it calls Claude Code's WebSearch tool, which makes the CLI send its own request
offering the ``web_search_20250305`` server tool; asked to "explore", it calls the Agent
tool with the Explore subagent, which runs on the haiku model. Everything else gets a
short text answer.

``python -m tests.routing.claude_capture`` rewrites the fixtures in
tests/fixtures/claude-code/ (``routing-*.json``) from a fresh run.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.serve import fakes

KEY = "sk-ant-client-placeholder"  # what tests/e2e/test_claude_code.run_claude sends
WEB_QUERY = "lynkr routing capture"


def _non_system(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body.get("messages") or [] if m.get("role") != "system"]


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(_non_system(body)):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return " ".join(
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _answered(body: dict[str, Any]) -> bool:
    last = _non_system(body)[-1:] or [{}]
    content = last[0].get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content
    )


def _tool_call(name: str, args: dict[str, Any], model: str) -> list[dict[str, Any]]:
    start = {**fakes.message("", model), "content": [], "stop_reason": None}
    block = {"type": "tool_use", "id": f"toolu_capture_{name}", "name": name, "input": {}}
    return [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": block},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": json.dumps(args)},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"input_tokens": 11, "output_tokens": 7},
        },
        {"type": "message_stop"},
    ]


def _events(body: dict[str, Any]) -> list[dict[str, Any]]:
    model = str(body.get("model"))
    tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    wants = _last_user_text(body).lower()
    if not _answered(body) and "please search the web" in wants and "WebSearch" in tools:
        return _tool_call("WebSearch", {"query": WEB_QUERY}, model)
    if not _answered(body) and "please explore" in wants and "Agent" in tools:
        args = {
            "subagent_type": "Explore",
            "description": "Find the README",
            "prompt": "Find the README file and say its name.",
        }
        return _tool_call("Agent", args, model)
    return fakes.text_events("captured", model)


async def scripted_model(request: web.Request, body: Any) -> web.StreamResponse:
    if request.path.endswith("/count_tokens"):
        return web.json_response({"input_tokens": 42})
    events = _events(body)
    if body.get("stream"):
        return await fakes.send_events(request, events)
    from lynkr_cli.serve.sse import Accumulator

    acc = Accumulator()
    for event in events:
        acc.add(event)
    return web.json_response(acc.message)


# The runs behind the fixtures: (stem, prompt, CLI arguments, which requests to keep).
RUNS = (
    # the main request on the haiku model: thinking enabled with a budget
    ("routing-haiku", "Say hi", ("--model", "claude-haiku-4-5-20251001"), (1,)),
    # the main request (untrimmed), then Claude Code's own web_search request
    ("routing-web-search", "Please search the web for lynkr", ("--allowedTools", "WebSearch"),
     (1, 2)),
    # the Explore subagent's request: haiku, thinking disabled, 17 tools
    ("routing-explore", "Please explore this folder", ("--allowedTools", "Agent"), (2,)),
)  # fmt: skip


async def capture(home: Path, prompt: str, *extra: str) -> list[fakes.Seen]:
    """Every request one ``claude -p`` run sent to the scripted model."""
    from tests.e2e.test_claude_code import run_claude

    up = fakes.FakeUpstream(auth_value=KEY, reply=scripted_model)
    await up.start()
    try:
        await run_claude(up.url, home, prompt, *extra)
    finally:
        await up.stop()
    return [s for s in up.seen if s.method == "POST"]


def _record(seen: fakes.Seen) -> dict[str, Any]:
    headers = {k: v for k, v in seen.headers.items() if k.lower() not in ("host", "content-length")}
    headers["x-api-key"] = "test-key"
    return {"method": seen.method, "path": seen.path, "query": "beta=true", "headers": headers,
            "body": seen.body}  # fmt: skip


async def _main() -> None:  # pragma: no cover - a maintenance script
    import tempfile

    from tests.conftest import FIXTURES

    for stem, prompt, extra, keep in RUNS:
        with tempfile.TemporaryDirectory() as tmp:
            seen = await capture(Path(tmp), prompt, *extra)
        for i, request in enumerate(seen, 1):
            if i not in keep:
                continue
            kind = request.path.rsplit("/", 1)[-1]
            path = FIXTURES / f"{stem}.{i}.{kind}.json"
            path.write_text(json.dumps(_record(request), indent=1, ensure_ascii=False) + "\n")
            print(path.name, request.body.get("model"), len(request.body.get("tools") or []))


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
