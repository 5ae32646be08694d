"""``lynkr guard``: check a saved request for secrets and personal data, offline."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lynkr_cli import console, hookimpl

guard_app = typer.Typer(
    help="The gateway's guard on what leaves for the upstream: secrets and personal data.",
    no_args_is_help=True,
)

_MODES = ("warn", "redact", "block")
_ACTION = {"warn": "reported", "redact": "redacted", "block": "blocks the request"}


@guard_app.command("scan")
def scan(
    file: Annotated[
        str,
        typer.Argument(
            help="A saved Messages request (JSON body, or a capture with 'body'); - reads stdin."
        ),
    ],
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode", "-m", help="warn, redact or block [default: guard.mode, warn if off]."
        ),
    ] = None,
    kinds: Annotated[
        str | None,
        typer.Option(
            "--kinds", "-k", help="Kinds or groups, comma-separated [default: guard.kinds]."
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="With --mode redact: write the redacted body here (- is stdout)."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Scan a saved request as the gateway would: each finding's kind and where, never its value.

    Exit 0 when nothing is found, 1 when something is.

    Example: lynkr guard scan request.json --mode redact --output clean.json
    """
    from lynkr_cli.guard import files
    from lynkr_cli.guard.api import scan as run_scan

    chosen_mode, chosen_kinds = _choices(mode, kinds)
    if output is not None and chosen_mode != "redact":
        from lynkr_cli.errors import UsageError

        raise UsageError("--output writes a redacted body", hint="Add --mode redact.")
    body = files.read_request(file)
    result = run_scan(body, mode=chosen_mode, kinds=chosen_kinds)  # type: ignore[arg-type]
    if output is not None:
        files.write_body(result.body, output)
    if json_output:
        console.print_json({"file": file, "kinds": sorted(chosen_kinds), **result.to_dict()})
    else:
        _report(result, to_stderr=output == "-")
    if result.findings:
        raise typer.Exit(1)


def _choices(mode: str | None, kinds: str | None) -> tuple[str, list[str]]:
    from lynkr_cli.errors import UsageError
    from lynkr_cli.guard.kinds import resolve_kinds
    from lynkr_cli.settings import get_settings

    settings = get_settings().guard
    chosen = mode or (settings.mode if settings.mode != "off" else "warn")
    if chosen not in _MODES:
        raise UsageError(f"unknown mode '{mode}'", hint=f"Use one of: {', '.join(_MODES)}.")
    names = [k for k in kinds.split(",") if k.strip()] if kinds is not None else settings.kinds
    try:
        resolve_kinds(names)
    except ValueError as exc:
        raise UsageError(str(exc), hint="`lynkr guard kinds` lists them.") from None
    return chosen, names


def _report(result: Any, *, to_stderr: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console.err() if to_stderr else console.out()
    if not result.findings:
        out.print("nothing found")
        return
    table = Table("kind", "where", "count", "action")
    for f in result.findings:
        action = "reported (signed thinking: kept)" if f.signed else _ACTION[result.mode]
        table.add_row(escape(f.kind), escape(f.location), str(f.count), action)
    out.print(table)
    if result.blocked:
        out.print(f"the gateway answers 400 invalid_request_error: {escape(result.message())}")


@guard_app.command("kinds")
def kinds_(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the kinds the guard detects, their groups, and which are on (guard.kinds)."""
    from lynkr_cli.guard.kinds import ALL_KINDS, GROUPS, resolve_kinds
    from lynkr_cli.settings import get_settings

    enabled = resolve_kinds(get_settings().guard.kinds)
    rows = [
        {"kind": k, "groups": [g for g in ("secrets", "pii") if k in GROUPS[g]], "on": k in enabled}
        for k in ALL_KINDS
    ]
    if json_output:
        console.print_json({"kinds": rows})
        return
    for kind in ALL_KINDS:
        groups = ",".join(g for g in ("secrets", "pii") if kind in GROUPS[g]) or "opt-in"
        console.out().print(f"{'on ' if kind in enabled else 'off'}  {kind:<24} {groups}")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(guard_app, name="guard")
