"""Managing keys and reading usage: what ``lynkr keys``/``usage``/``audit`` do, without the CLI.

Every key change is one store transaction that also bumps the change counter (so a
running gateway picks it up within its key TTL) and appends an audit event naming
what changed. Neither the key nor its hash ever appears in an event or a listing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.team import keys as keymod
from lynkr_cli.team.audit import detail_json
from lynkr_cli.team.store import AuditEntry, Store
from lynkr_cli.team.times import month_window, rfc3339_micro
from lynkr_cli.team.types import AuditMode, KeyRecord, Limits, ToolsMode

if TYPE_CHECKING:
    from lynkr_cli.settings import Settings

_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
CLEAR = ("none", "off", "unlimited")
UNSET: Any = object()  # "leave as is" for update()


def open_store(settings: Settings | None = None) -> Store:
    """The configured store (``LYNKR_DATABASE_URL``, else the shared ``lynkr.db``)."""
    from lynkr_cli.settings import get_settings
    from lynkr_cli.team.backends import open_store as open_configured

    return open_configured(settings if settings is not None else get_settings())


def parse_count(text: str | None, what: str) -> int | None:
    """``10``, ``50k``, ``1.5M``; ``none`` clears. ``None`` in, ``UNSET`` out."""
    if text is None:
        return UNSET  # type: ignore[no-any-return]
    if text.strip().lower() in CLEAR:
        return None
    match = _COUNT.match(text)
    value = float(match[1]) * _SUFFIX[match[2].lower()] if match else 0
    if not match or value < 1 or value != int(value):
        raise UsageError(
            f"invalid {what} {text!r}",
            hint="Give a positive whole number, optionally with k or M (50k, 2M), or 'none'.",
        )
    return int(value)


def parse_budget(text: str | None) -> Decimal | None:
    if text is None:
        return UNSET  # type: ignore[no-any-return]
    if text.strip().lower() in CLEAR:
        return None
    try:
        value = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise UsageError(f"invalid budget {text!r}", hint="Give USD per month, e.g. 50 or 12.50.")
    return value.quantize(Decimal("0.01"))


def parse_models(text: str | None) -> tuple[str, ...]:
    if text is None:
        return UNSET  # type: ignore[no-any-return]
    globs = tuple(part.strip() for part in text.split(",") if part.strip())
    if not globs or "*" in globs or text.strip().lower() in ("all", "any"):
        return ()
    bad = [g for g in globs if re.search(r"\s", g) or len(g) > 200]
    if bad:
        raise UsageError(
            f"invalid model glob {bad[0]!r}", hint="e.g. 'claude-haiku-*,claude-sonnet-*'"
        )
    return globs


def limit_changes(
    rpm: str | None,
    tpm: str | None,
    tokens_day: str | None,
    tokens_month: str | None,
    budget_usd: str | None,
) -> dict[str, Any]:
    """The limits given as command-line text, parsed; ``UNSET`` where none was given."""
    return {
        "rpm": parse_count(rpm, "--rpm"),
        "tpm": parse_count(tpm, "--tpm"),
        "tokens_day": parse_count(tokens_day, "--tokens-day"),
        "tokens_month": parse_count(tokens_month, "--tokens-month"),
        "budget_usd": parse_budget(budget_usd),
    }


def merge_limits(current: Limits, **changes: Any) -> Limits:
    return replace(current, **{k: v for k, v in changes.items() if v is not UNSET})


# ------------------------------------------------------------------ keys


def create(
    store: Store,
    name: str,
    *,
    expires_at: float | None = None,
    models: tuple[str, ...] = (),
    limits: Limits | None = None,
    tools: ToolsMode = "never",
    note: str = "",
    audit: AuditMode = "metadata",
    guard: str | None = None,
) -> tuple[KeyRecord, str]:
    """A new key; the second value is the key itself, to be shown once."""
    keymod.validate_name(name)
    now = time.time()
    if expires_at is not None and expires_at <= now:
        raise UsageError("the expiry is in the past", hint="e.g. --expires 30d or 2027-01-31")
    secret = keymod.new_key()
    key = KeyRecord(
        id=keymod.new_key_id(),
        name=name,
        prefix=keymod.shown_prefix(secret),
        secret_hash=keymod.hash_hex(secret),
        created_at=now,
        expires_at=expires_at,
        models=models,
        tools=tools,
        limits=limits or Limits(),
        note=_note(note),
        guard=guard,
    )
    store.save_key(key, _event("key.create", key, _settings(key), audit), new=True)
    return key, secret


def resolve(store: Store, ident: str, *, live_only: bool = False) -> KeyRecord:
    """The key with this name, id or shown prefix; a live key wins over revoked ones."""
    found = store.find_keys(ident.strip())
    live = [k for k in found if k.revoked_at is None]
    if not found:
        raise NotFoundError(
            f"no key named '{ident}'",
            hint="`lynkr keys list` shows names, ids and prefixes (--all includes revoked keys).",
        )
    if live_only and not live:
        raise UsageError(f"key '{ident}' is revoked", hint="`lynkr keys list --all` shows it.")
    if len(live) == 1:
        return live[0]
    if not live and (len(found) == 1 or all(k.name == ident for k in found)):
        return found[0]  # the newest of the revoked keys with this name
    ids = ", ".join(k.id for k in (live or found))
    raise UsageError(f"'{ident}' matches several keys ({ids})", hint="Name one by its id.")


def revoke(store: Store, ident: str, audit: AuditMode = "metadata") -> KeyRecord:
    key = resolve(store, ident, live_only=True)
    revoked = replace(key, revoked_at=time.time())
    store.save_key(revoked, _event("key.revoke", revoked, {}, audit), new=False)
    return revoked


def rotate(
    store: Store, ident: str, *, grace: float = 0.0, audit: AuditMode = "metadata"
) -> tuple[KeyRecord, str]:
    """A new secret for the same key (same id, limits and history); the old one stops
    working now, or after ``grace`` seconds."""
    key = resolve(store, ident, live_only=True)
    secret = keymod.new_key()
    now = time.time()
    rotated = replace(
        key,
        prefix=keymod.shown_prefix(secret),
        secret_hash=keymod.hash_hex(secret),
        previous_hash=key.secret_hash if grace > 0 else None,
        previous_until=now + grace if grace > 0 else None,
    )
    detail = {"grace_seconds": grace, "old_prefix": key.prefix, "new_prefix": rotated.prefix}
    store.save_key(rotated, _event("key.rotate", rotated, detail, audit), new=False)
    return rotated, secret


def update(store: Store, ident: str, audit: AuditMode = "metadata", **changes: Any) -> KeyRecord:
    """Change expiry, models, tools, note or limits; ``UNSET`` values stay as they are."""
    key = resolve(store, ident, live_only=True)
    limit_changes = {k: changes.pop(k) for k in list(changes) if k in Limits.__dataclass_fields__}
    fields = {k: v for k, v in changes.items() if v is not UNSET}
    if "note" in fields:
        fields["note"] = _note(fields["note"])
    updated = replace(key, limits=merge_limits(key.limits, **limit_changes), **fields)
    if updated == key:
        raise UsageError("nothing to change", hint="`lynkr keys update --help` lists the options.")
    before, after = _settings(key), _settings(updated)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    store.save_key(updated, _event("key.update", updated, diff, audit), new=False)
    return updated


def _note(note: str) -> str:
    if len(note) > 2000:
        raise UsageError("the note is too long", hint="Keep it under 2000 characters.")
    return note


def _settings(key: KeyRecord) -> dict[str, Any]:
    return {
        "expires_at": key.expires_at,
        "models": list(key.models),
        "tools": key.tools,
        "guard": key.guard,
        "limits": key.limits.as_dict(),
        "note": key.note,
    }


def _event(
    event: str, key: KeyRecord, detail: dict[str, Any], audit: AuditMode
) -> AuditEntry | None:
    if audit == "off":
        return None
    return AuditEntry(
        rfc3339_micro(time.time()),
        event,
        key_id=key.id,
        key_name=key.name,
        detail=detail_json(detail),
    )


# ------------------------------------------------------------------ listings


@dataclass(frozen=True)
class KeyRow:
    key: KeyRecord
    state: str
    spent_nano: int  # this calendar month (UTC)
    tokens: int  # this calendar month

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.key.public(),
            "state": self.state,
            "month_spend_usd": str(Decimal(self.spent_nano) / Decimal(10**9)),
            "month_tokens": self.tokens,
        }


def key_rows(store: Store, *, include_revoked: bool = False) -> list[KeyRow]:
    now = time.time()
    sums = store.usage_sums(month_window(now)[0])
    rows = []
    for key in store.list_keys():
        state = key.state(now)
        if state == "revoked" and not include_revoked:
            continue
        tokens, nano = sums.get(key.id, (0, 0))
        rows.append(KeyRow(key, state, nano, tokens))
    return rows


def key_row(store: Store, ident: str) -> KeyRow:
    key = resolve(store, ident)
    tokens, nano = store.usage_sums(month_window(time.time())[0]).get(key.id, (0, 0))
    return KeyRow(key, key.state(time.time()), nano, tokens)


def key_ids(store: Store, idents: Iterable[str]) -> tuple[str, ...]:
    """Ids of every key (revoked ones too) matching each name, id or prefix."""
    out: list[str] = []
    for ident in idents:
        found = store.find_keys(ident)
        if not found:
            raise NotFoundError(
                f"no key named '{ident}'", hint="`lynkr keys list --all` lists them."
            )
        out.extend(k.id for k in found)
    return tuple(dict.fromkeys(out))


def prune_audit(store: Store, days: float, now: float | None = None) -> int:
    """Delete audit records older than ``days`` (the chain's anchor moves with them)."""
    now = time.time() if now is None else now
    entry = AuditEntry(rfc3339_micro(now), "audit.prune")
    return store.prune_audit(rfc3339_micro(now - days * 86400), entry)
