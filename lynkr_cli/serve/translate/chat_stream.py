"""Anthropic stream events -> OpenAI ``chat.completion.chunk`` SSE frames.

One writer per answer. ``feed(event)`` returns the frames (bytes, each a whole
``data: ...\\n\\n``) that event produces; ``finish()`` runs when the events end. The frames,
in OpenAI's order:

1. at ``message_start``: the role chunk (``{"role": "assistant", "content": ""}``);
2. text as ``content`` deltas, thinking as ``reasoning_content`` deltas;
3. each ``tool_use`` block as its own ``tool_calls`` index: a first delta with the index,
   id, type and name (``arguments: ""``), then the raw argument fragments as they arrive;
4. at ``message_stop``: an empty delta with ``finish_reason``, then (with
   ``include_usage``) a chunk with empty ``choices`` and the usage, then ``data: [DONE]``.

An ``error`` event becomes ``data: {"error": {...}}`` (the ``openai`` SDK raises
``APIError`` on it) and the stream ends without ``[DONE]``, which only a complete answer
gets; so does a stream that ends before ``message_stop``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from .chat_response import completion_id
from .common import openai_call_id
from .maps import openai_usage, stop_to_finish_reason
from .openai_api import error_frame

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"  # an SSE comment: clients skip it, proxies see traffic
_ROLE = b'{"role":"assistant","content":""}'
_EMPTY: list[bytes] = []


class ChatStreamWriter:
    """Stateful Anthropic-event -> chat-completion-chunk writer for one streamed answer."""

    __slots__ = (
        "_base",
        "_head",
        "_tail",
        "_tools",
        "created",
        "done",
        "include_usage",
        "model",
        "started",
        "stop_reason",
        "usage",
    )

    def __init__(self, *, model: str, include_usage: bool = False, created: int | None = None):
        self.model = model
        self.include_usage = include_usage
        self.created = int(time.time()) if created is None else created
        self.started = False
        self.done = False
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] = {}  # Anthropic usage, as message_start/delta report it
        self._tools: dict[int, list[Any]] = {}  # block index -> [tool_calls index, args sent]
        self._tail = b',"logprobs":null,"finish_reason":null}]' + (
            b',"usage":null}\n\n' if include_usage else b"}\n\n"
        )
        self._frame_prefix(completion_id(None))

    def _frame_prefix(self, chunk_id: str) -> None:
        self._base = b"".join(
            (
                b'data: {"id":',
                orjson.dumps(chunk_id),
                b',"object":"chat.completion.chunk","created":',
                str(self.created).encode(),
                b',"model":',
                orjson.dumps(self.model),
            )
        )
        self._head = self._base + b',"choices":[{"index":0,"delta":'

    def feed(self, event: dict[str, Any]) -> list[bytes]:
        """The frames for one Anthropic event (often none)."""
        kind = event.get("type")
        if kind == "content_block_delta" and self.started and not self.done:
            delta = event.get("delta")
            if type(delta) is not dict:
                return _EMPTY
            dk = delta.get("type")
            if dk == "text_delta":
                text = delta.get("text")
                return [self._delta({"content": text})] if text and type(text) is str else _EMPTY
            if dk == "input_json_delta":
                return self._arguments(event.get("index"), delta.get("partial_json"))
            if dk == "thinking_delta":
                text = delta.get("thinking")
                if text and type(text) is str:
                    return [self._delta({"reasoning_content": text})]
                return _EMPTY
            return _EMPTY  # signatures and citations have no OpenAI form
        if self.done:
            return _EMPTY
        if kind == "error":
            return self._error(event.get("error"))
        if kind == "message_start":
            self._message_start(event.get("message"))
        frames = self._start() if not self.started else []
        if kind == "content_block_start":
            block = event.get("content_block")
            if isinstance(block, dict):
                self._block_start(event.get("index"), block, frames)
        elif kind == "content_block_stop":
            frames.extend(self._block_stop(event.get("index")))
        elif kind == "message_delta":
            self._message_delta(event)
        elif kind == "message_stop":
            frames.extend(self._end())
        return frames

    def finish(self) -> list[bytes]:
        """Frames for the end of the events: an error frame when the answer was cut short."""
        if self.done:
            return []
        return self._error(
            {"type": "api_error", "message": "the upstream ended the stream before the answer"}
        )

    # -- frames ----------------------------------------------------------------------------

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return self._head + orjson.dumps(delta) + self._tail

    def _start(self) -> list[bytes]:
        self.started = True
        return [self._head + _ROLE + self._tail]

    def _message_start(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if not self.started and isinstance(message.get("id"), str) and message["id"]:
            self._frame_prefix(completion_id(message["id"]))  # the chunks share the answer's id
        if isinstance(message.get("usage"), dict):
            self.usage = dict(message["usage"])

    def _block_start(self, index: Any, block: dict[str, Any], frames: list[bytes]) -> None:
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str) and block["text"]:
            frames.append(self._delta({"content": block["text"]}))
        elif kind == "thinking" and isinstance(block.get("thinking"), str) and block["thinking"]:
            frames.append(self._delta({"reasoning_content": block["thinking"]}))
        elif kind == "tool_use" and isinstance(index, int):
            given = block.get("input")
            arguments = orjson.dumps(given).decode() if isinstance(given, dict) and given else ""
            self._tools[index] = [len(self._tools), bool(arguments)]
            call = {
                "index": self._tools[index][0],
                "id": openai_call_id(str(block.get("id") or "")),
                "type": "function",
                "function": {"name": block.get("name") or "", "arguments": arguments},
            }
            frames.append(self._delta({"tool_calls": [call]}))

    def _arguments(self, index: Any, fragment: Any) -> list[bytes]:
        tool = self._tools.get(index) if isinstance(index, int) else None
        if tool is None or not isinstance(fragment, str) or not fragment:
            return _EMPTY  # server-tool input, or nothing new
        tool[1] = True
        return [
            self._delta({"tool_calls": [{"index": tool[0], "function": {"arguments": fragment}}]})
        ]

    def _block_stop(self, index: Any) -> list[bytes]:
        tool = self._tools.get(index) if isinstance(index, int) else None
        if tool is None or tool[1]:
            return _EMPTY
        tool[1] = True  # a call without arguments still carries a JSON object
        return [self._delta({"tool_calls": [{"index": tool[0], "function": {"arguments": "{}"}}]})]

    def _message_delta(self, event: dict[str, Any]) -> None:
        delta = event.get("delta")
        if isinstance(delta, dict) and delta.get("stop_reason"):
            self.stop_reason = delta["stop_reason"]
        if isinstance(event.get("usage"), dict):
            self.usage.update(event["usage"])

    def _end(self) -> list[bytes]:
        self.done = True
        finish = stop_to_finish_reason(self.stop_reason)
        if finish == "tool_calls" and not self._tools:
            finish = "stop"  # only server tools ran: nothing for the client to call
        tail = self._tail.replace(
            b'"finish_reason":null', b'"finish_reason":"' + finish.encode() + b'"'
        )
        frames = [self._head + b"{}" + tail]
        if self.include_usage:
            usage = orjson.dumps(openai_usage(self.usage))
            frames.append(self._base + b',"choices":[],"usage":' + usage + b"}\n\n")
        frames.append(DONE)
        return frames

    def _error(self, error: Any) -> list[bytes]:
        self.done = True
        kind, message = "api_error", "upstream error"
        if isinstance(error, dict):
            kind = str(error.get("type") or kind)
            message = str(error.get("message") or message)
        return [error_frame(kind, message)]
