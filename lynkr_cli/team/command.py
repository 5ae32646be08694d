"""``lynkr keys``: issue, list, revoke, rotate and change the team gateway's keys.

Also registers ``lynkr usage`` (command_usage.py), ``lynkr audit`` (command_audit.py) and
``lynkr db`` (command_db.py), and the doctor checks of the team and its backends.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from lynkr_cli import console, hookimpl

if TYPE_CHECKING:
    from lynkr_cli.team.admin import KeyRow
    from lynkr_cli.team.types import KeyRecord

keys_app = typer.Typer(
    help="Issue and manage the team gateway's API keys (one per person or CI job).\n\n"
    "Once a key exists, `lynkr serve` requires a key on every /v1 request. A running "
    "gateway picks up every change here within its key TTL (5 s by default).\n\n"
    "Example: lynkr keys create alice --models 'claude-sonnet-*' --rpm 60 --budget-usd 50",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
KeyArg = Annotated[str, typer.Argument(help="The key's name, id (k-…) or shown prefix (lk-…).")]
ExpiresOpt = Annotated[
    str | None,
    typer.Option(
        "--expires",
        metavar="WHEN",
        help="When the key stops working: 30d, 12h, 2027-01-31 or an "
        "ISO time (UTC). `update` also takes 'never'.",
    ),
]
ModelsOpt = Annotated[
    str | None,
    typer.Option(
        "--models",
        metavar="GLOBS",
        help="Comma-separated globs of the models the key may use, e.g. "
        "'claude-haiku-*,claude-sonnet-*'; others get 403. '*' allows all.",
    ),
]
RpmOpt = Annotated[
    str | None, typer.Option("--rpm", metavar="N", help="Requests per minute ('none' clears).")
]
TpmOpt = Annotated[
    str | None,
    typer.Option("--tpm", metavar="N", help="Tokens per minute: input, cache and output (50k)."),
]
DayOpt = Annotated[
    str | None, typer.Option("--tokens-day", metavar="N", help="Tokens per UTC day (2M).")
]
MonthOpt = Annotated[
    str | None,
    typer.Option("--tokens-month", metavar="N", help="Tokens per UTC calendar month (50M)."),
]
BudgetOpt = Annotated[
    str | None,
    typer.Option(
        "--budget-usd", metavar="USD", help="USD per calendar month, priced from the price table."
    ),
]
ToolsOpt = Annotated[
    Literal["never", "auto", "always"] | None,
    typer.Option(
        "--tools",
        help="The gateway's own workspace tools for this key (they read "
        "the gateway host's files): never (default for keys), auto or always.",
    ),
]
GuardOpt = Annotated[
    Literal["off", "warn", "redact", "block", "default"] | None,
    typer.Option(
        "--guard",
        help="What the gateway does with secrets and personal data in this key's requests "
        "(docs/guard.md): off, warn, redact or block; default: the gateway's guard.mode.",
    ),
]
NoteOpt = Annotated[
    str | None, typer.Option("--note", metavar="TEXT", help="Free text: who, why, ticket.")
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="The gateway's URL as the key holder reaches it; prints a "
        "`lynkr switch import` link carrying the key.",
    ),
]


def _audit_mode() -> Any:
    from lynkr_cli.settings import get_settings

    return get_settings().team.audit


def _store() -> Any:
    from lynkr_cli.team.admin import open_store

    return open_store()


@keys_app.command("create")
def create(  # noqa: PLR0917 (Typer parameters)
    name: Annotated[str, typer.Argument(help="Who or what the key is for: alice, ci-nightly.")],
    expires: ExpiresOpt = None,
    models: ModelsOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    tokens_day: DayOpt = None,
    tokens_month: MonthOpt = None,
    budget_usd: BudgetOpt = None,
    tools: ToolsOpt = None,
    guard: GuardOpt = None,
    note: NoteOpt = None,
    base_url: BaseUrlOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Issue a new key and print it once (lynkr keeps only its SHA-256).

    The key goes to stdout alone, so `KEY=$(lynkr -q keys create ci)` captures it.
    Limits take plain numbers or k/M suffixes; tokens count input, cache and output.
    """
    from lynkr_cli.team import admin
    from lynkr_cli.team.times import parse_instant
    from lynkr_cli.team.types import Limits

    lim = admin.merge_limits(
        Limits(), **admin.limit_changes(rpm, tpm, tokens_day, tokens_month, budget_usd)
    )
    key, secret = admin.create(
        _store(),
        name,
        expires_at=parse_instant(expires) if expires else None,
        models=admin.parse_models(models) if models is not None else (),
        limits=lim,
        tools=tools or "never",
        guard=None if guard in (None, "default") else guard,
        note=note or "",
        audit=_audit_mode(),
    )
    _issued(key, secret, "created", base_url, json_output)


