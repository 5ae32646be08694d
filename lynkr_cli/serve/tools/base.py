"""What every server-side tool receives, and the small helpers they share.

A tool is a :class:`lynkr_cli.registry.ToolSpec` whose ``run`` is
``async def run(args: dict, ctx: ToolContext) -> str | dict | list``. It raises a
:class:`lynkr_cli.errors.LynkrError` for anything the model did wrong; the loop turns
that into an ``is_error`` tool result the model can react to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import UsageError
from lynkr_cli.logs import redact_text

if TYPE_CHECKING:  # the settings model costs ~100 ms to import; `lynkr --help` never needs it
    from lynkr_cli.settings import Settings

# A tool result is sent to the model on every later step; keep it to a sane size.
MAX_RESULT_CHARS = 60_000


@dataclass
class ToolContext:
    """The settings and the resolved workspace root a tool works in."""

    settings: Settings
    root: Path


def arg_str(args: dict[str, Any], name: str, default: str | None = None) -> str:
    """A string argument; UsageError when required and missing or of the wrong type."""
    value = args.get(name, default)
    if value is None:
        raise UsageError(f"missing required argument '{name}'")
    if not isinstance(value, str):
        raise UsageError(f"argument '{name}' must be a string")
    return value


def arg_int(
    args: dict[str, Any], name: str, default: int | None, *, lo: int, hi: int
) -> int | None:
    """An optional integer argument clamped to ``[lo, hi]``."""
    value = args.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UsageError(f"argument '{name}' must be an integer")
    try:
        number = int(value)
    except ValueError as exc:
        raise UsageError(f"argument '{name}' must be an integer") from exc
    return max(lo, min(hi, number))


def arg_bool(args: dict[str, Any], name: str, default: bool) -> bool:
    value = args.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def result_text(value: Any) -> str:
    """A tool's return value as the text the model sees: JSON for data, redacted, bounded."""
    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    return truncate(redact_text(text))


def truncate(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    return f"{text[:limit]}\n… [truncated {dropped} characters; narrow the request]"
