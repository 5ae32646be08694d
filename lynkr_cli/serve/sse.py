"""Server-sent events: framing, parsing, accumulation into a Message, and replay.

A *frame* is one SSE event without its blank-line terminator
(``b"event: x\\ndata: {...}"``). The gateway always writes whole frames, so a
``ping`` it injects during a silence can never split an upstream event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from lynkr_cli.serve.translate.events import apply_delta

PING = b'event: ping\ndata: {"type": "ping"}\n\n'


def encode(event: dict[str, Any]) -> bytes:
    """One event dict as an SSE frame with its terminator."""
    return encode_all((event,))


_PREFIXES: dict[str, bytes] = {}


def encode_all(events: Iterable[dict[str, Any]]) -> bytes:
    """Events as SSE frames, joined: one allocation for the whole batch."""
    parts: list[bytes] = []
    add = parts.append
    dumps = orjson.dumps
    for event in events:
        name: str = event["type"]
        prefix = _PREFIXES.get(name)
        if prefix is None:
            prefix = b"event: " + name.encode() + b"\ndata: "
            if len(_PREFIXES) < 64:  # event names are few; a hostile stream cannot grow this
                _PREFIXES[name] = prefix
        add(prefix)
        add(dumps(event))
        add(b"\n\n")
    return b"".join(parts)


class FrameSplitter:
    """Cuts a byte stream into SSE frames, whatever the chunk boundaries."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n")
        buf = self._buf + chunk if self._buf else chunk
        parts = buf.split(b"\n\n")
        self._buf = parts.pop()
        return [p for p in parts if p.strip()]

    def rest(self) -> bytes:
        """Whatever is left at end of stream (an unterminated last frame)."""
        rest, self._buf = self._buf.strip(), b""
        return rest


def frame_fields(frame: bytes) -> tuple[str, bytes]:
    """``(event name, data)`` of one frame; the name is "" when there is no ``event:`` line."""
    if frame.startswith(b"data: ") and b"\n" not in frame:
        return "", frame[6:]  # the common one-line frame of chat-completions streams
    name = ""
    data: list[bytes] = []
    for line in frame.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[5:].lstrip(b" ") if len(line) > 5 else b"")
        elif line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
    return name, b"\n".join(data)


class Accumulator:
    """Builds the final Message from stream events, the way the SDK's accumulator does."""

    def __init__(self, *, content: bool = True) -> None:
        # content=False keeps only what the access log needs (usage, stop, error):
        # a stream that will not be cached or returned as JSON skips the text work.
        self.content = content
        self.message: dict[str, Any] | None = None
        self._json: dict[int, str] = {}
        self.stopped = False
        self.error: dict[str, Any] | None = None

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            # Copy what add() mutates (content, usage), not the whole event.
            message = dict(event.get("message") or {})
            message["content"] = list(message.get("content") or [])
            message["usage"] = dict(message.get("usage") or {})
            message.setdefault("stop_sequence", None)
            self.message = message
            return
        if kind == "error":
            self.error = event.get("error") or {}
            return
        if kind == "message_stop":
            self.stopped = True
            return
        msg = self.message
        if msg is None or (not self.content and kind != "message_delta"):
            return
        if kind == "content_block_start":
            block = dict(event.get("content_block") or {})
            index = int(event.get("index", len(msg["content"])))
            while len(msg["content"]) <= index:
                msg["content"].append({})
            msg["content"][index] = block
        elif kind == "content_block_delta":
            self._delta(int(event.get("index", 0)), event.get("delta") or {})
        elif kind == "content_block_stop":
            self._close_block(int(event.get("index", 0)))
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            for key in ("stop_reason", "stop_sequence"):
                if key in delta:
                    msg[key] = delta[key]
            usage = msg.setdefault("usage", {})
            for key, value in (event.get("usage") or {}).items():
                if value is not None:
                    usage[key] = value

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        assert self.message is not None
        if index >= len(self.message["content"]):
            return
        fragment = apply_delta(self.message["content"][index], delta)
        if fragment is not None:
            self._json[index] = self._json.get(index, "") + fragment

    def _close_block(self, index: int) -> None:
        assert self.message is not None
        text = self._json.pop(index, None)
        if text is None or index >= len(self.message["content"]):
            return
        block = self.message["content"][index]
        try:
            block["input"] = orjson.loads(text) if text.strip() else {}
        except orjson.JSONDecodeError:
            block["input"] = {}

    def complete(self) -> bool:
        return self.message is not None and self.stopped and self.error is None


def replay_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A stored Message as the stream of events that would have produced it."""
    usage = dict(message.get("usage") or {})
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": min(1, int(usage.get("output_tokens") or 0))}
    yield {"type": "message_start", "message": start}
    content = message.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    for index, block in enumerate(blocks):
        yield from _replay_block(index, block)
    yield {
        "type": "message_delta",
        "delta": {
            "stop_reason": message.get("stop_reason"),
            "stop_sequence": message.get("stop_sequence"),
        },
        "usage": usage,
    }
    yield {"type": "message_stop"}


def _replay_block(index: int, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = block.get("type")
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        delta: dict[str, Any] | None = {"type": "text_delta", "text": block.get("text", "")}
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": ""}
        delta = {"type": "thinking_delta", "thinking": block.get("thinking", "")}
    elif kind == "tool_use":
        start = {**block, "input": {}}
        delta = {
            "type": "input_json_delta",
            "partial_json": orjson.dumps(block.get("input") or {}).decode(),
        }
    else:
        start, delta = block, None
    yield {"type": "content_block_start", "index": index, "content_block": start}
    if delta is not None:
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    if kind == "thinking" and block.get("signature"):
        sig = {"type": "signature_delta", "signature": block["signature"]}
        yield {"type": "content_block_delta", "index": index, "delta": sig}
    yield {"type": "content_block_stop", "index": index}
