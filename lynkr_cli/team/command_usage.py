"""``lynkr usage``: who used what through the gateway, and what it cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from lynkr_cli import console

if TYPE_CHECKING:
    from lynkr_cli.team.store import UsageTotal

_COLUMNS = (
    "requests",
    "errors",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
)


def usage(  # noqa: PLR0917 (Typer parameters)
    by: Annotated[
        Literal["key", "model", "upstream", "provider", "day"],
        typer.Option("--by", help="Group by key, client model, upstream model, provider or day."),
    ] = "key",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="WHEN",
            help="From this time (7d = the last 7 days, 2026-12-01, ISO "
            "time) [default: the start of this month, UTC].",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="WHEN", help="Up to (not including) this time.")
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option("--key", metavar="KEY", help="Only this key (name, id or prefix; repeat)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    csv_output: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
) -> None:
    """Totals of requests, tokens and cost from the gateway's usage records.

    Examples: `lynkr usage` (this month, by key) · `lynkr usage --by day --since 30d` ·
    `lynkr usage --by model --key alice --csv > alice.csv`
    """
    import time

    from lynkr_cli.errors import UsageError
    from lynkr_cli.team import admin
    from lynkr_cli.team.store import UsageQuery
    from lynkr_cli.team.times import month_window, parse_instant

    if json_output and csv_output:
        raise UsageError("--json and --csv are exclusive", hint="Pick one output format.")
    store = admin.open_store()
    start = parse_instant(since, future=False) if since else month_window(time.time())[0]
    end = parse_instant(until, future=False) if until else None
    query = UsageQuery(by, start, end, admin.key_ids(store, key or []))
    rows = store.usage_totals(query)
    if json_output:
        console.print_json(_document(query, rows))
    elif csv_output:
        _csv(by, rows)
    else:
        _table(query, rows)


def _label(row: UsageTotal, by: str) -> str:
    if by == "key":
        return str(row.extra.get("key_name") or row.group or "(no key)")
    return row.group or "(none)"


def _as_dict(row: UsageTotal, by: str) -> dict[str, Any]:
    from decimal import Decimal

    out: dict[str, Any] = {by: _label(row, by)}
    if by == "key":
        out["key_id"] = row.group
    out.update({name: getattr(row, name) for name in _COLUMNS})
    out["cost_usd"] = str(Decimal(row.cost_nano) / Decimal(10**9))
    return out


def _sum(rows: list[UsageTotal]) -> UsageTotal:
    from lynkr_cli.team.store import UsageTotal

    total = UsageTotal("total")
    for row in rows:
        for name in (*_COLUMNS, "cost_nano"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total


def _document(query: Any, rows: list[UsageTotal]) -> dict[str, Any]:
    from lynkr_cli.team.times import rfc3339

    total = _as_dict(_sum(rows), "total")
    total.pop("total")
    return {
        "by": query.group,
        "since": rfc3339(query.since),
        "until": rfc3339(query.until) if query.until is not None else None,
        "rows": [_as_dict(row, query.group) for row in rows],
        "total": total,
    }


def _csv(by: str, rows: list[UsageTotal]) -> None:
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    dicts = [_as_dict(row, by) for row in rows]
    header = (
        list(dicts[0])
        if dicts
        else [by, *(["key_id"] if by == "key" else []), *_COLUMNS, "cost_usd"]
    )
    writer.writerow(header)
    for row in dicts:
        writer.writerow([row[name] for name in header])


def _table(query: Any, rows: list[UsageTotal]) -> None:
    from lynkr_cli.team import fmt
    from lynkr_cli.team.times import rfc3339

    span = f"since {rfc3339(query.since)}"
    if query.until:
        span += f" until {rfc3339(query.until)}"
    if not rows:
        console.info(f"no usage recorded {span}")
        return
    by_cost = any(row.cost_nano for row in rows)

    def measure(row: UsageTotal) -> int:
        return row.cost_nano if by_cost else row.input_tokens + row.output_tokens

    largest = max(measure(row) for row in rows)
    headers = (
        query.group,
        "requests",
        "errors",
        "input",
        "output",
        "cache write",
        "cache read",
        "cost",
        "share of " + ("cost" if by_cost else "tokens"),
    )
    cells: list[tuple[console.Cell, ...]] = [
        (_label(row, query.group), *_numbers(row), fmt.bar(measure(row), largest)) for row in rows
    ]
    cells.append((console.Styled("total", "bold"), *_numbers(_sum(rows)), ""))
    console.info(f"usage by {query.group}, {span}")
    console.table(headers, cells, no_wrap=range(8))


def _numbers(row: UsageTotal) -> tuple[str, ...]:
    from lynkr_cli.team import fmt

    return (
        str(row.requests),
        str(row.errors) if row.errors else "",
        fmt.count(row.input_tokens),
        fmt.count(row.output_tokens),
        fmt.count(row.cache_creation_tokens),
        fmt.count(row.cache_read_tokens),
        fmt.usd_nano(row.cost_nano),
    )
