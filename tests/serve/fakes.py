"""Real aiohttp fake upstreams on 127.0.0.1 that check what the real services check.

Each fake records every request, insists on the path and auth header the real
service expects (answering 401/404 like it would otherwise), validates the body
for its wire format (OpenAI rejects unknown fields), and replies with a scripted
answer as JSON or SSE.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

OPENAI_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
    "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "user", "n",
    "presence_penalty", "frequency_penalty", "response_format", "seed", "reasoning_effort",
    "metadata", "store", "logit_bias", "logprobs", "top_logprobs", "service_tier",
}  # fmt: skip
OPENAI_ROLES = {"system", "developer", "user", "assistant", "tool"}


@dataclass
class Seen:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: Any


Reply = Callable[[web.Request, Any], Awaitable[web.StreamResponse]]


@dataclass
class FakeUpstream:
    """One fake service. ``wire`` is "anthropic" or "openai"."""

    wire: str = "anthropic"
    path: str = "/v1/messages"
    auth_header: str = "x-api-key"
    auth_value: str = "up-key"
    extra_fields: set[str] = field(default_factory=set)
    reply: Reply | None = None
    seen: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeUpstream:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def bodies(self) -> list[Any]:
        return [s.body for s in self.seen]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self.seen.append(Seen(request.method, request.path, CIMultiDict(request.headers), body))
        if request.path != self.path and not request.path.endswith("/count_tokens"):
            return web.json_response({"error": {"message": f"no route {request.path}"}}, status=404)
        if request.headers.get(self.auth_header) != self.auth_value:
            return web.json_response(
                {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}},
                status=401,
            )
        problems = check_body(self.wire, body, self.extra_fields)
        if problems:
            self.problems.extend(problems)
            return web.json_response({"error": {"message": "; ".join(problems)}}, status=400)
        reply = self.reply or (anthropic_text if self.wire == "anthropic" else openai_text)
        return await reply(request, body)


def check_body(wire: str, body: Any, extra: set[str]) -> list[str]:
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    if wire == "anthropic":
        return [] if "messages" in body and "model" in body else ["not a Messages body"]
    problems = [f"unknown field {k!r}" for k in body if k not in OPENAI_FIELDS | extra]
    text = json.dumps(body.get("messages"))
    for word in ('"signature"', '"thinking"', "x-anthropic-billing-header"):
        if word in text:
            problems.append(f"{word} must not reach an OpenAI upstream")
    if body.get("stream") and (body.get("stream_options") or {}).get("include_usage") is not True:
        problems.append("stream without stream_options.include_usage")
    ids: set[str] = set()
    for i, msg in enumerate(body.get("messages") or []):
        if msg.get("role") not in OPENAI_ROLES:
            problems.append(f"messages.{i}.role {msg.get('role')!r}")
        for call in msg.get("tool_calls") or []:
            ids.add(call["id"])
        if msg.get("role") == "tool" and msg.get("tool_call_id") not in ids:
            problems.append(f"messages.{i} answers an unknown tool_call_id")
    return problems


# --------------------------------------------------------------------------- replies


def message(text: str, model: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 11, "output_tokens": 5},
        **extra,
    }


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def text_events(text: str, model: str) -> list[dict[str, Any]]:
    start = {**message("", model), "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": 11, "output_tokens": 1}
    half = len(text) // 2
    d1 = {"type": "text_delta", "text": text[:half]}
    d2 = {"type": "text_delta", "text": text[half:]}
    return [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": d1},
        {"type": "content_block_delta", "index": 0, "delta": d2},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"input_tokens": 11, "output_tokens": 5}},
        {"type": "message_stop"},
    ]  # fmt: skip


async def send_events(
    request: web.Request, events: list[dict[str, Any]], *, split: int = 0, delay: float = 0
) -> web.StreamResponse:
    """Write events as SSE; ``split`` > 0 cuts the bytes into chunks of that size."""
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    data = b"".join(sse(e) for e in events)
    step = split or len(data)
    for i in range(0, len(data), step):
        await resp.write(data[i : i + step])
        if delay:
            await asyncio.sleep(delay)
    await resp.write_eof()
    return resp


async def anthropic_text(request: web.Request, body: Any) -> web.StreamResponse:
    text = "Hello from upstream"
    if body.get("stream"):
        return await send_events(request, text_events(text, body["model"]))
    return web.json_response(message(text, body["model"]))


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "up",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


USAGE = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}


async def send_chunks(
    request: web.Request, chunks: list[dict[str, Any]], *, done: bool = True, split: int = 0
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    data = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks)
    if done:
        data += b"data: [DONE]\n\n"
    step = split or len(data)
    for i in range(0, len(data), step):
        await resp.write(data[i : i + step])
    await resp.write_eof()
    return resp


async def openai_text(request: web.Request, body: Any) -> web.StreamResponse:
    text = "Hello from upstream"
    if body.get("stream"):
        chunks = [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": text[:5]}),
            chunk({"content": text[5:]}),
            chunk({}, "stop"),
            {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": USAGE},
        ]
        return await send_chunks(request, chunks)
    return web.json_response(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    )


def openai_tool_chunks(args: str, name: str = "Bash", split_at: tuple[int, ...] = ()) -> list[Any]:
    """A text part, then one tool call whose arguments arrive cut at ``split_at``."""
    cuts = [0, *split_at, len(args)]
    pieces = [args[a:b] for a, b in itertools.pairwise(cuts)]
    out = [chunk({"role": "assistant", "content": "Running it."})]
    out.append(
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                               "function": {"name": name, "arguments": ""}}]})
    )  # fmt: skip
    for piece in pieces:
        out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    out.append(chunk({}, "tool_calls"))
    out.append(
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": USAGE}
    )
    return out
