"""Streaming: thinking and signatures, parallel tools, split tool arguments, pings, hang-ups."""

from __future__ import annotations

import asyncio
import json

import anthropic
import httpx
import pytest
from aiohttp import web

from tests.serve import fakes
from tests.serve.conftest import FAMILIES, provider_settings

SIG = "EqQBCkgIARABGAIiQL0ZsigBase64Signature+/=="
# The smallest streaming request; shared, never modified.
STREAM_HI = {
    "model": "claude-x",
    "max_tokens": 10,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


def event_names(sse_text: str) -> list[str]:
    """The ``event:`` names of an SSE body, in order."""
    return [line[7:] for line in sse_text.splitlines() if line.startswith("event: ")]


def thinking_and_parallel_tools(model: str) -> list[dict]:
    start = {**fakes.message("", model), "content": [], "stop_reason": None}
    args1, args2 = '{"command": "ls -la"}', '{"file_path": "/tmp/ä.txt"}'
    return [
        {"type": "message_start", "message": start},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Let me look."},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": SIG},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": args1[:9]},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": args1[9:]},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": args2},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 40},
        },
        {"type": "message_stop"},
    ]


async def test_thinking_signatures_and_parallel_tools_pass_through(gateway, fake) -> None:
    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        # 7-byte chunks cut events, JSON and a multi-byte character at arbitrary places
        return await fakes.send_events(request, thinking_and_parallel_tools("up-model"), split=7)

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(
        **provider_settings("anthropic", up), **{"provider.model_default": "up-model"}
    )
    async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0) as sdk:
        async with sdk.messages.stream(
            model="claude-opus-4-8",
            max_tokens=1000,
            messages=[{"role": "user", "content": "go"}],
            thinking={"type": "enabled", "budget_tokens": 1024},
        ) as stream:
            final = await stream.get_final_message()
    assert final.model == "claude-opus-4-8"
    thinking, tool1, tool2 = final.content
    assert thinking.type == "thinking" and thinking.signature == SIG
    assert thinking.thinking == "Let me look."
    assert (tool1.name, tool1.input) == ("Bash", {"command": "ls -la"})
    assert (tool2.name, tool2.input) == ("Read", {"file_path": "/tmp/ä.txt"})
    assert final.stop_reason == "tool_use"
    assert up.bodies[0]["model"] == "up-model"


async def test_openai_tool_arguments_split_mid_token(gateway, fake) -> None:
    args = '{"command": "echo \\"héllo\\" && ls", "description": "Say hi"}'

    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        chunks = fakes.openai_tool_chunks(args, split_at=(1, 5, 13, 21, 22, 40))
        return await fakes.send_chunks(request, chunks, split=11)

    up = await fake(**FAMILIES["openai"], reply=reply)
    gw = await gateway(**provider_settings("openai", up))
    tools = [{"name": "Bash", "description": "run", "input_schema": {"type": "object"}}]
    async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0) as sdk:
        async with sdk.messages.stream(
            model="claude-sonnet-5",
            max_tokens=100,
            tools=tools,
            messages=[{"role": "user", "content": "go"}],
        ) as stream:
            final = await stream.get_final_message()
        plain = await sdk.messages.create(
            model="claude-sonnet-5",
            max_tokens=100,
            tools=tools,
            messages=[{"role": "user", "content": "go"}],
            stream=True,
        )
        kinds = [event.type async for event in plain]
    text, call = final.content
    assert text.text == "Running it."
    assert call.name == "Bash"
    assert call.input == json.loads(args)
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens == 5
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert up.problems == []


