"""One way into each command: the ``lynkr`` script runs some commands before Typer loads.

Importing Typer and the plugins, building the app and letting Typer coerce the
parameters (it imports pydantic for that) costs a ``lynkr`` process about 0.2 s
before any command starts: more than ``lynkr index`` takes to find that nothing
changed. So a Typer callback may name the function that does its work, ``@runs(
"module:function")``: Typer calls that function with the callback's keyword
arguments, and the ``lynkr`` script (``__main__.py``) can call the very same
function itself, after parsing the command line with :data:`entry_table`.

That table is not written by hand: ``cli.entry_table()`` builds it from the Typer
app's own parameter declarations (``scripts/gen_entry_table.py`` writes it, and
``tests/core/test_entry.py`` fails when the app and the table differ). :func:`run`
reads a command line as click would, and leaves it to the full CLI, with nothing
done, whenever the table does not settle it: ``--help``, ``--version``, shell
completion, an option the command does not have or a value it cannot convert as
Typer does, a command that did not ask to be run this way, or a third-party plugin
that would load (any plugin may change any command). What goes wrong while the
command runs goes through the CLI's one error boundary (``cli.boundary``), which
is imported (with Typer) only then.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from lynkr_cli import console, entry_table, sources

COMPLETE_VAR = "_LYNKR_COMPLETE"  # set by the shell completion scripts
HELP_NAMES = ("-h", "--help")
VALUE_KINDS = ("str", "path")  # option and argument types converted here as Typer does

Spec = dict[str, Any]


def runs(target: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make ``target`` (``"module:function"``) the body of a Typer callback.

    The declared function keeps the parameters (Typer reads them through
    ``__wrapped__``); its own body is never run. Typer calls ``target`` with the
    callback's keyword arguments, and so does :func:`run`, before Typer loads.
    """

    def wrap(declared: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(declared)
        def call(**kwargs: Any) -> Any:
            return resolve(target)(**kwargs)

        call.__lynkr_runs__ = target  # type: ignore[attr-defined]
        return call

    return wrap


def resolve(target: str) -> Callable[..., Any]:
    """The function a ``"module:function"`` name stands for."""
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def configure(
    *, version: bool = False, verbose: int = 0, quiet: bool = False, config: Path | None = None
) -> None:
    """The options every command shares (``--version`` has its own eager callback)."""
    console.configure(verbosity=verbose, quiet=quiet)
    sources.set_config_file(config)


def route(args: list[str], commands: Iterable[str], default: str) -> list[str]:
    """A group with a default command (``lynkr index [PATH]``): the command line goes to
    ``default`` unless its first word names one of ``commands``, or it asks for help."""
    first = next((a for a in args if not a.startswith("-")), None)
    wants_help = any(a in HELP_NAMES for a in args)
    if (first is None and not wants_help) or (first is not None and first not in commands):
        return [default, *args]
    return args


# --------------------------------------------------------------------------- dispatch


class Found(NamedTuple):
    """A command line this module can run: the root options and the command's."""

    root: dict[str, Any]
    run: str
    kwargs: dict[str, Any]


def run(argv: list[str], boundary: Callable[[BaseException], int]) -> int | None:
    """The exit code of the command ``argv`` names, run here; None: the full CLI runs.

    ``boundary`` turns what the command raises into its exit code: the CLI's own
    (``cli.boundary``), which ``__main__`` hands over (it imports Typer).
    """
    if os.environ.get(COMPLETE_VAR):
        return None
    found = parse(argv)
    if found is None or _plugins_would_load():
        return None
    console.begin(argv)
    try:
        resolve(entry_table.ROOT["run"])(**found.root)
        result = resolve(found.run)(**found.kwargs)
    except BaseException as exc:
        return boundary(exc)
    return result if isinstance(result, int) else 0


def _plugins_would_load() -> bool:
    from lynkr_cli import plugins

    return plugins.third_party_would_load()


def parse(argv: Sequence[str]) -> Found | None:
    """``argv`` read as the Typer app reads it, or None when the table cannot tell."""
    root = _options(entry_table.ROOT, list(argv), interspersed=False)
    if root is None:
        return None
    values, words = root
    path: list[str] = []
    while words:
        path.append(words[0])
        key = " ".join(path)
        if key in entry_table.COMMANDS:
            return _command(entry_table.COMMANDS[key], words[1:], values)
        group = entry_table.GROUPS.get(key)
        if group is None:
            return None
        words = _group(group, words[1:])
    return None


def _group(group: Spec, words: list[str]) -> list[str]:
    """The words after a group's name, routed as the group routes them; [] if unsure."""
    if group["default"] is not None:
        first = next((w for w in words if not w.startswith("-")), None)
        if first is not None and first not in group["commands"] and not os.path.exists(first):
            return []  # a typo of a command, or a path that is not there: the CLI says which
        words = route(words, group["commands"], group["default"])
    if not words or words[0] not in group["commands"]:
        return []  # a group option (only --help), or no such command
    return words


def _command(spec: Spec, words: list[str], root: dict[str, Any]) -> Found | None:
    parsed = _options(spec, words, interspersed=True)
    if parsed is None:
        return None
    values, positional = parsed
    if len(positional) > len(spec["arguments"]):
        return None  # click: "Got unexpected extra argument"
    for (dest, kind), word in zip(spec["arguments"], positional, strict=False):
        value = _convert(kind, word)
        if value is None:
            return None
        values[dest] = value
    return Found(root, spec["run"], values)


def _options(
    spec: Spec, words: list[str], *, interspersed: bool
) -> tuple[dict[str, Any], list[str]] | None:
    """The options' values and the other words (for a group: the words from the first
    that is not an option), or None where click would fail or stop (help, version)."""
    values = dict(spec["defaults"])
    options: dict[str, tuple[str | None, str]] = spec["options"]
    rest = list(words)
    positional: list[str] = []
    while rest:
        word = rest.pop(0)
        if word == "--":
            if not interspersed:
                return None
            positional += rest
            break
        if word[:1] != "-" or len(word) == 1:
            if not interspersed:
                return values, [word, *rest]
            positional.append(word)
        elif not _option(options, word, rest, values):
            return None
    return values, positional


def _option(
    options: dict[str, tuple[str | None, str]],
    word: str,
    rest: list[str],
    values: dict[str, Any],
) -> bool:
    """Apply one option word as click's parser does (``--name[=value]``, else ``-abc``
    short options, a value taking the rest of the word or the next one)."""
    name, equals, attached = word.partition("=")
    if name in options and not _short(name):
        if equals:
            rest.insert(0, attached)
        return _apply(options[name], rest, values, takes_rest=bool(equals))
    if word.startswith("--"):
        return False
    for at, char in enumerate(word[1:], start=2):
        spec = options.get(f"-{char}")
        if spec is None or not _short(f"-{char}"):
            return False
        if spec[1] in VALUE_KINDS:
            if at < len(word):
                rest.insert(0, word[at:])
            return _apply(spec, rest, values, takes_rest=False)
        if not _apply(spec, rest, values, takes_rest=False):
            return False
    return True


def _short(name: str) -> bool:
    return len(name) == 2 and name[0] == "-" and name[1] != "-"


def _apply(
    spec: tuple[str | None, str], rest: list[str], values: dict[str, Any], *, takes_rest: bool
) -> bool:
    dest, kind = spec
    if dest is None or kind == "stop":
        return False
    if kind in VALUE_KINDS:
        if not rest:
            return False  # click: "Option requires an argument"
        value = _convert(kind, rest.pop(0))
        if value is None:
            return False
        values[dest] = value
    elif takes_rest:
        return False  # click: "Option does not take a value"
    elif kind == "count":
        values[dest] += 1
    elif kind == "flag":
        values[dest] = True
    else:
        return False
    return True


def _convert(kind: str, word: str) -> Any:
    """A value as Typer converts it; None when only Typer can say (an empty path)."""
    if kind == "str":
        return word
    if kind == "path" and word:
        return Path(word)
    return None
