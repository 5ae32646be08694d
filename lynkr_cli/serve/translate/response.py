"""OpenAI chat completion -> Anthropic Message.

Blocks come out in Anthropic's order: thinking, text, tool_use. Reasoning text becomes a
thinking block whose signature is the upstream's own (Databricks summary parts carry one) or
empty: a made-up signature would poison the history the client later sends to real Claude.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .common import (
    UpstreamStreamError,
    error_fields,
    message_id,
    require_type,
    restore_tool_name,
    tool_use_id,
)
from .maps import anthropic_usage, finish_to_stop_reason


def from_openai_response(
    resp: dict[str, Any],
    *,
    model: str,
    tool_names: Mapping[str, str] | None = None,
    input_tokens: int = 0,
) -> dict[str, Any]:
    """A complete Anthropic Message dict, echoing the client's ``model`` name.

    ``input_tokens`` (a local estimate) stands in when the upstream reports no prompt count.
    """
    require_type(resp, dict, "response")
    if resp.get("error") is not None:
        raise UpstreamStreamError(*error_fields(resp["error"]))
    choices = require_type(resp.get("choices", []), list, "response.choices")
    choice = choices[0] if choices else {}
    require_type(choice, dict, "response.choices.0")
    message = choice.get("message") or {}
    require_type(message, dict, "response.choices.0.message")
    refusal = _refusal(message)
    content = _thinking(message) + _content(message.get("content")) + refusal
    calls = _tool_uses(message, tool_names)
    stop = finish_to_stop_reason(choice.get("finish_reason"))
    if calls and stop == "end_turn":
        # Some servers say "stop" after calling tools; the client must still run them.
        stop = "tool_use"
    elif refusal and stop == "end_turn":
        stop = "refusal"
    usage = resp.get("usage")
    return {
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content + calls,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": anthropic_usage(usage, input_tokens, _output_estimate(usage, content + calls)),
    }


def _output_estimate(usage: Any, blocks: list[dict[str, Any]]) -> int:
    """Output tokens counted locally, only when the upstream did not report them."""
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        return 0
    from lynkr_cli.serve.tokens import count_text

    parts = [b.get("text") or b.get("thinking") or json.dumps(b.get("input", "")) for b in blocks]
    return count_text("".join(str(p) for p in parts))


def _thinking(message: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("reasoning_content", "reasoning"):
        text = message.get(key)
        if isinstance(text, str) and text:
            return [{"type": "thinking", "thinking": text, "signature": ""}]
    return []


def _refusal(message: dict[str, Any]) -> list[dict[str, Any]]:
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        return [{"type": "text", "text": refusal}]
    return []


def _content(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    blocks: list[dict[str, Any]] = []
    for part in content:
        block = part_block(part)
        if block is not None:
            blocks.append(block)
    # Thinking first, whatever order the upstream used.
    return [b for b in blocks if b["type"] == "thinking"] + [
        b for b in blocks if b["type"] != "thinking"
    ]


def part_block(part: Any) -> dict[str, Any] | None:
    """One Databricks list-shaped content part as an Anthropic block (None to skip)."""
    if isinstance(part, str):
        return {"type": "text", "text": part} if part else None
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind == "text" and isinstance(part.get("text"), str) and part["text"]:
        return {"type": "text", "text": part["text"]}
    if kind == "reasoning":
        text, signature = reasoning_summary(part)
        if text or signature:
            return {"type": "thinking", "thinking": text, "signature": signature}
    return None


def reasoning_summary(part: dict[str, Any]) -> tuple[str, str]:
    """(text, signature) of a ``{"type":"reasoning","summary":[...]}`` part."""
    texts: list[str] = []
    signature = ""
    summary = part.get("summary")
    for item in summary if isinstance(summary, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("text"), str):
            texts.append(item["text"])
        if isinstance(item.get("signature"), str) and item["signature"]:
            signature = item["signature"]
    return "".join(texts), signature


def _tool_uses(message: dict[str, Any], names: Mapping[str, str] | None) -> list[dict[str, Any]]:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        legacy = message.get("function_call")
        calls = [{"function": legacy}] if isinstance(legacy, dict) else []
    blocks: list[dict[str, Any]] = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
            continue
        function = call["function"]
        name = function.get("name")
        blocks.append(
            {
                "type": "tool_use",
                "id": tool_use_id(call.get("id")),
                "name": restore_tool_name(name if isinstance(name, str) else "", names),
                "input": parse_arguments(function.get("arguments")),
            }
        )
    return blocks


def parse_arguments(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments as an object; unparseable text is kept, never silently lost."""
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return {"raw_arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"value": parsed}
