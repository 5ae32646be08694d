"""``lynkr index``: build the symbol index and CLAUDE.md; search, defs, refs, map, stats.

``lynkr index [PATH]`` and ``lynkr index search QUERY`` share one group: a first
argument that is not a subcommand name is a PATH, routed to the hidden ``build``
command (see :class:`IndexGroup`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lynkr_cli import complete, console, entry, hookimpl
from lynkr_cli.index.root import repo_root


class IndexGroup(TyperGroup):
    """Route ``lynkr index [PATH] [options]`` to ``build``; subcommands work as usual."""

    default_command = "build"  # entry.py routes the same way (entry.route)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)
        if first is not None and first not in self.commands:
            commands = [n for n in self.commands if n != self.default_command]
            _check_not_a_typo(ctx, first, commands)
        return super().parse_args(ctx, entry.route(args, self.commands, self.default_command))


def _check_not_a_typo(ctx: Any, word: str, commands: list[str]) -> None:
    """A PATH that does not exist but looks like a subcommand is a typo, not a path."""
    import os
    from difflib import get_close_matches

    close = get_close_matches(word, commands)
    if close and not ctx.resilient_parsing and not os.path.exists(word):
        names = ", ".join(repr(name) for name in close)
        ctx.fail(f"No such command or directory {word!r}. Did you mean {names}?")


index_app = typer.Typer(
    cls=IndexGroup,
    help="Index a repository (symbols, references, imports, hints) and write CLAUDE.md.\n\n"
    "`lynkr index [PATH] [--full] [--json] [--no-claude-md] [--check] [--stdout]` builds or "
    "refreshes the index of the repository holding PATH (its git top level, or the nearest "
    "folder with .lynkr/; --root DIR takes DIR as it is); the subcommands below query it, "
    "from any subdirectory.",
    no_args_is_help=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
RootOpt = Annotated[
    str | None,
    typer.Option(
        "--root",
        "-C",
        help="Repository root, used as given (default: the git top level or the nearest "
        "folder holding .lynkr/, searched from the current directory).",
    ),
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, help="At most this many results.")]


@index_app.command("build", hidden=True)
@entry.runs("lynkr_cli.index.service:build_command")  # the `lynkr` script calls it too
def build(  # noqa: PLR0917
    path: Annotated[
        str, typer.Argument(help="A directory of the repository (default: the current one).")
    ] = ".",
    full: Annotated[bool, typer.Option("--full", help="Rebuild from scratch.")] = False,
    json_output: JsonOpt = False,
    no_claude_md: Annotated[
        bool, typer.Option("--no-claude-md", help="Do not write CLAUDE.md.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if CLAUDE.md's generated block is stale.")
    ] = False,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the CLAUDE.md that would be written.")
    ] = False,
    root: RootOpt = None,
) -> None:
    """Build or refresh the index of PATH, then write CLAUDE.md (same as `lynkr index PATH`).

    PATH may be any directory inside the repository: the index and CLAUDE.md go to its
    root (git's top level, or the nearest folder holding .lynkr/); --root DIR indexes
    DIR as given. A directory named like a subcommand (search, defs, refs, map, stats, build)
    is written with a slash: `lynkr index ./build`.
    """


def _ready(given: str | None) -> str:
    """The repository root; lookups build its index on first use rather than failing."""
    from lynkr_cli.index import api

    root = repo_root(given)
    if api.index_status(root) == "missing":
        console.info(f"no index yet for {root}: building it")
        api.build(root)
    return root


def _definition_text(row: dict[str, Any]) -> str:
    target = row.get("definition")
    if target:
        return f"-> {target['path']}:{target['line']}"
    return "(not resolved: what it is called on is unknown, or outside the repository)"


def _symbols_out(rows: list[dict[str, Any]], json_output: bool, what: str) -> None:
    if json_output:
        console.print_json(rows)
    elif rows:
        cells = [
            [f"{row['path']}:{row['line']}:{row['column']}", row["kind"],
             row.get("signature") or _definition_text(row)]
            for row in rows
        ]  # fmt: skip
        console.table(["location", "kind", "signature / definition"], cells, no_wrap=[0])
    if not rows:
        if not json_output:
            console.error(f"no {what}")
        raise typer.Exit(6)


@index_app.command("search")
def search(  # noqa: PLR0917
    query: Annotated[
        str,
        typer.Argument(
            help="Name or part of one; prefix and fuzzy match.", autocompletion=complete.symbols
        ),
    ],
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind (function, class…).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only this language (python, go…).")
    ] = None,
    limit: LimitOpt = 50,
    root: RootOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Find symbols by name: every word a prefix (`pars req` finds parseRequest), then fuzzy."""
    from lynkr_cli.index import api

    root = _ready(root)
    rows = api.search(root, query, kind=kind, lang=lang, limit=limit)
    _symbols_out(rows, json_output, f"symbol matches '{query}'")


@index_app.command("defs")
def defs(
    name: Annotated[
        str, typer.Argument(help="Exact symbol name.", autocompletion=complete.symbols)
    ],
    limit: LimitOpt = 100,
    root: RootOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Where NAME is defined."""
    from lynkr_cli.index import api

    root = _ready(root)
    _symbols_out(api.defs(root, name, limit=limit), json_output, f"definition of '{name}'")


@index_app.command("refs")
def refs(
    name: Annotated[
        str, typer.Argument(help="Exact symbol name.", autocompletion=complete.symbols)
    ],
    limit: LimitOpt = 500,
    root: RootOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Where NAME is used, with its definition when the code says which one it is: a bare
    name defined or imported in the file, or a call on self/cls, an imported module or a
    class (`obj.name()` on anything else stays unresolved)."""
    from lynkr_cli.index import api

    root = _ready(root)
    _symbols_out(api.refs(root, name, limit=limit), json_output, f"references to '{name}'")


@index_app.command("map")
def repo_map(
    tokens: Annotated[int, typer.Option("--tokens", min=1, help="Token budget.")] = 1024,
    root: RootOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The most important definitions (PageRank over references), fitted to --tokens."""
    from lynkr_cli.index import api

    root = _ready(root)
    text = api.repo_map(root, tokens)
    if json_output:
        console.print_json({"tokens": tokens, "map": text})
    else:
        import sys

        sys.stdout.write(text)


@index_app.command("stats")
def stats(root: RootOpt = None, json_output: JsonOpt = False) -> None:
    """Files, symbols, references, language mix, skips and freshness of the index."""
    from lynkr_cli.index import api

    root = repo_root(root)
    doc = api.stats(root)
    doc["status"] = api.index_status(root)
    if json_output:
        console.print_json(doc)
        return
    keys = ("status", "files", "symbols", "references", "resolved_references", "imports",
            "resolved_imports", "problems", "generation", "db")  # fmt: skip
    rows: list[list[console.Cell]] = [[key, doc[key]] for key in keys]
    for lang, info in doc["languages"].items():
        files, size = console.plural(info["files"], "file"), console.plural(info["bytes"], "byte")
        rows.append([f"language {lang}", f"{files}, {size}"])
    rows += [[f"skipped {reason}", count] for reason, count in doc["skipped"].items()]
    rows += [[f"problem {path}", why] for path, why in doc["problem_files"].items()]
    console.table(["stat", "value"], rows)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
