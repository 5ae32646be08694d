"""Helpers shared by the request, response and stream translators.

Tool names: OpenAI limits function names to 64 characters while Anthropic allows 128, so
longer names are shortened to a 55-character prefix, ``_`` and an 8-hex digest. The mapping
back is kept in a bounded process-wide table filled by the request translator, so a response
translated in the same process restores the client's exact name. Names are never lowercased
or otherwise changed: Claude Code rejects ``bash`` for ``Bash``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .maps import anthropic_error_type

OPENAI_NAME_LIMIT = 64
OPENAI_ID_LIMIT = 40
_PREFIX_LEN = 55
_REGISTRY_LIMIT = 4096
_ID_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class UpstreamStreamError(Exception):
    """An OpenAI-format stream carried an ``error`` object instead of a chunk."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class _NameRegistry:
    """short name -> original name, bounded (LRU) so a long-lived gateway cannot grow it."""

    def __init__(self, limit: int) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def remember(self, short: str, original: str) -> None:
        with self._lock:
            self._names[short] = original
            self._names.move_to_end(short)
            while len(self._names) > self._limit:
                self._names.popitem(last=False)

    def lookup(self, short: str) -> str | None:
        with self._lock:
            return self._names.get(short)


_REGISTRY = _NameRegistry(_REGISTRY_LIMIT)


def shorten_tool_name(name: str) -> str:
    """The name sent upstream: unchanged when it fits, else prefix + ``_`` + 8-hex digest."""
    if len(name) <= OPENAI_NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    short = f"{name[:_PREFIX_LEN]}_{digest}"
    _REGISTRY.remember(short, name)
    return short


def restore_tool_name(name: str, names: Mapping[str, str] | None = None) -> str:
    """The client's name for an upstream function name (explicit map first, then registry)."""
    if names is not None and name in names:
        return names[name]
    if len(name) == OPENAI_NAME_LIMIT:
        return _REGISTRY.lookup(name) or name
    return name


def openai_call_id(tool_id: str) -> str:
    """A tool_use id as an OpenAI tool_call id: OpenAI caps ids at 40 characters.

    Deterministic, so a call and its result (translated separately) still match.
    """
    if len(tool_id) <= OPENAI_ID_LIMIT:
        return tool_id
    return "call_" + hashlib.sha256(tool_id.encode("utf-8")).hexdigest()[:32]


def tool_use_id(raw: Any) -> str:
    """A valid Anthropic tool_use id (``^[A-Za-z0-9_-]+$``) from whatever the upstream sent."""
    if isinstance(raw, str) and raw:
        cleaned = _ID_BAD_CHARS.sub("_", raw)
        return cleaned if cleaned.startswith(("toolu_", "call_")) else f"toolu_{cleaned}"
    return f"toolu_{uuid.uuid4().hex[:24]}"


_MSG_PREFIX = secrets.token_hex(6)
_msg_ids = itertools.count(1)


def message_id() -> str:
    """``msg_`` and 24 hex digits: a random per-process prefix and a counter (a uuid4 costs
    a urandom call per message)."""
    return f"msg_{_MSG_PREFIX}{next(_msg_ids) & 0xFFFFFFFFFFFF:012x}"


def require_type(value: Any, kind: type | tuple[type, ...], field: str) -> Any:
    """``value`` if it has the expected type; else a TypeError naming the field."""
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise TypeError(f"{field}: expected a number, got a boolean")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise TypeError(f"{field}: expected {names}, got {type(value).__name__}")
    return value


def error_fields(error: Any) -> tuple[str, str]:
    """(Anthropic error type, message) for an upstream ``error`` member of any shape."""
    if isinstance(error, dict):
        message = error.get("message")
        kind = error.get("type") or error.get("code")
        text = message if isinstance(message, str) else str(error)
        return anthropic_error_type(kind), text
    return "api_error", str(error)


class ChatRequestError(ValueError):
    """A client's OpenAI chat request that cannot be answered: ``param`` names the field the
    way OpenAI does (``messages[2].tool_calls[0].function.arguments``), for a 400 in
    OpenAI's error shape."""

    def __init__(self, param: str | None, problem: str) -> None:
        super().__init__(f"{param}: {problem}" if param else problem)
        self.param = param
        self.problem = problem


def json_kind(value: Any) -> str:
    """How a JSON value is called in an error message: ``a string``, ``null``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
