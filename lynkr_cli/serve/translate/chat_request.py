"""An OpenAI chat-completions request -> the gateway's internal Anthropic Messages request.

``from_chat_request`` validates as it goes: every client mistake is a ``ChatRequestError``
naming the field in OpenAI's terms, for a 400 in OpenAI's error shape. Fields OpenAI does
not know are rejected as OpenAI rejects them; OpenAI fields with no Anthropic meaning are
either accepted without effect (listed in ``ChatRequest.ignored``) or, when the answer
could not have the shape the client expects (``n > 1``, ``logprobs``, audio), rejected.
docs/openai-clients.md has every rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .chat_messages import convert_messages
from .chat_tools import convert_tools
from .common import ChatRequestError, json_kind
from .maps import THINKING_MIN_BUDGET, effort_to_budget

# Accepted, but Anthropic has nothing to do with them (as Anthropic's own OpenAI layer).
IGNORED_FIELDS = frozenset(
    {
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "seed",
        "service_tier",
        "store",
        "prediction",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "verbosity",
        "moderation",
    }
)
# Not OpenAI's, but what OpenAI-compatible servers accept and Anthropic means the same by.
EXTENSION_FIELDS = frozenset({"top_k", "thinking"})
_HANDLED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "user",
        "safety_identifier",
        "metadata",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "reasoning_effort",
        "n",
        "logprobs",
        "top_logprobs",
        "modalities",
        "audio",
        "functions",
        "function_call",
        "web_search_options",
    }
)
KNOWN_FIELDS = _HANDLED | IGNORED_FIELDS | EXTENSION_FIELDS
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
JSON_OBJECT_INSTRUCTION = (
    "Answer with one JSON object and nothing else: no prose before or after it, "
    "no Markdown code fence."
)
_USER_ID_LIMIT = 256


@dataclass(frozen=True)
class ChatRequest:
    """A translated request: the Anthropic body, and what the answer's writer must know."""

    body: dict[str, Any]
    stream: bool
    include_usage: bool
    ignored: tuple[str, ...] = ()  # OpenAI fields that were accepted without effect


def from_chat_request(
    body: Any, *, default_max_tokens: int, structured_output: bool = True
) -> ChatRequest:
    """Translate an OpenAI chat request (parsed JSON) into an Anthropic Messages request.

    ``default_max_tokens`` applies when the client sets neither ``max_completion_tokens``
    nor ``max_tokens``. ``structured_output=False`` is for upstreams without Anthropic's
    structured outputs: a ``json_schema`` response format becomes a system instruction.
    """
    if not isinstance(body, dict):
        raise ChatRequestError("body", f"expected a JSON object, got {json_kind(body)}")
    _reject_unknown(body)
    _reject_unsupported(body)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ChatRequestError("model", f"expected a non-empty string, got {json_kind(model)}")
    system, messages = convert_messages(body.get("messages"))
    out: dict[str, Any] = {"model": model, "max_tokens": _max_tokens(body, default_max_tokens)}
    notes = [k for k in sorted(IGNORED_FIELDS) if body.get(k) is not None]
    system.extend(_response_format(body.get("response_format"), out, structured_output))
    if system:
        out["system"] = system
    out["messages"] = messages
    _sampling(body, out, notes)
    _stop(body.get("stop"), out, notes)
    _user(body, out)
    convert_tools(body, out, strict=structured_output)
    _thinking(body, out, notes)
    stream, include_usage = _stream(body)
    if stream:
        out["stream"] = True
    return ChatRequest(out, stream, include_usage, tuple(notes))


def _reject_unknown(body: dict[str, Any]) -> None:
    for key in body:
        if key not in KNOWN_FIELDS:
            raise ChatRequestError(key, "Unrecognized request argument supplied")


def _reject_unsupported(body: dict[str, Any]) -> None:
    """OpenAI fields whose answer this gateway cannot give in the shape the client expects."""
    n = body.get("n")
    if n is not None and n != 1:
        raise ChatRequestError("n", f"only n=1 is supported, got {n!r}")
    if body.get("logprobs"):
        raise ChatRequestError("logprobs", "log probabilities are not available")
    if body.get("top_logprobs"):
        raise ChatRequestError("top_logprobs", "log probabilities are not available")
    modalities = body.get("modalities")
    if modalities is not None and (
        not isinstance(modalities, list) or any(m != "text" for m in modalities)
    ):
        raise ChatRequestError("modalities", 'only ["text"] output is supported')
    if body.get("audio") is not None:
        raise ChatRequestError("audio", "audio output is not supported")
    if body.get("web_search_options") is not None:
        raise ChatRequestError("web_search_options", "web search is not supported on this route")
    for legacy in ("functions", "function_call"):
        if body.get(legacy) is not None:
            raise ChatRequestError(legacy, f"{legacy} is deprecated; use tools and tool_choice")


def _positive_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ChatRequestError(key, f"expected a positive integer, got {value!r}")
    return value


def _max_tokens(body: dict[str, Any], default: int) -> int:
    # max_completion_tokens is OpenAI's current name; max_tokens the deprecated one.
    completion = _positive_int(body, "max_completion_tokens")
    legacy = _positive_int(body, "max_tokens")
    return completion or legacy or default


