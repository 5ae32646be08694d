"""Structured logs: one JSON object per line with level, timestamp, event and fields.

A redaction processor masks anything that looks like a credential, by key name
(``api_key``, ``authorization``, ``token``…, though not counts like ``input_tokens``)
by value shape (``sk-…``, ``Bearer …``) and the ``user:password@`` of URLs (a proxy's,
say), so a careless log call cannot leak a secret.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

_SECRET_KEY = re.compile(
    r"(api[_-]?key|authorization|token(?!s)|secret|password|passwd|cookie|credential)",
    re.IGNORECASE,
)
# A token starts a word: ``sk-`` inside a hash (``sha256=…Vsk-T-9z…``) or a word
# (``task-notification``) is no key, and masking it would mangle the text around it.
_SECRET_VALUE = re.compile(
    r"(Bearer\s+[A-Za-z0-9._~+/=-]{8,}|(?<![A-Za-z0-9_+/-])(?:sk-[A-Za-z0-9_-]{8,}"
    r"|dapi[a-f0-9]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}))"
)
# The userinfo of a URL with a password: scheme://user:password@host
_URL_USERINFO = re.compile(r"(?<=://)[^\s/?#@:]*:[^\s/?#@]*@")
MASK = "****"


def redact_text(text: str) -> str:
    """Mask credential-shaped substrings of free text."""
    if "://" in text:
        text = _URL_USERINFO.sub(MASK + "@", text)
    return _SECRET_VALUE.sub(MASK, text)


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with secrets masked, recursing through dicts and lists."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", False):
        return MASK
    if hasattr(value, "get_secret_value"):
        return MASK
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """structlog processor: mask secrets in every field."""
    for key in list(event_dict):
        if key in ("timestamp", "level"):
            continue
        event_dict[key] = redact(event_dict[key], key if key != "event" else "")
    return event_dict


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR


def configure(level: str = "info", stream: TextIO | None = None, fmt: str = "json") -> None:
    """Send logs at ``level`` or above to ``stream`` (stderr by default): JSON lines, or
    with ``fmt="text"`` one short human line each (for a terminal)."""
    import structlog

    renderer: Any
    if fmt == "text":
        renderer = structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0)
        stamp = structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False)
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            redact_processor,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    global log_format
    log_format = fmt


log_format = "json"  # what configure() chose; the access log follows it


def _dumps(obj: Any, **_: Any) -> str:
    import orjson

    return orjson.dumps(obj, default=str).decode()


def get_logger(name: str = "lynkr", **fields: Any) -> Any:
    """A bound structlog logger; call ``.info("event", key=value)``."""
    import structlog

    return structlog.get_logger(name).bind(logger=name, **fields)
