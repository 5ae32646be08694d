"""The storage seams: :class:`Store` (keys, usage, audit) and :class:`LimitStore` (counters).

The pipeline only ever talks to these two protocols. The embedded default is
:class:`lynkr_cli.team.sqlite.SqliteStore` (the shared ``lynkr.db``) with
:class:`lynkr_cli.team.limits.MemoryLimitStore`; :class:`lynkr_cli.team.postgres.PgStore`
and :class:`lynkr_cli.team.redis_limits.RedisLimitStore` slot in behind the same methods
for several instances (:mod:`lynkr_cli.team.backends` chooses).

Rules an implementation keeps:

- ``Store`` methods are synchronous and called from a worker thread (never on the
  event loop); each must be safe to call from any thread.
- ``write_batch`` writes usage and audit records in one transaction, appending audit
  entries to the hash chain with :func:`lynkr_cli.team.audit.seal` while holding the
  lock that serialises appends (``BEGIN IMMEDIATE`` in SQLite; an advisory lock in
  PostgreSQL), so two writers never fork the chain.
- ``bump_keys_version`` runs in the same transaction as every key change, so a
  gateway polling ``keys_version`` sees a change exactly when it can read it.
- ``LimitStore.acquire`` is atomic: all checks pass and every counter grows, or
  nothing changes. Counters are integers (costs in nano-USD) keyed by key id,
  counter name and UTC window start, and expire at the window's end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from lynkr_cli.team.types import KeyRecord, UsageRecord


@dataclass(slots=True)
class AuditEntry:
    """One audit record before it is sealed into the chain (``seq``/hashes come later)."""

    ts: str  # RFC 3339 UTC with microseconds: times are text so every backend hashes alike
    event: (
        str  # request | auth.fail | key.create | key.update | key.revoke | key.rotate | audit.prune
    )
    request_id: str = ""
    key_id: str = ""
    key_name: str = ""
    client_model: str = ""
    provider: str = ""
    upstream_model: str = ""
    status: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano: int = 0
    detail: str = ""  # canonical JSON text (bodies in full mode, changes for key events)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    key: str | None = None  # a key id or name
    model: str | None = None  # a glob over client and upstream model
    status: int | None = None
    event: str | None = None
    since: str | None = None  # RFC 3339, inclusive
    until: str | None = None  # RFC 3339, exclusive


@dataclass(frozen=True, slots=True)
class UsageQuery:
    group: str = "key"  # key | model | provider | day
    since: float | None = None
    until: float | None = None
    key_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class UsageTotal:
    group: str
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """Keys, usage and audit; see the module docstring for the rules."""

    # -- keys
    def keys_version(self) -> int: ...
    def list_keys(self) -> list[KeyRecord]: ...
    def find_keys(self, ident: str) -> list[KeyRecord]: ...
    def save_key(self, key: KeyRecord, audit: AuditEntry | None, *, new: bool) -> None: ...

    # -- usage and audit
    def write_batch(self, usage: Sequence[UsageRecord], audit: Sequence[AuditEntry]) -> None: ...
    def usage_totals(self, query: UsageQuery) -> list[UsageTotal]: ...
    def usage_sums(self, since: float) -> dict[str, tuple[int, int]]: ...
    def export_usage(self) -> Iterator[UsageRecord]: ...

    def audit_rows(
        self, flt: AuditFilter, *, last: int | None = None
    ) -> Iterator[dict[str, Any]]: ...
    def audit_chain(self) -> Iterator[dict[str, Any]]: ...
    def audit_anchor(self) -> tuple[int, str]: ...
    def prune_audit(self, before: str, entry: AuditEntry) -> int: ...

    def close(self) -> None: ...


class Check(NamedTuple):
    """Grow ``counter`` in the window starting at ``window`` by ``amount``, up to ``limit``."""

    counter: str
    window: float
    window_end: float
    amount: int
    limit: int
    allow_when_empty: bool = False  # an oversize request may pass in an unused window


class Decision(NamedTuple):
    ok: bool
    values: tuple[int, ...]  # each counter after the change (or as found, when refused)
    failed: int = -1  # index of the first check that refused


class LimitStore(Protocol):
    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision: ...
    async def add(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None: ...
    def seed(self, key_id: str, counter: str, window: float, window_end: float, value: int) -> None:
        """Set a counter from recorded usage (a fresh process; Redis may keep its own).

        Called from a worker thread, never on the event loop."""
