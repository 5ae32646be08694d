"""``lynkr db``: the team gateway's database: migrate it, check it, copy into it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lynkr_cli import console

db_app = typer.Typer(
    help="The database that holds the team gateway's keys, usage and audit log: the "
    "shared lynkr.db by default, PostgreSQL when LYNKR_DATABASE_URL=postgresql://… "
    "(several gateway instances; docs/scale-out.md).\n\n"
    "Example: lynkr db migrate && lynkr serve",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="The database (postgresql://… or sqlite:///…); default: LYNKR_DATABASE_URL.",
    ),
]


def _url(url: str | None) -> str | None:
    if url is not None:
        return url.strip() or None
    from lynkr_cli.settings import get_settings
    from lynkr_cli.team.backends import database_url

    return database_url(get_settings())


@db_app.command("migrate")
def migrate(url: UrlOpt = None, json_output: JsonOpt = False) -> None:
    """Create or upgrade the team tables. Safe to run from every instance at start: a
    lock makes the others wait, then find nothing to do."""
    from lynkr_cli.team.backends import store_kind

    kind, where = store_kind(_url(url))
    if kind == "sqlite":
        from pathlib import Path

        from lynkr_cli.team.sqlite import SqliteStore

        SqliteStore(Path(where)).close()  # opening it migrates it
        doc: dict[str, Any] = {"backend": "sqlite", "url": where, "current": True}
        message = f"SQLite {where}: the team tables are up to date"
    else:
        from lynkr_cli.team.pgconn import migrate as pg_migrate
        from lynkr_cli.team.pgconn import status

        done = pg_migrate(where)
        state = status(where)
        doc = {"backend": "postgresql", **state.as_dict(), **done.as_dict()}
        message = (
            f"PostgreSQL {state.url}: schema {done.before} → {done.after} "
            f"({console.plural(done.applied, 'step')} applied)"
            if done.applied
            else f"PostgreSQL {state.url}: already at schema version {done.after}"
        )
    if json_output:
        console.print_json(doc)
    else:
        console.say(message)


@db_app.command("status")
def status(url: UrlOpt = None, json_output: JsonOpt = False) -> None:
    """Which database is in use, and whether its schema is current (exit 1 when behind)."""
    from lynkr_cli.team.backends import store_kind

    kind, where = store_kind(_url(url))
    if kind == "sqlite":
        doc: dict[str, Any] = {"backend": "sqlite", "url": where, "current": True}
        message = f"SQLite {where} (migrated when opened)"
    else:
        from lynkr_cli.team.pgconn import status as pg_status

        state = pg_status(where)
        doc = {"backend": "postgresql", **state.as_dict()}
        message = f"PostgreSQL {state.server} at {state.url}: schema version {state.version}" + (
            "" if state.current else f", this lynkr needs {state.expected}"
        )
    if json_output:
        console.print_json(doc)
    else:
        console.say(message)
        if not doc["current"]:
            console.warn("run `lynkr db migrate` before starting the gateway")
    if not doc["current"]:
        raise typer.Exit(1)


@db_app.command("copy")
def copy(
    from_url: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="URL",
            help="Where the data is now; default: this host's lynkr.db "
            "(sqlite:////absolute/path/lynkr.db).",
        ),
    ] = None,
    to_url: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="URL",
            help="An empty PostgreSQL database (postgresql://…); default: LYNKR_DATABASE_URL.",
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Copy keys, usage and the audit log into PostgreSQL, then verify the audit chain
    there. Stop the gateways writing to the source first."""
    from lynkr_cli import paths
    from lynkr_cli.errors import UsageError
    from lynkr_cli.team.dbcopy import copy as run_copy

    source = from_url or f"sqlite:///{paths.app_db_path()}"
    target = to_url or _url(None)
    if not target:
        raise UsageError(
            "no target database", hint="Pass --to postgresql://… or set LYNKR_DATABASE_URL."
        )

    def progress(what: str, count: int) -> None:
        if not json_output:
            console.info(f"{what}: {count:,} copied")

    report = run_copy(source, target, progress)
    if json_output:
        console.print_json(report.as_dict())
    else:
        head = report.target_chain.get("head", {})
        console.say(
            f"copied {console.plural(report.keys, 'key')}, "
            f"{console.plural(report.usage, 'usage record')} and "
            f"{console.plural(report.audit, 'audit record')} to {report.target}"
        )
        console.say(f"audit chain verified there: head {head.get('seq')} {head.get('hash')}")
        if not report.source_chain.get("ok", True):
            console.warn(
                "the source's audit chain was already broken "
                f"({report.source_chain.get('problem')}); it was copied as it was"
            )
    if not report.verified:
        raise typer.Exit(1)