def _issued(key: KeyRecord, secret: str, verb: str, base_url: str | None, as_json: bool) -> None:
    link = _link(key.name, secret, base_url) if base_url else None
    if as_json:
        console.print_json({**key.public(), "key": secret, "link": link})
        return
    from lynkr_cli.team import fmt

    console.info(
        f"{verb} key '{key.name}' ({key.id}); expires {fmt.when(key.expires_at, 'never')}; "
        f"limits: {fmt.limits(key.limits)}"
    )
    sys.stdout.write(secret + "\n")
    sys.stdout.flush()
    console.info("Store it now: lynkr keeps only its hash and cannot show it again.")
    if link:
        console.info(f"Hand it out: lynkr switch import '{link}'")
    else:
        console.info(
            "Hand it out as ANTHROPIC_API_KEY with ANTHROPIC_BASE_URL=<gateway URL>, "
            "or pass --base-url for a `lynkr switch import` link."
        )


def _link(name: str, secret: str, base_url: str) -> str:
    from pydantic import SecretStr

    from lynkr_cli.switch.api import Profile, export_link, validate_profile

    profile = validate_profile(
        Profile(name=_profile_name(name), base_url=base_url.rstrip("/"), key=SecretStr(secret))
    )
    return export_link(profile, with_key=True)


def _profile_name(name: str) -> str:
    import re

    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name)
    return f"team-{cleaned}"[:64]


@keys_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include revoked keys.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """List keys: prefix, name, state, created, last used, expiry, limits, spend this month.

    Never shows a key or its hash.
    """
    from lynkr_cli.team.admin import key_rows

    rows = key_rows(_store(), include_revoked=all_)
    if json_output:
        console.print_json({"keys": [row.as_dict() for row in rows]})
        return
    if not rows:
        console.info("no keys yet; issue one with `lynkr keys create NAME`")
        return
    _table(rows)


def _table(rows: list[KeyRow]) -> None:
    from lynkr_cli.team import fmt

    headers = (
        "name",
        "prefix",
        "state",
        "created",
        "last used",
        "expires",
        "limits",
        "spent (month)",
    )
    cells = []
    for row in rows:
        key = row.key
        spent = fmt.usd_nano(row.spent_nano)
        if key.limits.budget_usd is not None:
            spent += f" of {fmt.usd(key.limits.budget_usd)}"
        cells.append(
            (
                key.name,
                key.prefix + "…",
                console.Styled(row.state, _STATE_STYLES[row.state]),
                fmt.day(key.created_at),
                fmt.day(key.last_used_at, "never"),
                fmt.day(key.expires_at, "never"),
                fmt.limits(key.limits),
                spent,
            )
        )
    console.table(headers, cells, no_wrap=range(6))
    console.info("models, tools and notes: `lynkr keys show NAME`")


_STATE_STYLES = {"active": "green", "expired": "yellow", "revoked": "red"}


