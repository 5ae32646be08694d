"""The one stdout console, the one stderr console, tables, and ``--json`` output.

Rich is imported only when a console is first used. Colour follows Rich's rules
(none when the stream is not a terminal) and ``NO_COLOR``.

Human output never parses user data as Rich markup or ``:emoji:`` codes: lines go
through :func:`say` (plain text, optionally one style) and tables through
:func:`table`, whose cells are plain text. When stdout is not a terminal (a pipe, a
file, Claude Code's Bash tool) nothing is wrapped or cut, and a table prints as
tab-separated rows under a header line, as ``gh`` does, ready for ``cut`` and ``awk``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console


class _State:
    verbosity: int = 0
    quiet: bool = False
    json_errors: bool = False  # the command line asked for --json: errors become JSON too
    json_printed: bool = False  # a JSON document is on stdout already (never print two)


state = _State()
_consoles: dict[str, Console] = {}


class Styled(NamedTuple):
    """A table cell or line fragment: plain text shown in a Rich style on a terminal."""

    text: str
    style: str = ""


Cell = str | int | float | Styled | None


def configure(*, verbosity: int = 0, quiet: bool = False) -> None:
    """Set the global ``-v``/``-q`` level (called once by the root callback)."""
    state.verbosity = verbosity
    state.quiet = quiet


def begin(argv: Sequence[str]) -> None:
    """Reset per-invocation output state; ``--json`` before any ``--`` asks for JSON errors."""
    state.json_printed = False
    state.json_errors = wants_json(argv)


def wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (words after ``--`` are someone else's)."""
    for word in argv:
        if word == "--":
            return False
        if word == "--json":
            return True
    return False


def _make(stderr: bool) -> Console:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    # soft_wrap: a long line is the terminal's to wrap, and is never broken in a pipe.
    return Console(stderr=stderr, no_color=no_color, highlight=False, emoji=False, soft_wrap=True)


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


def is_terminal() -> bool:
    """Whether stdout is a terminal (tables are drawn) rather than a pipe or file (TSV)."""
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


# --------------------------------------------------------------------------- human output


def say(*parts: str | Styled, style: str = "") -> None:
    """One line on stdout from plain-text parts (``Styled`` ones coloured on a terminal).

    Nothing in the parts is read as markup, so paths and names print as they are.
    """
    if not is_terminal():
        sys.stdout.write("".join(_plain(p) for p in parts) + "\n")
        sys.stdout.flush()
        return
    out().print(_text(parts, style))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    row_styles: Sequence[str] | None = None,
    no_wrap: Sequence[int] = (),
) -> None:
    """Print a table on stdout: drawn by Rich on a terminal, tab-separated when piped.

    Piped, the first line is the header and every row is one line; a tab or newline
    inside a cell becomes a space, so each row keeps exactly ``len(headers)`` fields.
    """
    materialised = [list(row) for row in rows]
    if not is_terminal():
        lines = [_tsv(headers), *(_tsv([_plain(c) for c in row]) for row in materialised)]
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
        return
    from rich.table import Table

    drawn = Table(*headers)
    for index in no_wrap:
        drawn.columns[index].no_wrap = True
    for number, row in enumerate(materialised):
        style = row_styles[number] if row_styles else ""
        drawn.add_row(*(_text([cell]) for cell in row), style=style or None)
    out().print(drawn, soft_wrap=False)


def _plain(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Styled):
        return cell.text
    return str(cell)


def _tsv(cells: Sequence[str]) -> str:
    return "\t".join(
        " ".join(cell.split("\t")).replace("\r", " ").replace("\n", " ") for cell in cells
    )


def _text(parts: Iterable[Cell], style: str = "") -> Any:
    from rich.text import Text

    text = Text(style=style)
    for part in parts:
        if isinstance(part, Styled):
            text.append(part.text, style=part.style or None)
        else:
            text.append(_plain(part))
    return text


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 file"``, ``"2 files"``; ``many`` for irregular plurals (``"entries"``)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


# --------------------------------------------------------------------------- JSON


def print_json(document: Any) -> None:
    """Write exactly one JSON document to stdout (no Rich markup, no colour)."""
    import orjson

    data = orjson.dumps(
        document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default
    )
    sys.stdout.write(data.decode() + "\n")
    sys.stdout.flush()
    state.json_printed = True


def _default(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return "****"
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_error_json(code: str, exit_code: int, message: str, hint: str | None) -> None:
    """The ``--json`` error document on stdout, unless a document is already there."""
    if state.json_printed:
        return
    error = {"code": code, "exit": exit_code, "message": message, "hint": hint}
    print_json({"error": error})


# --------------------------------------------------------------------------- stderr


def warn(message: str) -> None:
    """A warning on stderr, unless ``-q``."""
    if not state.quiet:
        err().print(_text([Styled("warning:", "yellow"), " ", message]))


def info(message: str) -> None:
    """Progress or context on stderr, unless ``-q``."""
    if not state.quiet:
        err().print(_text([message]))


def debug(message: str) -> None:
    """Shown only with ``-v``."""
    if state.verbosity > 0 and not state.quiet:
        err().print(_text([message], "dim"))


def error(message: str, hint: str | None = None) -> None:
    """An error on stderr: always shown."""
    err().print(_text([Styled("error:", "bold red"), " ", message]))
    if hint:
        err().print(_text([Styled("hint:", "dim"), " ", hint]))
