"""``lynkr audit``: read, export, verify and prune the gateway's tamper-evident audit log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lynkr_cli import console

if TYPE_CHECKING:
    from lynkr_cli.team.store import AuditFilter

audit_app = typer.Typer(
    help="The gateway's audit log: who called which model when, with what result; key "
    "changes too. Each record is hash-chained to the one before, so `lynkr audit verify` "
    "finds an edited or deleted record. Mode (off|metadata|full) and retention: "
    "LYNKR_AUDIT, LYNKR_AUDIT_RETENTION_DAYS.",
    no_args_is_help=True,
)

KeyOpt = Annotated[
    str | None, typer.Option("--key", metavar="KEY", help="Only this key (name or id).")
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", metavar="GLOB", help="Only models matching this glob (client or upstream)."
    ),
]
StatusOpt = Annotated[
    int | None, typer.Option("--status", metavar="CODE", help="Only this HTTP status (429).")
]
EventOpt = Annotated[
    str | None,
    typer.Option(
        "--event",
        metavar="GLOB",
        help="Only this event (glob): request, auth.fail, key.*, audit.prune.",
    ),
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", metavar="WHEN", help="From this time (1h, 7d, 2026-12-01).")
]
UntilOpt = Annotated[str | None, typer.Option("--until", metavar="WHEN", help="Before this time.")]


def _filter(
    *,
    key: str | None,
    model: str | None,
    status: int | None,
    event: str | None,
    since: str | None,
    until: str | None,
) -> AuditFilter:
    from lynkr_cli.team.store import AuditFilter
    from lynkr_cli.team.times import parse_instant, rfc3339_micro

    def instant(text: str | None) -> str | None:
        return rfc3339_micro(parse_instant(text, future=False)) if text else None

    return AuditFilter(key, model, status, event, instant(since), instant(until))


def _write_lines(rows: Any, out: Any) -> int:
    from lynkr_cli.team.audit import lines

    n = 0
    for line in lines(rows):
        out.write(line + "\n")
        n += 1
    out.flush()
    return n


@audit_app.command("tail")
def tail(  # noqa: PLR0917 (Typer parameters)
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="How many records.")] = 20,
    key: KeyOpt = None,
    model: ModelOpt = None,
    status: StatusOpt = None,
    event: EventOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Print the latest records as JSON lines, oldest first.

    Example: lynkr audit tail -n 50 --key alice --status 429
    """
    from lynkr_cli.team.admin import open_store

    flt = _filter(key=key, model=model, status=status, event=event, since=since, until=until)
    _write_lines(open_store().audit_rows(flt, last=lines), sys.stdout)


@audit_app.command("export")
def export(  # noqa: PLR0917 (Typer parameters)
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (mode 0600).")
    ] = None,
    key: KeyOpt = None,
    model: ModelOpt = None,
    status: StatusOpt = None,
    event: EventOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Export every matching record as JSON lines, with its seq and hashes.

    Example: lynkr audit export --since 2026-11-01 --until 2026-12-01 -o november.jsonl
    """
    import os

    from lynkr_cli.team.admin import open_store

    rows = open_store().audit_rows(
        _filter(key=key, model=model, status=status, event=event, since=since, until=until)
    )
    if output is None:
        _write_lines(rows, sys.stdout)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        n = _write_lines(rows, out)
    console.info(f"wrote {n} records to {output}")


@audit_app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            metavar="HASH",
            help="The head hash printed by an earlier verify: also "
            "proves no record was removed from the end since then.",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Check the hash chain; exit 0 when intact, 1 at the first broken link (which it names).

    Keep the printed head hash somewhere else: a later `--expect-head HASH` then also
    detects records cut from the end, which no chain can show by itself.
    """
    from lynkr_cli.team.admin import open_store
    from lynkr_cli.team.audit import verify as check

    store = open_store()
    verdict = check(store.audit_chain(), store.audit_anchor())
    problem = verdict.problem
    if verdict.ok and expect_head and expect_head not in _hashes(store):
        problem = (
            f"the head hash {expect_head[:16]}… is not in the log: records were removed "
            "from the end, or it is from another log"
        )
    ok = not problem
    if json_output:
        console.print_json({**verdict.as_dict(), "ok": ok, "problem": problem})
    elif ok:
        console.say(
            f"audit log intact: {verdict.rows} records; head "
            f"seq {verdict.head_seq} hash {verdict.head_hash}"
        )
    else:
        console.error(
            f"audit log broken: {problem}",
            "Compare with an earlier export or backup; records after the break cannot be trusted.",
        )
    if not ok:
        raise typer.Exit(1)


def _hashes(store: Any) -> set[str]:
    return {str(row["hash"]) for row in store.audit_chain()}


@audit_app.command("prune")
def prune(
    days: Annotated[
        float | None,
        typer.Option(
            "--days", min=0, help="Keep this many days [default: LYNKR_AUDIT_RETENTION_DAYS]."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """Delete records older than the retention now (the gateway also does it every 6 hours).

    The chain stays verifiable: the last deleted record's hash becomes its anchor.
    """
    from lynkr_cli.errors import UsageError
    from lynkr_cli.settings import get_settings
    from lynkr_cli.team.admin import open_store, prune_audit

    keep = get_settings().team.audit_retention_days if days is None else days
    if keep == 0 and days is None:
        raise UsageError(
            "LYNKR_AUDIT_RETENTION_DAYS is 0: the audit log is kept forever",
            hint="Pass --days N to delete records older than N days anyway.",
        )
    deleted = prune_audit(open_store(), keep)
    if json_output:
        console.print_json({"deleted": deleted, "kept_days": keep})
    else:
        console.say(f"deleted {deleted} audit records older than {keep:g} days")
