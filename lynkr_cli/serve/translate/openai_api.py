"""OpenAI's shapes for what is not a completion: errors, rate-limit headers, the models list.

Errors follow what api.openai.com sends (and what the ``openai`` SDK reads): the HTTP
status picks the SDK's exception class, the body is ``{"error": {"message", "type",
"param", "code"}}``. OpenAI's types are ``invalid_request_error`` for every 4xx but 429,
``requests`` or ``tokens`` (the limit that tripped) with code ``rate_limit_exceeded`` for a
429, and ``server_error`` for a 5xx. A 401 carries code ``invalid_api_key``. Anthropic's
529 (overloaded) has no OpenAI equivalent and becomes 503, which the SDK retries the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

# The HTTP status each Anthropic error type stands for (for errors that come without one:
# an ``error`` event in the middle of a stream).
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "timeout_error": 504,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 503,
}
RateLimit = Literal["requests", "tokens"]


def openai_error(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    limit: RateLimit = "requests",
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a gateway error in OpenAI's shape.

    ``limit`` says which limit a 429 is about; ``code`` overrides the default code
    (``model_not_found`` for an unknown model, say).
    """
    status = 503 if status == 529 else status
    if status == 429:
        kind: str = limit
        code = code or "rate_limit_exceeded"
    elif status >= 500:
        kind = "server_error"
    else:
        kind = "invalid_request_error"
        if status == 401:
            code = code or "invalid_api_key"
    return status, {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_error_event(error_type: str, message: str) -> dict[str, Any]:
    """An Anthropic ``error`` event's content as the ``{"error": ...}`` object OpenAI streams."""
    return openai_error(ERROR_STATUS.get(error_type, 500), message)[1]


def error_frame(error_type: str, message: str) -> bytes:
    """The SSE frame that ends a chat stream with an error: the ``openai`` SDK raises
    ``APIError`` with this message when it reads a ``data:`` line carrying ``error``."""
    return b"data: " + orjson.dumps(openai_error_event(error_type, message)) + b"\n\n"


# -- rate-limit headers ---------------------------------------------------------------------

_ANTHROPIC = "anthropic-ratelimit-"
# OpenAI's limit name -> the Anthropic header families that stand for it, first found wins.
_FAMILIES: dict[str, tuple[str, ...]] = {
    "requests": ("requests",),
    "tokens": ("tokens", "input-tokens"),
}


def openai_ratelimit_headers(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` from Anthropic's
    ``anthropic-ratelimit-*`` headers. Resets, an RFC 3339 time in Anthropic's headers,
    become the time left in OpenAI's duration format (``1s``, ``6m0s``, ``12ms``)."""
    found = {k.lower(): v for k, v in headers.items() if k.lower().startswith(_ANTHROPIC)}
    out: dict[str, str] = {}
    for name, families in _FAMILIES.items():
        family = next((f for f in families if f"{_ANTHROPIC}{f}-limit" in found), None)
        if family is None:
            continue
        for field in ("limit", "remaining"):
            value = found.get(f"{_ANTHROPIC}{family}-{field}")
            if value is not None and value.strip().isdigit():
                out[f"x-ratelimit-{field}-{name}"] = value.strip()
        seconds = _seconds_until(found.get(f"{_ANTHROPIC}{family}-reset"), now)
        if seconds is not None:
            out[f"x-ratelimit-reset-{name}"] = go_duration(seconds)
    return out


def _seconds_until(reset: str | None, now: datetime | None) -> float | None:
    if reset is None:
        return None
    reset = reset.strip()
    try:
        return max(float(reset), 0.0)  # already a number of seconds
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(reset)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def go_duration(seconds: float) -> str:
    """A duration the way OpenAI writes resets (Go's ``time.Duration``), to the millisecond:
    ``0s``, ``12ms``, ``1s``, ``17.5s``, ``6m0s``, ``1h2m3s``."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "0s"
    total_ms = round(seconds * 1000)
    if total_ms < 1000:
        return f"{total_ms}ms" if total_ms else "0s"
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, ms = divmod(rest, 60_000)
    secs = f"{ms // 1000}" if ms % 1000 == 0 else f"{ms / 1000:.3f}".rstrip("0")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


# -- models --------------------------------------------------------------------------------


def wants_openai_shape(headers: Mapping[str, str]) -> bool:
    """Whether a ``GET /v1/models`` comes from an OpenAI-style client: it authenticates with
    ``Authorization: Bearer`` and sends no ``anthropic-version`` (Anthropic's SDKs and
    Claude Code always send one, even when they authenticate with a bearer token)."""
    names = {k.lower(): v for k, v in headers.items()}
    auth = names.get("authorization", "")
    return auth[:7].lower() == "bearer " and "anthropic-version" not in names


def openai_models(
    ids: Iterable[str], *, created: int = 0, owned_by: str = "lynkr"
) -> dict[str, Any]:
    """``{"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}``,
    each id once, in order."""
    data = [
        {"id": model, "object": "model", "created": created, "owned_by": owned_by}
        for model in dict.fromkeys(ids)
    ]
    return {"object": "list", "data": data}