def _number(body: dict[str, Any], key: str, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ChatRequestError(key, f"expected a number, got {json_kind(value)}")
    if not 0 <= value <= high:
        raise ChatRequestError(key, f"expected a number from 0 to {high:g}, got {value!r}")
    return value


def _sampling(body: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
    temperature = _number(body, "temperature", 2)
    top_p = _number(body, "top_p", 1)
    if temperature is not None:
        out["temperature"] = min(temperature, 1.0)  # Anthropic's range is 0..1
    if top_p is not None:
        if temperature is None:
            out["top_p"] = top_p
        else:
            # Recent Claude models take one of the two, never both.
            notes.append("top_p (temperature is set)")
    top_k = body.get("top_k")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
            raise ChatRequestError("top_k", f"expected a non-negative integer, got {top_k!r}")
        out["top_k"] = top_k


def _stop(stop: Any, out: dict[str, Any], notes: list[str]) -> None:
    if stop is None:
        return
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list):
        raise ChatRequestError("stop", f"expected a string or an array, got {json_kind(stop)}")
    kept: list[str] = []
    for i, item in enumerate(stops):
        if not isinstance(item, str):
            raise ChatRequestError(f"stop[{i}]", f"expected a string, got {json_kind(item)}")
        if item.strip():
            kept.append(item)
    if len(kept) < len(stops):
        notes.append("stop (whitespace-only sequences)")  # the Messages API rejects them
    if kept:
        out["stop_sequences"] = kept


def _user(body: dict[str, Any], out: dict[str, Any]) -> None:
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ChatRequestError("metadata", f"expected an object, got {json_kind(metadata)}")
    candidates = [
        ("user", body.get("user")),
        ("safety_identifier", body.get("safety_identifier")),
        ("metadata.user", (metadata or {}).get("user")),
    ]
    for key, value in candidates:
        if value is None:
            continue
        if not isinstance(value, str):
            raise ChatRequestError(key, f"expected a string, got {json_kind(value)}")
        if value:
            out["metadata"] = {"user_id": _user_id(value)}
            return


def _user_id(value: str) -> str:
    if len(value) <= _USER_ID_LIMIT:
        return value
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _stream(body: dict[str, Any]) -> tuple[bool, bool]:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ChatRequestError("stream", f"expected a boolean, got {json_kind(stream)}")
    options = body.get("stream_options")
    if options is None:
        return stream is True, False
    if stream is not True:
        raise ChatRequestError("stream_options", "only allowed when stream is true")
    if not isinstance(options, dict):
        raise ChatRequestError("stream_options", f"expected an object, got {json_kind(options)}")
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise ChatRequestError(
            "stream_options.include_usage", f"expected a boolean, got {json_kind(include)}"
        )
    return True, include is True


# -- response format and reasoning --------------------------------------------------------


def _response_format(fmt: Any, out: dict[str, Any], structured: bool) -> list[dict[str, Any]]:
    """Set ``output_config.format`` for a JSON schema; returns system text blocks to add."""
    if fmt is None:
        return []
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text":
        return []
    if kind == "json_object":
        return [{"type": "text", "text": JSON_OBJECT_INSTRUCTION}]
    if kind != "json_schema":
        raise ChatRequestError(
            "response_format.type", f"expected text, json_object or json_schema, got {kind!r}"
        )
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict):
        raise ChatRequestError(
            "response_format.json_schema", f"expected an object, got {json_kind(spec)}"
        )
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise ChatRequestError("response_format.json_schema.name", "field required")
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise ChatRequestError(
            "response_format.json_schema.schema", f"expected an object, got {json_kind(schema)}"
        )
    if structured:
        out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        return []
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return [
        {
            "type": "text",
            "text": f"{JSON_OBJECT_INSTRUCTION} The object must match this JSON schema: {text}",
        }
    ]


def _thinking(body: dict[str, Any], out: dict[str, Any], notes: list[str]) -> None:
    thinking = body.get("thinking")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise ChatRequestError("reasoning_effort", f"expected one of {', '.join(EFFORTS)}")
    if thinking is not None:
        if not isinstance(thinking, dict) or not isinstance(thinking.get("type"), str):
            raise ChatRequestError("thinking", "expected an object with a string 'type'")
        config: dict[str, Any] | None = thinking
    else:
        config = _effort_thinking(effort, out["max_tokens"]) if effort is not None else None
    if config is None or config.get("type") == "disabled":
        if effort not in (None, "none") and config is None:
            notes.append("reasoning_effort (max tokens too small for thinking)")
        return
    choice = out.get("tool_choice", {}).get("type")
    if choice in ("any", "tool"):
        notes.append("reasoning_effort (a forced tool choice)")  # Anthropic rejects the pair
        return
    if _continues_tool_turn(out["messages"]):
        # Claude demands the signed thinking of the turn being continued, which an OpenAI
        # client cannot send back.
        notes.append("reasoning_effort (continuing a tool call)")
        return
    out["thinking"] = config
    for key in ("temperature", "top_p", "top_k"):
        if out.pop(key, None) is not None:
            notes.append(f"{key} (thinking is on)")


def _effort_thinking(effort: str, max_tokens: int) -> dict[str, Any] | None:
    budget = effort_to_budget(effort)
    if budget is None:
        return None
    budget = min(budget, max_tokens - 1)  # the budget must stay below max_tokens
    if budget < THINKING_MIN_BUDGET:
        return None
    return {"type": "enabled", "budget_tokens": budget}


def _continues_tool_turn(messages: list[dict[str, Any]]) -> bool:
    for message in reversed(messages):
        if message["role"] == "assistant":
            return any(b["type"] == "tool_use" for b in message["content"])
    return False
