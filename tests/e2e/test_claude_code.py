"""The real Claude Code CLI through lynkr: ``-p`` text and a Bash tool loop.

The upstream is a scripted model on 127.0.0.1: an Anthropic Messages fake for the
passthrough, a chat-completions fake for translation. It asks for one Bash call,
then answers with what the tool printed, so the loop only closes if every hop
(CLI → lynkr → upstream → lynkr → CLI → Bash → back) carried the data intact.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import require, tool_path
from tests.serve import fakes
from tests.serve.conftest import FAMILIES, fake, gateway, provider_settings

__all__ = ["fake", "gateway"]  # fixtures re-exported for this module

pytestmark = pytest.mark.e2e
MARKER = "lynkr-e2e-7f3a"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return " ".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


def _tool_result(messages: list[dict[str, Any]]) -> str | None:
    last = messages[-1] if messages else {}
    for block in last.get("content") or []:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            if isinstance(content, list):
                content = " ".join(c.get("text", "") for c in content)
            return str(content)
    return None


def _non_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("role") != "system"]


async def anthropic_model(request: web.Request, body: dict) -> web.StreamResponse:
    messages = _non_system(body["messages"])
    result = _tool_result(messages)
    wants_tool = "run the marker" in _last_user_text(messages)
    tools = {t.get("name") for t in body.get("tools") or []}
    model = body["model"]
    start = {**fakes.message("", model), "content": [], "stop_reason": None}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    if wants_tool and result is None and "Bash" in tools:
        args = json.dumps({"command": f"echo {MARKER}", "description": "Print the marker"})
        block = {"type": "tool_use", "id": "toolu_e2e_1", "name": "Bash", "input": {}}
        events += [
            {"type": "content_block_start", "index": 0, "content_block": block},
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": args[:10]},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": args[10:]},
            },
            {"type": "content_block_stop", "index": 0},
        ]
        stop = "tool_use"
    else:
        text = f"tool said: {result.strip()}" if result is not None else "PONG from lynkr"
        events += fakes.text_events(text, model)[1:6]
        stop = "end_turn"
    events += [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"input_tokens": 11, "output_tokens": 7},
        },
        {"type": "message_stop"},
    ]
    if not body.get("stream"):
        acc = _accumulate(events)
        return web.json_response(acc)
    return await fakes.send_events(request, events)


def _accumulate(events: list[dict[str, Any]]) -> dict[str, Any]:
    from lynkr_cli.serve.sse import Accumulator

    acc = Accumulator()
    for event in events:
        acc.add(event)
    assert acc.message is not None
    return acc.message


async def openai_model(request: web.Request, body: dict) -> web.StreamResponse:
    messages = body["messages"]
    last = messages[-1]
    tools = {t["function"]["name"] for t in body.get("tools") or []}
    user_texts = [m for m in messages if m["role"] == "user"]
    wants_tool = user_texts and "run the marker" in json.dumps(user_texts[-1]["content"])
    if last["role"] == "tool":
        content = last["content"]
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content)
        chunks = [fakes.chunk({"role": "assistant", "content": f"tool said: {content.strip()}"})]
        chunks += [fakes.chunk({}, "stop")]
    elif wants_tool and "Bash" in tools:
        args = json.dumps({"command": f"echo {MARKER}", "description": "Print the marker"})
        chunks = fakes.openai_tool_chunks(args, split_at=(3, 17))[1:-1]
    else:
        chunks = [fakes.chunk({"role": "assistant", "content": "PONG from lynkr"})]
        chunks += [fakes.chunk({}, "stop")]
    usage = {"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": fakes.USAGE}
    return await fakes.send_chunks(request, [*chunks, usage])


async def run_claude(url: str, home: Path, prompt: str, *args: str) -> dict[str, Any]:
    """``claude -p PROMPT`` against ``url`` (``args`` default: ``--allowedTools Bash``)."""
    claude = tool_path("claude")
    require(claude is not None, "Claude Code CLI not installed (run scripts/test-deps.sh)")
    assert claude is not None
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "sk-ant-client-placeholder",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        str(claude),
        "-p",
        prompt,
        "--output-format",
        "json",
        *(args or ("--allowedTools", "Bash")),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(home),
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, (out.decode()[-2000:], err.decode()[-2000:])
    doc: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    assert doc.get("is_error") is False, doc
    return doc


FAMILY = ["anthropic", "openai"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("family", FAMILY)
async def test_claude_p_text(gateway, fake, tmp_path: Path, family: str) -> None:
    reply = anthropic_model if family == "anthropic" else openai_model
    up = await fake(**FAMILIES[family], reply=reply)
    gw = await gateway(**provider_settings(family, up))
    doc = await run_claude(gw.url, tmp_path / "home", "Say pong")
    assert "PONG from lynkr" in doc["result"]
    assert up.problems == []
    assert up.seen  # the CLI really went through lynkr to the upstream


@pytest.mark.timeout(120)
@pytest.mark.parametrize("family", FAMILY)
async def test_claude_bash_tool_loop(gateway, fake, tmp_path: Path, family: str) -> None:
    reply = anthropic_model if family == "anthropic" else openai_model
    up = await fake(**FAMILIES[family], reply=reply)
    gw = await gateway(**provider_settings(family, up))
    doc = await run_claude(gw.url, tmp_path / "home", "Please run the marker command")
    # The CLI ran Bash and sent its output back; the model's last words quote it.
    assert f"tool said: {MARKER}" in doc["result"]
    assert up.problems == []
    carried = [json.dumps(b) for b in up.bodies]
    assert any(MARKER in c and ("tool_result" in c or '"tool"' in c) for c in carried)
