"""``lynkr doctor``'s team check: keys, expiries, the audit mode and records left behind."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lynkr_cli import paths
from lynkr_cli.registry import CheckResult, CheckStatus

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context

SOON = 7 * 86400


def _r(status: CheckStatus, summary: str, fix: str | None = None, **details: Any) -> CheckResult:
    return CheckResult("team", status, summary, fix, dict(details))


def team_state(ctx: Context) -> CheckResult:
    """Single-user or team mode; keys expiring soon; audit off; unwritten records; with
    ``--deep``, the audit chain verified."""
    from lynkr_cli.team.api import SPILL_NAME
    from lynkr_cli.team.sqlite import SqliteStore

    settings = ctx.settings()
    spill = paths.state_dir() / SPILL_NAME
    if spill.exists():
        return _r(
            "warn",
            f"usage/audit records are waiting in {spill}",
            "They are written when the gateway next starts; check why the database "
            "could not be written (disk full? permissions?).",
        )
    store = SqliteStore.inspect(paths.app_db_path())
    keys = store.list_keys() if store is not None else []
    if not keys:
        return _r("ok", "single-user gateway: no team keys issued (lynkr keys create NAME)")
    now = time.time()
    live = [k for k in keys if k.state(now) == "active"]
    soon = sorted(k.name for k in live if k.expires_at is not None and k.expires_at < now + SOON)
    details: dict[str, Any] = {"keys": len(keys), "live": len(live), "expiring_soon": soon}
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