@keys_app.command("show")
def show(key: KeyArg, json_output: JsonOpt = False) -> None:
    """Show one key's settings, state and spend this month (never the key)."""
    from lynkr_cli.team import fmt
    from lynkr_cli.team.admin import key_row

    row = key_row(_store(), key)
    if json_output:
        console.print_json(row.as_dict())
        return
    k = row.key
    lines = [
        ("name", k.name),
        ("id", k.id),
        ("prefix", k.prefix + "…"),
        ("state", row.state),
        ("created", fmt.when(k.created_at)),
        ("last used", fmt.when(k.last_used_at, "never")),
        ("expires", fmt.when(k.expires_at, "never")),
        ("revoked", fmt.when(k.revoked_at)),
        ("models", ", ".join(k.models) or "all"),
        ("tools", k.tools),
        ("limits", fmt.limits(k.limits)),
        ("this month", f"{fmt.usd_nano(row.spent_nano)}, {fmt.count(row.tokens)} tokens"),
        ("note", k.note or "-"),
    ]
    for label, value in lines:
        console.say(console.Styled(f"{label:>10}", "bold"), "  ", value)


@keys_app.command("revoke")
def revoke(key: KeyArg, json_output: JsonOpt = False) -> None:
    """Revoke a key for good: refused (401) within the gateway's key TTL (5 s by default)."""
    from lynkr_cli.team import admin

    record = admin.revoke(_store(), key, _audit_mode())
    if json_output:
        console.print_json(record.public())
        return
    console.say(f"revoked key '{record.name}' ({record.id})")


@keys_app.command("rotate")
def rotate(
    key: KeyArg,
    grace: Annotated[
        str | None,
        typer.Option(
            "--grace",
            help="Keep accepting the old key this long (15m, 1d) while "
            "the holder switches; by default it stops working at once.",
        ),
    ] = None,
    base_url: BaseUrlOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Give a key a new secret, keeping its id, limits and usage history; prints it once."""
    from lynkr_cli.team import admin
    from lynkr_cli.team.times import parse_duration

    record, secret = admin.rotate(
        _store(), key, grace=parse_duration(grace) if grace else 0.0, audit=_audit_mode()
    )
    _issued(record, secret, "rotated", base_url, json_output)


@keys_app.command("update")
def update(  # noqa: PLR0917 (Typer parameters)
    key: KeyArg,
    expires: ExpiresOpt = None,
    models: ModelsOpt = None,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    tokens_day: DayOpt = None,
    tokens_month: MonthOpt = None,
    budget_usd: BudgetOpt = None,
    tools: ToolsOpt = None,
    guard: GuardOpt = None,
    note: NoteOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Change a key's expiry, models, limits, tools, guard or note; the key itself stays the same.

    Example: lynkr keys update alice --budget-usd 100 --rpm none --expires never
    """
    from lynkr_cli.team import admin
    from lynkr_cli.team.times import parse_instant

    expiry: Any = admin.UNSET
    if expires is not None:
        expiry = None if expires.strip().lower() == "never" else parse_instant(expires)
    changes = {
        "expires_at": expiry,
        "models": admin.parse_models(models),
        "tools": tools if tools is not None else admin.UNSET,
        "guard": admin.UNSET if guard is None else (None if guard == "default" else guard),
        "note": note if note is not None else admin.UNSET,
        **admin.limit_changes(rpm, tpm, tokens_day, tokens_month, budget_usd),
    }
    record = admin.update(_store(), key, _audit_mode(), **changes)
    if json_output:
        console.print_json(record.public())
        return
    from lynkr_cli.team import fmt

    console.say(f"updated key '{record.name}' ({record.id}); limits: {fmt.limits(record.limits)}")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    from lynkr_cli.team.command_audit import audit_app
    from lynkr_cli.team.command_db import db_app
    from lynkr_cli.team.command_usage import usage

    app.add_typer(keys_app, name="keys")
    app.command("usage")(usage)
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")


@hookimpl
def register_doctor_checks(register: Any) -> None:
    from lynkr_cli.registry import DoctorCheck
    from lynkr_cli.team.doctor import team_state
    from lynkr_cli.team.doctor_backends import database, redis

    register(DoctorCheck(name="team", run=team_state, group="gateway"))
    register(DoctorCheck(name="database", run=database, group="gateway"))
    register(DoctorCheck(name="redis", run=redis, group="gateway"))
