"""The one stdout console, the one stderr console, and ``--json`` output.

Rich is imported only when a console is first used. Colour follows Rich's rules
(none when the stream is not a terminal) and ``NO_COLOR``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class _State:
    verbosity: int = 0
    quiet: bool = False


state = _State()
_consoles: dict[str, Console] = {}


def configure(*, verbosity: int = 0, quiet: bool = False) -> None:
    """Set the global ``-v``/``-q`` level (called once by the root callback)."""
    state.verbosity = verbosity
    state.quiet = quiet


def _make(stderr: bool) -> Console:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=stderr)


def out() -> Console:
    """The stdout console: results only."""
    # Re-created when the stream object changes (CliRunner swaps sys.stdout per invocation).
    key = f"out-{id(sys.stdout)}"
    if key not in _consoles:
        _consoles.clear()
        _consoles[key] = _make(stderr=False)
    return _consoles[key]


def err() -> Console:
    """The stderr console: diagnostics, warnings and progress."""
    key = f"err-{id(sys.stderr)}"
    if key not in _consoles:
        _consoles[key] = _make(stderr=True)
    return _consoles[key]


def print_json(document: Any) -> None:
    """Write exactly one JSON document to stdout (no Rich markup, no colour)."""
    import orjson

    data = orjson.dumps(
        document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default
    )
    sys.stdout.write(data.decode() + "\n")
    sys.stdout.flush()


def _default(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return "****"
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def warn(message: str) -> None:
    """A warning on stderr, unless ``-q``."""
    if not state.quiet:
        err().print(f"[yellow]warning:[/yellow] {_escape(message)}")


def info(message: str) -> None:
    """Progress or context on stderr, unless ``-q``."""
    if not state.quiet:
        err().print(_escape(message))


def debug(message: str) -> None:
    """Shown only with ``-v``."""
    if state.verbosity > 0 and not state.quiet:
        err().print(f"[dim]{_escape(message)}[/dim]")


def error(message: str, hint: str | None = None) -> None:
    """An error on stderr: always shown."""
    err().print(f"[bold red]error:[/bold red] {_escape(message)}")
    if hint:
        err().print(f"[dim]hint:[/dim] {_escape(hint)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
