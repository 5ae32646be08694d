"""``lynkr doctor``'s team check: keys, expiries, the audit mode and records left behind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli import paths
from lynkr_cli.errors import LynkrError
from lynkr_cli.registry import CheckResult, CheckStatus

if TYPE_CHECKING:
    from lynkr_cli.doctor.api import Context
    from lynkr_cli.settings import Settings
    from lynkr_cli.team.store import Store

SOON = 7 * 86400


def _r(status: CheckStatus, summary: str, fix: str | None = None, **details: Any) -> CheckResult:
    return CheckResult("team", status, summary, fix, dict(details))


def _store(settings: Settings | None) -> Store | None:
    """The configured store, read-only for SQLite (doctor creates nothing); None when
    there are no team tables yet."""
    from lynkr_cli.team.backends import database_url, store_kind

    kind, where = store_kind(database_url(settings) if settings is not None else None)
    if kind == "postgresql":
        from lynkr_cli.team.postgres import PgStore

        return PgStore.connect(where)
    from lynkr_cli.team.sqlite import SqliteStore

    return SqliteStore.inspect(Path(where))


def team_state(ctx: Context) -> CheckResult:
    """Single-user or team mode; keys expiring soon; audit off; unwritten records; with
    ``--deep``, the audit chain verified."""
    from lynkr_cli.team.api import SPILL_NAME

    settings = ctx.settings()
    spill = paths.state_dir() / SPILL_NAME
    if spill.exists():
        return _r(
            "warn",
            f"usage/audit records are waiting in {spill}",
            "A running gateway writes them as soon as its database can be written again "
            "(else its next start does); check why it could not be (server down? disk "
            "full? permissions?).",
        )
    try:
        store = _store(settings)
    except LynkrError as exc:
        return _r("skip", f"keys not read: {exc.message} (see the database check)")
    keys = store.list_keys() if store is not None else []
    if not keys:
        return _r("ok", "single-user gateway: no team keys issued (lynkr keys create NAME)")
    now = time.time()
    live = [k for k in keys if k.state(now) == "active"]
    soon = sorted(k.name for k in live if k.expires_at is not None and k.expires_at < now + SOON)
    from lynkr_cli.team.limits import native_status

    details: dict[str, Any] = {
        "keys": len(keys),
        "live": len(live),
        "expiring_soon": soon,
        # "native": the C accelerator counts the in-memory limits; "python": it is not
        # built (reinstall lynkr with a C compiler for a cheaper hot path)
        "limit_counters": native_status(),
    }
    if settings is not None and settings.team.audit == "off":
        return _r(
            "warn",
            f"team gateway with {len(live)} live keys, but the audit log is off",
            "Set LYNKR_AUDIT=metadata (the default) to record who did what.",
            **details,
        )
    if ctx.deep and store is not None:
        from lynkr_cli.team.audit import verify

        verdict = verify(store.audit_chain(), store.audit_anchor())
        details["audit"] = verdict.as_dict()
        if not verdict.ok:
            return _r(
                "fail",
                f"the audit log is broken: {verdict.problem}",
                "Compare with an export or a backup; `lynkr audit verify` names the "
                "first broken record.",
                **details,
            )
    summary = f"team gateway: {len(live)} live keys of {len(keys)} issued"
    if soon:
        return _r(
            "warn",
            f"{summary}; expiring within 7 days: {', '.join(soon)}",
            "Extend them: lynkr keys update NAME --expires 90d",
            **details,
        )
    return _r("ok", summary, **details)
