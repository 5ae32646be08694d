"""A scripted upstream that fails on purpose, at the socket level.

The fault is named in the request itself (``FAULT:<name>`` anywhere in the body), so
one server serves a whole matrix. It answers in the wire format the path implies
(``/v1/chat/completions`` is OpenAI, anything else Anthropic), closes the connection
after every answer, and can stall or reset mid-answer, which a framework server
cannot be told to do.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import struct
from typing import Any

FAULTS = (
    "no_headers",
    "stall",
    "reset",
    "malformed_json",
    "malformed_sse",
    "429",
    "500",
    "529",
    "401",
    "400",
)
_FAULT = re.compile(rb"FAULT:([a-z0-9_]+)")


def _anthropic_start(model: str) -> list[dict[str, Any]]:
    message = {
        "id": "msg_f",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    }
    return [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "partial "},
        },
    ]


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _chunk(delta: dict[str, Any]) -> bytes:
    doc = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "up",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }
    return b"data: " + json.dumps(doc).encode() + b"\n\n"


def _head(status: int, content_type: str, extra: str = "", length: int | None = None) -> bytes:
    reasons = {
        200: "OK",
        400: "Bad Request",
        401: "Unauthorized",
        429: "Too Many Requests",
        500: "Internal Server Error",
        529: "Overloaded",
    }
    head = f"HTTP/1.1 {status} {reasons.get(status, 'X')}\r\ncontent-type: {content_type}\r\n"
    head += "connection: close\r\n" + extra
    if length is not None:
        head += f"content-length: {length}\r\n"
    return (head + "\r\n").encode()


def _error_body(openai: bool, status: int) -> bytes:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }
    message = f"scripted {status}"
    if openai:
        return json.dumps({"error": {"message": message, "type": kinds[status]}}).encode()
    return json.dumps(
        {"type": "error", "error": {"type": kinds[status], "message": message}}
    ).encode()


class FaultServer:
    def __init__(self, stall_seconds: float = 30.0) -> None:
        self.stall_seconds = stall_seconds
        self.server: asyncio.Server | None = None
        self.port = 0
        self.requests = 0

    async def start(self) -> FaultServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(match.group(1))) if match else b""
            self.requests += 1
            path = head.split(b" ", 2)[1].decode()
            fault = _FAULT.search(body)
            doc = json.loads(body) if body else {}
            await self._answer(
                writer,
                fault.group(1).decode() if fault else "ok",
                openai=path.startswith("/v1/chat/completions"),
                stream=bool(doc.get("stream")),
                model=str(doc.get("model", "m")),
            )
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server stopped mid-stall: nothing to report
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _answer(
        self, writer: asyncio.StreamWriter, fault: str, *, openai: bool, stream: bool, model: str
    ) -> None:
        if fault == "no_headers":
            return
        if fault in ("429", "500", "529", "401", "400"):
            status = int(fault)
            body = _error_body(openai, status)
            extra = "retry-after: 120\r\n" if status == 429 else ""
            writer.write(_head(status, "application/json", extra, len(body)) + body)
            await writer.drain()
            return
        if fault in ("ok", "slow_ok"):
            if fault == "slow_ok":  # a long answer that still ends: 0.8 s before its bytes
                await asyncio.sleep(0.8)
            await self._ok(writer, openai=openai, stream=stream, model=model)
            return
        if fault == "malformed_json":
            body = b'{"this is": not json'
            writer.write(_head(200, "application/json", length=len(body)) + body)
            await writer.drain()
            return
        start = (
            [_chunk({"role": "assistant", "content": "partial "})]
            if openai
            else [_sse(e) for e in _anthropic_start(model)]
        )
        writer.write(_head(200, "text/event-stream") + b"".join(start))
        await writer.drain()
        if fault == "malformed_sse":
            await asyncio.sleep(0.05)  # as a real stream does: the start, then more later
            bad = (
                b"data: {this is not json\n\n"
                if openai
                else (b"event: content_block_delta\ndata: {this is not json\n\n")
            )
            writer.write(bad)
            await writer.drain()
        elif fault == "stall":
            await asyncio.sleep(self.stall_seconds)
        elif fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:  # RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

    async def _ok(
        self, writer: asyncio.StreamWriter, *, openai: bool, stream: bool, model: str
    ) -> None:
        if openai:
            usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
            if stream:
                end = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": "up",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                tail = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "model": "up",
                    "choices": [],
                    "usage": usage,
                }
                data = _chunk({"role": "assistant", "content": "ok"})
                data += b"data: " + json.dumps(end).encode() + b"\n\n"
                data += b"data: " + json.dumps(tail).encode() + b"\n\ndata: [DONE]\n\n"
                writer.write(_head(200, "text/event-stream") + data)
            else:
                doc = {
                    "id": "c1",
                    "object": "chat.completion",
                    "model": "up",
                    "usage": usage,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "ok"},
                        }
                    ],
                }
                body = json.dumps(doc).encode()
                writer.write(_head(200, "application/json", length=len(body)) + body)
        else:
            events = [
                *_anthropic_start(model),
                {"type": "content_block_stop", "index": 0},
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 2},
                },
                {"type": "message_stop"},
            ]
            if stream:
                writer.write(_head(200, "text/event-stream") + b"".join(_sse(e) for e in events))
            else:
                message = {
                    **events[0]["message"],
                    "stop_reason": "end_turn",
                    "content": [{"type": "text", "text": "partial "}],
                }
                body = json.dumps(message).encode()
                writer.write(_head(200, "application/json", length=len(body)) + body)
        await writer.drain()
