"""The Anthropic <-> OpenAI mappings, each defined once and read in both directions.

Outbound (an OpenAI-format upstream) and inbound (an OpenAI-format client) translation both
use these tables: stop reasons, tool choice, image sources, usage, reasoning effort and
error types. Where a direction has extra one-way entries (``function_call`` only exists in
OpenAI, ``pause_turn`` only in Anthropic) they sit next to the shared pairs.
"""

from __future__ import annotations

import math
import re
from typing import Any

# -- stop reasons --------------------------------------------------------------------------

# (OpenAI finish_reason, Anthropic stop_reason), read both ways.
FINISH_PAIRS = (
    ("stop", "end_turn"),
    ("length", "max_tokens"),
    ("tool_calls", "tool_use"),
    ("content_filter", "refusal"),
)
_TO_STOP = {**dict(FINISH_PAIRS), "function_call": "tool_use"}
_TO_FINISH = {
    **{anthropic: openai for openai, anthropic in FINISH_PAIRS},
    "stop_sequence": "stop",
    "pause_turn": "stop",  # a paused server-tool turn: the client sees an ordinary end
    "model_context_window_exceeded": "length",
}


def finish_to_stop_reason(finish_reason: Any) -> str:
    """OpenAI ``finish_reason`` -> Anthropic ``stop_reason`` (anything unknown: end_turn)."""
    return _TO_STOP.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"


def stop_to_finish_reason(stop_reason: Any) -> str:
    """Anthropic ``stop_reason`` -> OpenAI ``finish_reason`` (anything unknown: stop)."""
    return _TO_FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


# -- tool choice ---------------------------------------------------------------------------

# (OpenAI string, Anthropic type); a named function <-> {"type": "tool", "name"}.
TOOL_CHOICE_PAIRS = (("auto", "auto"), ("required", "any"), ("none", "none"))
_CHOICE_TO_ANTHROPIC = dict(TOOL_CHOICE_PAIRS)
_CHOICE_TO_OPENAI = {anthropic: openai for openai, anthropic in TOOL_CHOICE_PAIRS}


def tool_choice_to_openai(kind: Any, name: str | None = None) -> Any:
    """An Anthropic ``tool_choice.type`` (and name) as OpenAI's ``tool_choice``."""
    if kind == "tool":
        return {"type": "function", "function": {"name": name}}
    if isinstance(kind, str) and kind in _CHOICE_TO_OPENAI:
        return _CHOICE_TO_OPENAI[kind]
    raise ValueError(f"tool_choice.type: expected auto, any, tool or none, got {kind!r}")


def tool_choice_to_anthropic(choice: Any) -> dict[str, Any] | None:
    """OpenAI's ``tool_choice`` as an Anthropic one; None when the shape is not one of these."""
    if isinstance(choice, str):
        kind = _CHOICE_TO_ANTHROPIC.get(choice)
        return {"type": kind} if kind is not None else None
    if isinstance(choice, dict) and choice.get("type") == "function":
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name:
            return {"type": "tool", "name": name}
    return None


# -- images and files ----------------------------------------------------------------------

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)((?:;[\w.+-]+=[^;,]*)*);base64,", re.ASCII)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


def parse_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a ``data:<type>;base64,<data>`` URL, else None."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    return match.group(1).lower(), url[match.end() :]


def image_source_to_url(source: dict[str, Any]) -> str | None:
    """An Anthropic image ``source`` (base64 or url) as the URL OpenAI's ``image_url`` takes."""
    kind = source.get("type")
    if kind == "base64":
        media, data = source.get("media_type"), source.get("data")
        return data_url(media, data) if isinstance(media, str) and isinstance(data, str) else None
    if kind == "url":
        url = source.get("url")
        return url if isinstance(url, str) else None
    return None


