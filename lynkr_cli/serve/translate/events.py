"""Anthropic Message <-> Anthropic stream events.

``accumulate`` builds the Message a JSON response returns from the same events a stream
sends, so both paths share one pipeline; ``anthropic_message_to_events`` replays a stored
Message (a cache hit) as a stream whose blocks the SDK's accumulator rebuilds exactly.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .common import UpstreamStreamError, error_fields, message_id
from .response import parse_arguments

Event = dict[str, Any]


def anthropic_message_to_events(message: dict[str, Any]) -> list[Event]:
    """The stream events that a client accumulates back into ``message``."""
    if not isinstance(message, dict):
        raise TypeError(f"message: expected dict, got {type(message).__name__}")
    usage = dict(message.get("usage") or {})
    start = {k: copy.deepcopy(v) for k, v in message.items() if k not in ("content", "usage")}
    start.setdefault("id", message_id())
    start.update({"type": "message", "role": "assistant", "content": [], "stop_reason": None})
    start["stop_sequence"] = None
    start["usage"] = {**usage, "output_tokens": 0}
    events: list[Event] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message.get("content") or []):
        events.extend(_block_events(index, block))
    events.append(
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message.get("stop_reason") or "end_turn",
                "stop_sequence": message.get("stop_sequence"),
            },
            "usage": usage,
        }
    )
    events.append({"type": "message_stop"})
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[Event]:
    kind = block.get("type")
    deltas: list[dict[str, Any]] = []
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas.append({"type": "text_delta", "text": block.get("text", "")})
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas.append({"type": "thinking_delta", "thinking": block.get("thinking", "")})
        if block.get("signature"):
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": {}}
        arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
        deltas.append({"type": "input_json_delta", "partial_json": arguments})
    else:
        # redacted_thinking and server-tool blocks arrive whole in their start event.
        start = copy.deepcopy(block)
    events: list[Event] = [{"type": "content_block_start", "index": index, "content_block": start}]
    events.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
    events.append({"type": "content_block_stop", "index": index})
    return events


def accumulate(events: list[Event]) -> dict[str, Any]:
    """The Message that ``events`` describe; an ``error`` event raises UpstreamStreamError."""
    message: dict[str, Any] | None = None
    partial: dict[int, list[str]] = {}
    for event in events:
        kind = event.get("type")
        if kind == "error":
            raise UpstreamStreamError(*error_fields(event.get("error")))
        if kind == "message_start":
            message = copy.deepcopy(event["message"])
            message["content"] = []
            continue
        if message is None:
            if kind == "ping":
                continue
            raise ValueError(f"events: {kind!r} before message_start")
        _apply(message, partial, event)
    if message is None:
        raise ValueError("events: no message_start")
    return message


def _apply(message: dict[str, Any], partial: dict[int, list[str]], event: Event) -> None:
    kind = event.get("type")
    content: list[dict[str, Any]] = message["content"]
    if kind == "content_block_start":
        content.append(copy.deepcopy(event["content_block"]))
    elif kind == "content_block_delta":
        fragment = apply_delta(content[event["index"]], event["delta"])
        if fragment is not None:
            partial.setdefault(event["index"], []).append(fragment)
    elif kind == "content_block_stop":
        index = event["index"]
        if content[index].get("type") == "tool_use" and index in partial:
            content[index]["input"] = parse_arguments("".join(partial.pop(index)))
    elif kind == "message_delta":
        message.update({k: v for k, v in event.get("delta", {}).items()})
        message["usage"] = {**message.get("usage", {}), **(event.get("usage") or {})}


def apply_delta(block: dict[str, Any], delta: dict[str, Any]) -> str | None:
    """Fold one ``content_block_delta`` into its block.

    Text, thinking, signature and citations land in ``block``; a tool-input fragment
    (``input_json_delta``) is returned instead, for the caller to join and parse when
    the block stops. Shared by every accumulator in the gateway.
    """
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta.get("text", "")
    elif kind == "input_json_delta":
        return str(delta.get("partial_json", ""))
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
    elif kind == "signature_delta":
        block["signature"] = delta.get("signature", "")
    elif kind == "citations_delta":
        block.setdefault("citations", []).append(delta.get("citation"))
    return None
