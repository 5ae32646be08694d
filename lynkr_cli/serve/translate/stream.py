"""OpenAI chat-completion chunks -> Anthropic stream events (protocol.md §4 state machine).

One translator per response. ``feed`` takes each parsed ``data:`` JSON and returns the
events it produces; ``finish`` runs at ``[DONE]``. Rules the peers got wrong and we keep:

* tool-call argument fragments go out raw as ``input_json_delta`` the moment they arrive,
  however they were split (never buffered until they parse);
* ``tool_calls: []`` is treated as absent;
* a chunk carrying content and ``finish_reason`` is split, in the order thinking, text, tool;
* ``message_delta`` waits for ``finish`` so the usage chunk that follows ``finish_reason``
  is counted;
* reasoning (``reasoning_content``/``reasoning`` or Databricks list-shaped parts) becomes a
  thinking block; a signature is emitted only when the upstream sent one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .common import (
    UpstreamStreamError,
    error_fields,
    message_id,
    restore_tool_name,
    tool_use_id,
)
from .maps import anthropic_usage, finish_to_stop_reason
from .response import reasoning_summary

Event = dict[str, Any]


@dataclass
class _Tool:
    id: str
    name: str = ""
    index: int | None = None  # Anthropic block index, set once the block is opened
    buffer: list[str] = field(default_factory=list)  # fragments seen before the name


class StreamTranslator:
    """Stateful OpenAI-chunk -> Anthropic-event translator for one streamed response."""

    def __init__(
        self,
        *,
        model: str,
        input_tokens: int = 0,
        tool_names: Mapping[str, str] | None = None,
    ) -> None:
        self.model = model
        self.input_tokens = input_tokens
        self._names = tool_names
        self._started = False
        self._finished = False
        self._open: tuple[int, str] | None = None
        self._next_index = 0
        self._signature = ""
        self._tools: dict[Any, _Tool] = {}
        self._last_tool: Any = None
        self._alias: dict[int, str] = {}
        self._stop: str | None = None
        self._usage: Any = None
        self._emitted: list[str] = []  # text for an output estimate when usage never comes

    @property
    def has_usage(self) -> bool:
        """Whether the upstream reported usage; if not, ``input_tokens`` is all we have."""
        return isinstance(self._usage, dict)

    @property
    def saw_finish(self) -> bool:
        """Whether a ``finish_reason`` arrived (a stream without one was cut short)."""
        return self._stop is not None

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        """Events for one OpenAI chunk; raises UpstreamStreamError on an error chunk."""
        if not isinstance(chunk, dict):
            raise TypeError(f"chunk: expected dict, got {type(chunk).__name__}")
        if chunk.get("error") is not None:
            raise UpstreamStreamError(*error_fields(chunk["error"]))
        events: list[Event] = []
        if self._finished:
            return events
        if not self._started:
            events.append(self._message_start())
        elif self._open is not None and self._open[1] == "text":
            text = _plain_text(chunk)
            if text:  # the common chunk: more text for the open text block
                self._emitted.append(text)
                piece = {"type": "text_delta", "text": text}
                return [{"type": "content_block_delta", "index": self._open[0], "delta": piece}]
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        if isinstance(choice, dict):
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._delta(delta, events)
            if choice.get("finish_reason"):
                self._close(events)
                # A streamed refusal stays a refusal whatever finish_reason follows it.
                if self._stop != "refusal":
                    self._stop = finish_to_stop_reason(choice["finish_reason"])
        return events

    def finish(self) -> list[Event]:
        """Close the open block, then message_delta (cumulative usage) and message_stop."""
        events: list[Event] = []
        if self._finished:
            return events
        if not self._started:
            events.append(self._message_start())
        self._flush_nameless(events)
        self._close(events)
        self._finished = True
        stop = self._stop or "end_turn"
        if self._tools and stop == "end_turn":
            stop = "tool_use"
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": self._final_usage(),
            }
        )
        events.append({"type": "message_stop"})
        return events

    # -- message framing -------------------------------------------------------------

    def _message_start(self) -> Event:
        self._started = True
        usage = {
            "input_tokens": self.input_tokens,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        message: dict[str, Any] = {
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return {"type": "message_start", "message": message}

    def _final_usage(self) -> dict[str, int]:
        usage = self._usage if isinstance(self._usage, dict) else {}
        # Counting our own output costs a tokenizer pass: only when the upstream is silent.
        known = isinstance(usage.get("completion_tokens"), int)
        output = 0 if known else self._estimate_output()
        return anthropic_usage(self._usage, self.input_tokens, output)

    def _estimate_output(self) -> int:
        from lynkr_cli.serve.tokens import count_text

        return count_text("".join(self._emitted))

    # -- deltas ------------------------------------------------------------------------

    def _delta(self, delta: dict[str, Any], events: list[Event]) -> None:
        for key in ("reasoning_content", "reasoning"):
            if isinstance(delta.get(key), str) and delta[key]:
                self._thinking(delta[key], "", events)
                break
        content = delta.get("content")
        if isinstance(content, str) and content:
            self._text(content, events)
        elif isinstance(content, list):
            self._parts(content, events)
        if isinstance(delta.get("refusal"), str) and delta["refusal"]:
            self._text(delta["refusal"], events)
            self._stop = "refusal"
        calls = delta.get("tool_calls")
        if isinstance(calls, list):  # an empty list is simply nothing to do
            for position, call in enumerate(calls):
                if isinstance(call, dict):
                    self._tool_call(call, position, events)

    def _parts(self, parts: list[Any], events: list[Event]) -> None:
        """Databricks list-shaped content: reasoning summary parts and text parts."""
        for part in parts:
            if isinstance(part, str) and part:
                self._text(part, events)
            elif isinstance(part, dict) and part.get("type") == "reasoning":
                text, signature = reasoning_summary(part)
                if text or signature:
                    self._thinking(text, signature, events)
            elif isinstance(part, dict) and part.get("type") == "text" and _nonempty(part):
                self._text(part["text"], events)

    def _thinking(self, text: str, signature: str, events: list[Event]) -> None:
        if self._open is None or self._open[1] != "thinking":
            self._start(events, "thinking", {"type": "thinking", "thinking": "", "signature": ""})
        if text:
            self._emitted.append(text)
            events.append(self._block_delta({"type": "thinking_delta", "thinking": text}))
        if signature:
            self._signature = signature

    def _text(self, text: str, events: list[Event]) -> None:
        if self._open is None or self._open[1] != "text":
            self._start(events, "text", {"type": "text", "text": ""})
        self._emitted.append(text)
        events.append(self._block_delta({"type": "text_delta", "text": text}))

    def _tool_call(self, call: dict[str, Any], position: int, events: list[Event]) -> None:
        key = self._tool_key(call, position)
        raw = call.get("function")
        function: dict[str, Any] = raw if isinstance(raw, dict) else {}
        tool = self._tools.get(key)
        if tool is None:
            tool = self._tools[key] = _Tool(id=tool_use_id(call.get("id")))
        self._last_tool = key
        if not tool.name and isinstance(function.get("name"), str) and function["name"]:
            tool.name = restore_tool_name(function["name"], self._names)
        fragment = function.get("arguments")
        if isinstance(fragment, str) and fragment:
            tool.buffer.append(fragment)
            self._emitted.append(fragment)
        if tool.name:
            self._emit_tool(tool, events)

    def _tool_key(self, call: dict[str, Any], position: int) -> Any:
        index = call.get("index")
        call_id = call.get("id") if isinstance(call.get("id"), str) else ""
        if isinstance(index, int) and not isinstance(index, bool):
            key = self._alias.get(index, index)
            known = self._tools.get(key)
            if call_id and known is not None and known.id != tool_use_id(call_id):
                # Some servers number every call 0; a new id means a new call.
                key = self._alias[index] = f"{index}:{call_id}"
            return key
        # Providers that omit `index` send each call whole, or continue the last one.
        if call_id:
            return f"id:{call_id}"
        return self._last_tool if self._last_tool is not None else position

    def _emit_tool(self, tool: _Tool, events: list[Event]) -> None:
        if tool.index is None:
            block = {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}
            tool.index = self._start(events, "tool", block)
        for fragment in tool.buffer:
            events.append(
                {
                    "type": "content_block_delta",
                    "index": tool.index,
                    "delta": {"type": "input_json_delta", "partial_json": fragment},
                }
            )
        tool.buffer.clear()

    def _flush_nameless(self, events: list[Event]) -> None:
        # A call whose name never arrived still goes out, so its arguments are not lost.
        for tool in self._tools.values():
            if tool.index is None:
                tool.name = "unknown_tool"
                self._emit_tool(tool, events)

    # -- blocks ------------------------------------------------------------------------

    def _start(self, events: list[Event], kind: str, block: dict[str, Any]) -> int:
        self._close(events)
        index = self._next_index
        self._next_index += 1
        self._open = (index, kind)
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        return index

    def _block_delta(self, delta: dict[str, Any]) -> Event:
        assert self._open is not None
        return {"type": "content_block_delta", "index": self._open[0], "delta": delta}

    def _close(self, events: list[Event]) -> None:
        if self._open is None:
            return
        index, kind = self._open
        if kind == "thinking" and self._signature:
            events.append(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": self._signature},
                }
            )
        self._signature = ""
        events.append({"type": "content_block_stop", "index": index})
        self._open = None


def _plain_text(chunk: dict[str, Any]) -> str | None:
    """The text of a chunk that carries nothing else (no usage, finish, tools or reasoning):
    ``{"choices": [{"delta": {"content": "..."}, "finish_reason": null}], ...}``."""
    choices = chunk.get("choices")
    if type(choices) is not list or len(choices) != 1 or chunk.get("usage"):
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason"):
        return None
    delta = choice.get("delta")
    if type(delta) is not dict or len(delta) != 1:
        return None
    text = delta.get("content")
    return text if type(text) is str else None


def _nonempty(part: dict[str, Any]) -> bool:
    return isinstance(part.get("text"), str) and bool(part["text"])