def image_url_to_source(url: str) -> dict[str, Any]:
    """OpenAI's ``image_url.url`` as an Anthropic image ``source``; ValueError says why not."""
    if url.startswith("data:"):
        parsed = parse_data_url(url)
        if parsed is None:
            raise ValueError("expected a base64 data URL (data:image/png;base64,...)")
        media, data = parsed
        if media not in IMAGE_TYPES:
            raise ValueError(f"image type {media!r} is not supported; use {', '.join(IMAGE_TYPES)}")
        return {"type": "base64", "media_type": media, "data": data}
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    raise ValueError("expected an http(s) URL or a base64 data URL")


# -- usage ---------------------------------------------------------------------------------


def anthropic_usage(
    usage: Any, fallback_input: int = 0, fallback_output: int = 0
) -> dict[str, int]:
    """OpenAI usage -> Anthropic usage, where ``input_tokens`` excludes cached tokens."""
    if not isinstance(usage, dict):
        return _anthropic(fallback_input, fallback_output, 0)
    # A zero prompt count (some local servers) would stop Claude Code from auto-compacting.
    prompt = _int(usage.get("prompt_tokens"), 0) or fallback_input
    completion = _int(usage.get("completion_tokens"), fallback_output)
    details = usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens"), 0) if isinstance(details, dict) else 0
    # DeepSeek reports its cache hits under its own name.
    cached = cached or _int(usage.get("prompt_cache_hit_tokens"), 0)
    return _anthropic(max(prompt - cached, 0), completion, cached)


def openai_usage(usage: Any) -> dict[str, Any]:
    """Anthropic usage -> OpenAI usage, where ``prompt_tokens`` includes cached tokens.

    The inverse of :func:`anthropic_usage`: cache reads are OpenAI's ``cached_tokens``;
    cache writes are ordinary prompt tokens to OpenAI, which has no such count.
    """
    usage = usage if isinstance(usage, dict) else {}
    cached = _int(usage.get("cache_read_input_tokens"), 0)
    prompt = (
        _int(usage.get("input_tokens"), 0)
        + cached
        + _int(usage.get("cache_creation_input_tokens"), 0)
    )
    completion = _int(usage.get("output_tokens"), 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def _anthropic(input_tokens: int, output_tokens: int, cached: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


_COUNT_LIMIT = 2**53  # sums of counts stay exact, and within a JSON encoder's 64 bits


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default
    return min(max(int(value), 0), _COUNT_LIMIT)


# -- reasoning effort <-> thinking budget --------------------------------------------------

# OpenAI effort -> Anthropic thinking budget. Read the other way, a budget maps to the
# first effort whose budget covers it (<= 1024 low, <= 8192 medium, else high), the
# buckets claude-code-router uses. 1024 is Anthropic's smallest budget.
EFFORT_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}
EXTRA_EFFORT_BUDGETS = {"minimal": 1024, "xhigh": 32768, "max": 65536}
THINKING_MIN_BUDGET = 1024


def effort_to_budget(effort: str) -> int | None:
    """The thinking budget for an OpenAI ``reasoning_effort``; None for ``none``/unknown."""
    return EFFORT_BUDGETS.get(effort) or EXTRA_EFFORT_BUDGETS.get(effort)


def budget_to_effort(budget: Any) -> str:
    """The OpenAI ``reasoning_effort`` bucket of an Anthropic thinking budget."""
    if not isinstance(budget, int) or isinstance(budget, bool):
        return "low"
    for effort, limit in EFFORT_BUDGETS.items():
        if budget <= limit and effort != "high":
            return effort
    return "high"


# -- error types ---------------------------------------------------------------------------

ANTHROPIC_ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "rate_limit_error",
        "api_error",
        "overloaded_error",
        "request_too_large",
        "timeout_error",
    }
)


def anthropic_error_type(kind: Any) -> str:
    """The Anthropic error type for an upstream's ``type`` or ``code`` of either family."""
    if isinstance(kind, str) and kind in ANTHROPIC_ERROR_TYPES:
        return kind
    if kind in ("rate_limit_exceeded", "insufficient_quota", "requests", "tokens", 429):
        return "rate_limit_error"
    if kind == "invalid_api_key":
        return "authentication_error"
    return "api_error"