async def test_ping_during_upstream_silence(gateway, fake) -> None:
    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        events = fakes.text_events("slow answer", body["model"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(fakes.sse(events[0]))
        await asyncio.sleep(0.5)  # silence longer than the gateway's ping interval
        await resp.write(b"".join(fakes.sse(e) for e in events[1:]))
        await resp.write_eof()
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(**provider_settings("anthropic", up), **{"server.ping_interval": 0.1})
    body = STREAM_HI
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post("/v1/messages", json=body)
    names = event_names(resp.text)
    assert names[0] == "message_start"
    # our pings sit between whole events, before the upstream resumes
    assert names[1:3] == ["ping", "ping"]
    assert names[-1] == "message_stop"
    assert names.count("message_stop") == 1


async def test_idle_upstream_becomes_an_error_event(gateway, fake) -> None:
    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        events = fakes.text_events("never finished", body["model"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"".join(fakes.sse(e) for e in events[:3]))
        await asyncio.sleep(5)
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(**provider_settings("anthropic", up), **{"provider.idle_timeout": 0.3})
    body = STREAM_HI
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post("/v1/messages", json=body)
    assert resp.status_code == 200
    assert "event: message_stop" not in resp.text
    assert resp.text.rstrip().splitlines()[-2] == "event: error"
    assert "idle_timeout" in resp.text


@pytest.mark.parametrize("gateway", ["server", "app"], indirect=True)
async def test_client_disconnect_cancels_upstream(gateway, fake) -> None:
    closed = asyncio.Event()

    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        events = fakes.text_events("x", body["model"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(fakes.sse(events[0]))
        try:
            for _ in range(100):  # bounded: 10 s at most
                await asyncio.sleep(0.1)
                await resp.write(b'event: ping\ndata: {"type": "ping"}\n\n')
        except (ConnectionError, asyncio.CancelledError):
            closed.set()
            raise
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(**provider_settings("anthropic", up))
    body = STREAM_HI
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        async with http.stream("POST", "/v1/messages", json=body) as resp:
            async for line in resp.aiter_lines():
                if line.startswith("event: message_start"):
                    break
    await asyncio.wait_for(closed.wait(), timeout=5)


async def test_non_streaming_translated_answer_has_real_usage(gateway, fake) -> None:
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up))
    body = {
        "model": "claude-x",
        "max_tokens": 10,
        "stop_sequences": ["END"],
        "messages": [{"role": "user", "content": "hi"}],
    }
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        doc = (await http.post("/v1/messages", json=body)).json()
    assert doc["usage"]["input_tokens"] == 11 and doc["usage"]["output_tokens"] == 5
    assert "stop_sequence" in doc and doc["model"] == "claude-x"
    assert up.bodies[0]["stop"] == ["END"]


async def test_server_tool_loop_wraps_upstream_events(gateway, fake) -> None:
    # tools_mode=always: the loop offers lynkr_* tools; the model answers plainly here.
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **{"gateway.tools_mode": "always"})
    body = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        doc = (await http.post("/v1/messages", json=body, headers={"anthropic-beta": "b1"})).json()
    assert doc["content"][0]["text"] == "Hello from upstream"
    assert doc["model"] == "claude-x"
    sent = up.bodies[0]
    assert sent["stream"] is True
    assert any(t["name"].startswith("lynkr_") for t in sent["tools"])
    assert up.seen[0].headers["anthropic-beta"] == "b1"


async def test_translated_stream_starts_with_message_start_even_after_silence(
    gateway, fake
) -> None:
    async def late(request: web.Request, body: dict) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await asyncio.sleep(0.4)  # silent before the first chunk
        chunks = [fakes.chunk({"role": "assistant", "content": "late"}), fakes.chunk({}, "stop")]
        await resp.write(b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    up = await fake(**FAMILIES["openai"], reply=late)
    gw = await gateway(**provider_settings("openai", up), **{"server.ping_interval": 0.1})
    body = STREAM_HI
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post("/v1/messages", json=body)
    names = event_names(resp.text)
    assert names[0] == "message_start" and names[-1] == "message_stop"


async def test_finished_streams_return_the_upstream_connection_to_the_pool(gateway, fake) -> None:
    peers: list[object] = []

    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        if "chat" in request.path:
            return await fakes.openai_text(request, body)
        return await fakes.anthropic_text(request, body)

    for family in ("anthropic", "openai"):
        peers.clear()
        up = await fake(**FAMILIES[family], reply=reply)
        gw = await gateway(**provider_settings(family, up))
        body = STREAM_HI
        async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
            for _ in range(4):
                resp = await http.post("/v1/messages", json=body)
                assert "event: message_stop" in resp.text
        assert len(peers) == 4 and len(set(peers)) == 1, peers


async def test_finished_streams_leave_no_suspended_async_generator(gateway, fake) -> None:
    """A stream ends at message_stop with its readers suspended; they must be closed or be
    plain iterators. Otherwise asyncio finalises each one later through
    call_soon_threadsafe and a task of its own: a self-pipe write and an extra loop wake-up
    per request."""
    import gc
    import sys

    finalized: list[str] = []
    firstiter, finalizer = sys.get_asyncgen_hooks()

    def record(agen) -> None:  # type: ignore[no-untyped-def]
        finalized.append(f"{agen.ag_code.co_filename}:{agen.ag_code.co_name}")
        if finalizer is not None:
            finalizer(agen)

    body = STREAM_HI
    sys.set_asyncgen_hooks(firstiter, record)
    try:
        for family in ("anthropic", "openai"):
            up = await fake(**FAMILIES[family])
            gw = await gateway(**provider_settings(family, up))
            async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
                for _ in range(3):
                    resp = await http.post("/v1/messages", json=body)
                    assert "event: message_stop" in resp.text
        gc.collect()
        await asyncio.sleep(0.05)
    finally:
        sys.set_asyncgen_hooks(firstiter, finalizer)
    assert [f for f in finalized if "lynkr_cli" in f] == []
