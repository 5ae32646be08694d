"""``lynkr doctor``: check the whole setup and say exactly what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from lynkr_cli import complete, console, hookimpl

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also start MCP servers and other slow checks.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only this group or check (repeat).",
            autocompletion=complete.doctor_names,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds for each network step.")
    ] = 3.0,
) -> None:
    """Check Python, settings, credentials, upstream, Claude Code's environment, gateway, git,
    index, MCP, cache and Docker; exit 0 when all is ok, 1 on any failure."""
    from lynkr_cli.doctor import runner
    from lynkr_cli.registry import doctor_checks

    checks = doctor_checks()
    known = {c.group for c in checks} | {c.name for c in checks}
    unknown = sorted(set(only or []) - known)
    if unknown:
        from lynkr_cli.errors import UsageError

        raise UsageError(
            f"no doctor check or group named {', '.join(unknown)}",
            hint=f"Groups: {', '.join(sorted({c.group for c in checks}))}.",
        )
    ctx = runner.Context(deep=deep, timeout=timeout)
    results = runner.run_checks(checks, ctx, set(only) if only else None)
    code = runner.exit_code(results, strict=strict)
    if json_output:
        from lynkr_cli import __version__

        console.print_json(
            {
                "lynkr": __version__,
                "ok": code == 0,
                "strict": strict,
                "summary": runner.summary(results),
                "checks": [r.__dict__ for r in results],
            }
        )
    else:
        _table(results, runner.summary(results))
    if code:
        raise typer.Exit(code)


def _table(results: Sequence[Any], counts: dict[str, int]) -> None:
    if not console.is_terminal():  # piped: one field per column, for cut and awk
        rows = [[r.status, r.name, r.summary, r.fix or ""] for r in results]
        console.table(["status", "check", "finding", "fix"], rows)
    else:  # three columns, the fix under its finding: readable in 80 columns too
        console.table(["status", "check", "finding / fix"], map(_terminal_row, results),
                      no_wrap=[1])  # fmt: skip
    console.say(", ".join(f"{n} {k}" for k, n in counts.items()))


def _terminal_row(r: Any) -> list[console.Cell]:
    status = console.Styled(r.status, _STYLE.get(r.status, ""))
    finding = r.summary
    if r.fix and r.status != "ok":
        finding += f"\nfix: {r.fix}"
    return [status, r.name, finding]


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
