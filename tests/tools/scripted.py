"""A scripted fake model: a real aiohttp server on 127.0.0.1 speaking Anthropic SSE.

``ScriptedModel(turns)`` answers the n-th request with ``turns[n](body)``, a list of
content blocks (``{"type": "text", "text": ...}`` or ``{"type": "tool_use", ...}``),
streamed exactly the way the real API streams them (``input_json_delta`` for tool
input, ``stop_reason: tool_use`` after a tool call). Every request body is recorded,
so tests can check what the upstream received.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

Turn = Callable[[dict[str, Any]], list[dict[str, Any]]]


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def anthropic_events(blocks: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The stream of one assistant message made of ``blocks``.

    A ``{"type": "_stop", "reason": ...}`` entry forces the stop_reason (e.g. a tool call
    cut off by ``max_tokens``).
    """
    forced = [b["reason"] for b in blocks if b["type"] == "_stop"]
    blocks = [b for b in blocks if b["type"] != "_stop"]
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {
        "id": f"msg_fake_{n}", "type": "message", "role": "assistant", "content": [],
        "model": "fake-model", "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 100 + n, "output_tokens": 1}}}]  # fmt: skip
    for i, block in enumerate(blocks):
        if block["type"] == "text":
            events.append({"type": "content_block_start", "index": i,
                           "content_block": {"type": "text", "text": ""}})  # fmt: skip
            for piece in (block["text"][:5], block["text"][5:]):
                events.append({"type": "content_block_delta", "index": i,
                               "delta": {"type": "text_delta", "text": piece}})  # fmt: skip
        elif block["type"] == "thinking":
            start = {"type": "thinking", "thinking": ""}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            deltas = [
                {"type": "thinking_delta", "thinking": block["thinking"]},
                {"type": "signature_delta", "signature": block["signature"]},
            ]
            for delta in deltas:
                events.append({"type": "content_block_delta", "index": i, "delta": delta})
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append({"type": "content_block_start", "index": i, "content_block": start})
            raw = block.get("raw_input", json.dumps(block.get("input", {})))
            for piece in ("", raw[:7], raw[7:]):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append({"type": "content_block_delta", "index": i, "delta": delta})
        events.append({"type": "content_block_stop", "index": i})
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    stop = forced[0] if forced else stop
    events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                   "usage": {"output_tokens": 10 + n}})  # fmt: skip
    events.append({"type": "message_stop"})
    return events


@dataclass
class ScriptedModel:
    turns: list[Turn]
    bodies: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> ScriptedModel:
        app = web.Application()
        app.router.add_post("/v1/messages", self._handle)
        app.router.add_post("/v1/chat/completions", self._handle_openai)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        n = len(self.bodies) - 1
        turn = self.turns[min(n, len(self.turns) - 1)]
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in anthropic_events(turn(body), n):
            await response.write(sse(event))
        await response.write_eof()
        return response

    async def _handle_openai(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        n = len(self.bodies) - 1
        blocks = self.turns[min(n, len(self.turns) - 1)](body)
        if not body.get("stream"):
            return web.json_response(openai_message(blocks, n))
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for chunk in openai_chunks(blocks, n):
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def call_upstream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """One streaming call, parsed into events: the seam the gateway gives ``run_loop``."""
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream("POST", f"{self.url}/v1/messages", json=body) as response,
        ):
            async for event in parse_sse(response.aiter_lines()):
                yield event


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line.strip() and data:
            yield json.loads("\n".join(data))
            data = []
    if data:
        yield json.loads("\n".join(data))


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last user message of a request body."""
    content = body["messages"][-1]["content"]
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def accumulate(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The Message a client SDK would build from ``events`` (strict about ordering)."""
    starts = [e for e in events if e["type"] == "message_start"]
    assert len(starts) == 1, f"expected one message_start, got {len(starts)}"
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_stop"
    message = dict(starts[0]["message"])
    content: list[dict[str, Any]] = []
    for event in events:
        if event["type"] == "content_block_start":
            assert event["index"] == len(content), "block indices must be 0,1,2,…"
            content.append(dict(event["content_block"]))
        elif event["type"] == "content_block_delta":
            block = content[event["index"]]
            delta = event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                block["_json"] = block.get("_json", "") + delta["partial_json"]
        elif event["type"] == "message_delta":
            message.update(event["delta"])
            message["usage"] = event["usage"]
    message["content"] = content
    return message


def _openai_calls(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": b["id"], "type": "function",
             "function": {"name": b["name"], "arguments": json.dumps(b.get("input", {}))}}
            for b in blocks if b["type"] == "tool_use"]  # fmt: skip


def openai_message(blocks: list[dict[str, Any]], n: int) -> dict[str, Any]:
    text = "".join(b["text"] for b in blocks if b["type"] == "text")
    calls = _openai_calls(blocks)
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0, "model": "gpt-test",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": 100 + n, "completion_tokens": 10 + n,
                      "total_tokens": 110 + 2 * n}}  # fmt: skip


def openai_chunks(blocks: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The chat.completion.chunk stream of one assistant turn."""
    base = {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "created": 0,
            "model": "gpt-test"}  # fmt: skip
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}]}]  # fmt: skip
    text = "".join(b["text"] for b in blocks if b["type"] == "text")
    for piece in (text[:5], text[5:]) if text else ():
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                            "finish_reason": None}]})  # fmt: skip
    for i, call in enumerate(_openai_calls(blocks)):
        args = call["function"]["arguments"]
        first = {"index": i, "id": call["id"], "type": "function",
                 "function": {"name": call["function"]["name"], "arguments": ""}}  # fmt: skip
        for delta in (first, {"index": i, "function": {"arguments": args}}):
            chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [delta]},
                                                "finish_reason": None}]})  # fmt: skip
    finish = "tool_calls" if _openai_calls(blocks) else "stop"
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 100 + n,
                   "completion_tokens": 10 + n, "total_tokens": 110 + 2 * n}})  # fmt: skip
    return chunks


def openai_tool_results(body: dict[str, Any]) -> list[str]:
    """The content of the trailing role=tool messages of an OpenAI request."""
    out: list[str] = []
    for message in reversed(body["messages"]):
        if message["role"] != "tool":
            break
        content = message["content"]
        out.insert(0, content if isinstance(content, str) else json.dumps(content))
    return out
