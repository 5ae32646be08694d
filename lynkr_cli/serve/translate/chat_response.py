"""The internal Anthropic Message -> an OpenAI ``chat.completion``.

Text blocks are joined without a separator (citations split one paragraph into several
blocks, and a stream joins them the same way); thinking becomes ``reasoning_content``, the
extension DeepSeek and vLLM use; ``tool_use`` blocks become ``tool_calls`` with compact
JSON arguments. Redacted thinking and server-tool blocks have no OpenAI form and are left
out. See docs/openai-clients.md.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from .common import message_id as new_message_id
from .common import openai_call_id
from .maps import openai_usage, stop_to_finish_reason


def completion_id(message_id: Any) -> str:
    """``chatcmpl-`` and the Anthropic message id's own digits."""
    text = message_id if isinstance(message_id, str) and message_id else new_message_id()
    return "chatcmpl-" + text.removeprefix("msg_")


def to_chat_completion(
    message: dict[str, Any], *, model: str, created: int | None = None
) -> dict[str, Any]:
    """A complete Anthropic Message as an OpenAI chat completion echoing ``model``."""
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    content = message.get("content")
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(_text(block.get("text")))
        elif kind == "thinking":
            thinking.append(_text(block.get("thinking")))
        elif kind == "tool_use":
            calls.append(tool_call(block))
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        reply["tool_calls"] = calls
    if thinking:
        reply["reasoning_content"] = "".join(thinking)
    return {
        "id": completion_id(message.get("id")),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": stop_to_finish_reason(message.get("stop_reason")),
            }
        ],
        "usage": openai_usage(message.get("usage")),
    }


def tool_call(block: dict[str, Any]) -> dict[str, Any]:
    """A ``tool_use`` block as one entry of OpenAI's ``tool_calls``."""
    return {
        "id": openai_call_id(str(block.get("id") or "")),
        "type": "function",
        "function": {"name": block.get("name") or "", "arguments": arguments(block.get("input"))},
    }


def arguments(value: Any) -> str:
    """Tool input as the JSON text OpenAI's ``arguments`` carry (``{}`` when empty)."""
    return orjson.dumps(value if value is not None else {}).decode()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
