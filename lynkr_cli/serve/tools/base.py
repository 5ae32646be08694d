"""What every server-side tool receives, and the small helpers they share.

A tool is a :class:`lynkr_cli.registry.ToolSpec` whose ``run`` is
``async def run(args: dict, ctx: ToolContext) -> str | dict | list``. It raises a
:class:`lynkr_cli.errors.LynkrError` for anything the model did wrong; the loop turns
that into an ``is_error`` tool result the model can react to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import UsageError
from lynkr_cli.registry import ToolPolicy, ToolSpec

if TYPE_CHECKING:  # the settings model costs ~100 ms to import; `lynkr --help` never needs it
    from lynkr_cli.settings import Settings

Run = Callable[[dict[str, Any], "ToolContext"], Awaitable[Any]]
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}


def schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A JSON-schema object for a tool input."""
    return {"type": "object", "properties": properties, "required": required or []}


def spec(name: str, description: str, props: dict[str, Any], required: list[str],  # noqa: PLR0917
         policy: ToolPolicy, run: Run) -> ToolSpec:  # fmt: skip
    return ToolSpec(name, description, schema(props, required), policy, run)


def described(text: str, kind: dict[str, Any] = STR) -> dict[str, Any]:
    """A property schema of ``kind`` with a description."""
    return {**kind, "description": text}


# A tool result is sent to the model on every later step; keep it to a sane size.
MAX_RESULT_CHARS = 60_000


@dataclass
class ToolContext:
    """The settings and the resolved workspace root a tool works in.

    It also knows the environment the tool's subprocesses get (:meth:`env`) and masks
    secrets in anything the model will see (:meth:`redact`).
    """

    settings: Settings
    root: Path

    def env(self) -> dict[str, str]:
        """The allow-listed environment (``LYNKR_TOOL_ENV_PASS`` adds names)."""
        from lynkr_cli.procenv import allowed_environment

        return allowed_environment(self.settings.gateway.tool_env_pass)

    @cached_property
    def known(self) -> re.Pattern[str] | None:
        """The known secret values of this request (read once, on first use)."""
        from lynkr_cli.git.secrets import known_pattern
        from lynkr_cli.serve.tools.workspace import known_secret_values

        return known_pattern(known_secret_values(self.settings, self.root))

    def redact(self, text: str, path: str | PurePath | None = None) -> str:
        """``text`` (the content of ``path``, when it is one file's) with secrets masked."""
        from lynkr_cli.git.secrets import redact_secrets

        return redact_secrets(text, path, self.known)


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


def result_text(value: Any, ctx: ToolContext | None = None) -> str:
    """A tool's return value as the text the model sees: JSON for data, redacted, bounded."""
    from lynkr_cli.git.secrets import redact_secrets

    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    return truncate(ctx.redact(text) if ctx is not None else redact_secrets(text))


def truncate(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    return f"{text[:limit]}\n… [truncated {dropped} characters; narrow the request]"
