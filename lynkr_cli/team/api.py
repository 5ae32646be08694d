"""What the gateway calls: :class:`Team`. The contract with ``serve/`` (no aiohttp here).

Lifecycle::

    team = Team.open(settings)      # sync and cheap: opens lynkr.db, loads the keys
    await team.start()              # seeds counters, starts the key refresh and the writer
    ...
    await team.stop()               # on SIGTERM drain: writes every queued record

Per request (only while ``team.active``; otherwise the gateway behaves as before)::

    principal = team.authenticate(presented_key(request.headers))   # sync, no DB read
    principal.check_model(client_model)                            # 403 permission_error
    admission = await team.admit(principal, client_model, estimated_input_tokens,
                                 upstream_model=route.upstream_model)  # may raise RateLimited
    response.headers.update(admission.headers())                    # on every answer
    ... the upstream call ...
    cost_nano = await team.settle(admission, Usage.from_anthropic(message["usage"]))
    team.record_usage(UsageRecord(request_id, ts, principal.key_id, principal.name, ...,
                                  cost_nano=cost_nano), request=body, response=message)

A refused key is worth an audit entry: ``team.record_auth_failure(request_id, e.reason)``.
Requests the gateway answers while ``team.active`` is False can still be recorded (with
an empty key), so ``lynkr usage`` works for a single user too.

:class:`Principal` (:mod:`lynkr_cli.team.types`): ``key_id``, ``name``, ``prefix``
(``admin`` is True for ``LYNKR_API_KEY``, with an empty name), ``models`` globs with
``allows_model()``/``check_model()``, ``tools`` (never|auto|always; None for the admin:
the gateway's own ``LYNKR_TOOLS_MODE``), ``limits``, and ``guard`` (None: reserved for
a per-key guard mode).

Errors (:mod:`lynkr_cli.team.types`) carry ``status``, ``error_type`` (Anthropic's error
``type``), ``headers``, ``retry`` (for ``x-should-retry``) and a ``message`` safe for
the key holder: :class:`AuthError` 401 (``reason`` missing|unknown|revoked|expired),
:class:`ModelRefused` 403, :class:`RateLimited` 429 (``retry_after``; ``headers``
include ``retry-after`` and the ``anthropic-ratelimit-*`` set), :class:`TeamUnavailable`
503.

**Key checks.** Every issued key lives in memory by the SHA-256 of the key
(:class:`~lynkr_cli.team.keys.KeyCache`); ``authenticate`` hashes the presented key,
reads one dict and compares digests with :func:`hmac.compare_digest`. A refresh task
polls the store's change counter every ``key_cache_ttl / 2`` seconds (default 2.5 s)
and reloads the snapshot when it moved, so a new, revoked, rotated or updated key takes
effect within ``key_cache_ttl`` (default 5 s) with no database read on the hot path.
There is no slow path: a key the snapshot does not know is unknown. If the store
cannot be read for ``3 × key_cache_ttl``, issued keys get :class:`TeamUnavailable`
until it can (``LYNKR_API_KEY`` keeps working). Before ``start()`` (scripts, tests)
a stale snapshot is reloaded synchronously instead.

Key reads run on their own thread, so a long batch of audit writes never delays them.

**Limits** (:mod:`lynkr_cli.team.limits`): ``admit`` is a coroutine so a Redis
``LimitStore`` can slot in; the in-memory one never awaits. **Usage and audit**
(:mod:`lynkr_cli.team.recorder`): ``record_usage`` only appends to a queue; batches of
``TeamSettings.batch_size()`` (3,000; 100 in full audit mode) are written every
``usage_flush_seconds`` (1 s) or as soon as a batch is full, by the writer process
(:mod:`lynkr_cli.team.writer`; with ``LYNKR_USAGE_WRITER=thread``, on one worker
thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lynkr_cli import paths
from lynkr_cli.logs import get_logger
from lynkr_cli.team import prices as prices_mod
from lynkr_cli.team.audit import detail_json
from lynkr_cli.team.batches import UsageRow
from lynkr_cli.team.keys import KeyCache, presented_key
from lynkr_cli.team.limits import Admission, Limiter, MemoryLimitStore
from lynkr_cli.team.recorder import Recorder
from lynkr_cli.team.store import AuditEntry, LimitStore, Store
from lynkr_cli.team.times import rfc3339_micro
from lynkr_cli.team.types import (
    DAY,
    MONTH,
    NANO_MO,
    TOKENS_D,
    TOKENS_MO,
    AuthError,
    AuthReason,
    KeyRecord,
    ModelRefused,
    Principal,
    RateLimited,
    TeamError,
    TeamUnavailable,
    Usage,
    UsageRecord,
)

if TYPE_CHECKING:
    from lynkr_cli.settings import Settings
    from lynkr_cli.team.writer import ProcessWriter

__all__ = [
    "Admission",
    "backends",
    "AuthError",
    "ModelRefused",
    "Principal",
    "RateLimited",
    "Team",
    "TeamError",
    "TeamUnavailable",
    "Usage",
    "UsageRecord",
    "UsageRow",
    "presented_key",
]


def backends(settings: Settings) -> dict[str, Any]:
    """Which backend holds what (``lynkr config show``): URLs without their passwords."""
    from lynkr_cli.team.backends import describe

    described = describe(settings)
    return {**described.as_dict(), "summary": described.summary()}


STALE_FACTOR = 3
PRUNE_EVERY = 6 * 3600.0
SPILL_NAME = "team-records.spill.jsonl"
MAX_PENDING = 10_000  # records held in memory while the store cannot be written …
MAX_PENDING_FULL = 1_000  # … fewer in full audit mode, where each holds two bodies


class Team:
    """Keys, limits, prices, usage and audit for one gateway process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        limit_store: LimitStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        writer: ProcessWriter | None = None,
    ) -> None:
        from lynkr_cli.settings import secret_values

        team = settings.team
        admin = settings.server.api_key
        self.settings = team
        self.store = store
        self.clock = clock
        self.ttl = float(team.key_cache_ttl)
        self.keys = KeyCache(admin.get_secret_value() if admin is not None else None)
        self.prices = prices_mod.build(team.prices, team.prices_file)
        self.limit_store: LimitStore = limit_store or MemoryLimitStore()
        self.limiter = Limiter(self.limit_store, self.prices, clock)
        # Whether the limits live in this process (no Redis): then the gateway calls
        # admit_sync() and settle_sync(), which never wait, and makes no coroutine.
        self.limits_sync = self.limiter.sync
        self.recorder = Recorder(
            store,
            audit=team.audit,
            batch_size=team.batch_size(),
            interval=team.usage_flush_seconds,
            max_body_chars=team.audit_max_body_kb * 1024,
            spill=paths.state_dir() / SPILL_NAME,
            known=secret_values(settings),  # the gateway's own keys, masked in any body
            # While the store is down, records wait in memory up to this many, then spill.
            max_pending=MAX_PENDING_FULL if team.audit == "full" else MAX_PENDING,
            writer=writer,  # None: the thread writer
        )
        self._version = -1
        self._checked = 0.0
        self._keys: list[KeyRecord] = []
        self._reader: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.log = get_logger("lynkr.team")
        self.reload_keys()

    @classmethod
    def open(cls, settings: Settings, **kwargs: Any) -> Team:
        """The configured backends (:mod:`lynkr_cli.team.backends`): the shared ``lynkr.db``
        by default, PostgreSQL with ``LYNKR_DATABASE_URL`` (which must be reachable and
        migrated), Redis counters with ``LYNKR_REDIS_URL``."""
        from lynkr_cli.team.backends import open_limit_store, open_store
        from lynkr_cli.team.writer import ProcessWriter, writer_spec

        if kwargs.get("limit_store") is None:
            kwargs["limit_store"] = open_limit_store(settings)
        if settings.team.usage_writer == "process":
            kwargs.setdefault("writer", ProcessWriter(writer_spec(settings)))
        return cls(settings, open_store(settings), **kwargs)

    @property
    def active(self) -> bool:
        """False while no key was ever issued and no ``LYNKR_API_KEY`` is set."""
        return self.keys.count > 0 or self.keys.has_admin

    # ------------------------------------------------------------------ keys
    def reload_keys(self) -> None:
        """Read the keys from the store now (a database read: not for the hot path)."""
        version = self.store.keys_version()
        self._load(self.store.list_keys(), version)

    def _load(self, keys: list[KeyRecord], version: int) -> None:
        self.keys.load(keys)
        self._keys = keys
        self._version = version
        self._checked = time.monotonic()

    def authenticate(self, presented: str | None) -> Principal:
        """The caller's principal, or :class:`AuthError`. Sync; reads no database."""
        principal = self.keys.authenticate(presented, self.clock())
        if not principal.admin and time.monotonic() - self._checked > self.ttl:
            self._stale()
        return principal

    def _stale(self) -> None:
        if not self._tasks:  # not started: nothing refreshes behind us, so read now
            self.reload_keys()
            return
        if time.monotonic() - self._checked > self.ttl * STALE_FACTOR:
            raise TeamUnavailable(
                "the gateway cannot read its key store right now, so it cannot check "
                "your key; retry in a few seconds. (Gateway admin: see the log for "
                "'key refresh failed'.)"
            )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 2)
            try:
                await self.refresh()
            except Exception as exc:
                self.log.error("key refresh failed", error=repr(exc))

    async def refresh(self) -> None:
        """Reload the keys if the store's change counter moved (off the event loop)."""
        version = await self._read(self.store.keys_version)
        if version == self._version:
            self._checked = time.monotonic()
            return
        keys = await self._read(self.store.list_keys)
        known = {key.id: key.limits for key in self._keys}
        changed = [key for key in keys if known.get(key.id) != key.limits]
        if changed:  # a new budget must count what the key already spent this month
            await self._read(self._seed, changed)
        self._load(keys, version)

    # ------------------------------------------------------------------ limits
    def admit(
        self,
        principal: Principal,
        model: str,
        estimated_input_tokens: int,
        *,
        upstream_model: str = "",
    ) -> Coroutine[Any, Any, Admission]:
        """Charge one request to the key's limits, or raise :class:`RateLimited` (a
        coroutine: the limiter's own, with no wrapper coroutine on the hot path)."""
        return self.limiter.admit(principal, _models(model, upstream_model), estimated_input_tokens)

    def settle(self, admission: Admission, usage: Usage) -> Coroutine[Any, Any, int]:
        """Count the answer's real usage; returns its cost in nano-USD (once per admission)."""
        return self.limiter.settle(admission, usage)

    def admit_sync(
        self,
        principal: Principal,
        model: str,
        estimated_input_tokens: int,
        *,
        upstream_model: str = "",
    ) -> Admission:
        """:meth:`admit` while ``limits_sync``."""
        models = _models(model, upstream_model)
        return self.limiter.admit_sync(principal, models, estimated_input_tokens)

    def settle_sync(self, admission: Admission, usage: Usage) -> int:
        """:meth:`settle` while ``limits_sync``."""
        return self.limiter.settle_sync(admission, usage)

    def cost(self, model: str, usage: Usage) -> Decimal:
        return self.prices.cost(model, usage)

    # ------------------------------------------------------------------ records
    def record_usage(self, record: UsageRecord, request: Any = None, response: Any = None) -> None:
        """Queue one usage record (and its audit entry). Never blocks; any thread."""
        self.recorder.record(record, request, response)

    def record_row(self, row: UsageRow, request: Any = None, response: Any = None) -> None:
        """:meth:`record_usage` for a :class:`UsageRecord`'s fields, in order (the hot path)."""
        self.recorder.record_row(row, request, response)

    def record_auth_failure(self, request_id: str, reason: AuthReason, route: str = "") -> None:
        """An audit entry for a refused key (never the key itself)."""
        detail = detail_json({"reason": reason, "route": route} if route else {"reason": reason})
        self.recorder.event(
            AuditEntry(
                rfc3339_micro(self.clock()),
                "auth.fail",
                request_id=request_id,
                status=401,
                detail=detail,
            )
        )

    # ------------------------------------------------------------------ backends
    def collector(self, cache: Any = None) -> Any:
        """A prometheus-client collector for ``/metrics``: Redis fallbacks, records
        waiting or spilled, and ``cache``'s backend errors (a ``PromptCache``, or None)."""
        from lynkr_cli.team.metrics import BackendCollector

        limits = getattr(self.limit_store, "stats", None)
        recorder = self.recorder

        def records() -> dict[str, int]:
            return {
                "pending": recorder.pending,
                "written": recorder.written,
                "spilled": recorder.spilled,
            }

        return BackendCollector(
            limits if limits is not None else lambda: None,
            records,
            cache.backend_stats if cache is not None else lambda: None,
        )

    # ------------------------------------------------------------------ lifecycle
    async def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Key reads on their own thread: a long batch write must not delay a revocation."""
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="lynkr-team-keys")
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, *args)

    async def start(self) -> None:
        await self.recorder.start()
        await self.refresh()
        await self._read(self._seed, self._keys)
        self._tasks = [asyncio.create_task(self._refresh_forever(), name="lynkr-team-keys")]
        if self.settings.audit_retention_days > 0 and self.settings.audit != "off":
            self._tasks.append(asyncio.create_task(self._prune_forever(), name="lynkr-team-prune"))

    async def stop(self) -> None:
        """Stop the background tasks and write every queued record."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.recorder.stop()
        closer = getattr(self.limit_store, "aclose", None)
        if closer is not None:  # the Redis clients
            await closer()
        if self._reader is not None:
            await self._read(self.store.close)
            self._reader.shutdown(wait=True)
            self._reader = None
        self.store.close()  # this thread's connection; the writer's closed with its thread

    def _seed(self, keys: list[KeyRecord]) -> None:
        """Rebuild ``keys``' day and month counters from recorded usage (the source of truth)."""
        windows = self.limiter.windows(self.clock())
        day, month = windows[DAY], windows[MONTH]
        today = self.store.usage_sums(day[0])
        this_month = self.store.usage_sums(month[0])
        for key in keys:
            limits = key.limits
            if limits.tokens_day is not None:
                self.limit_store.seed(key.id, TOKENS_D, *day, today.get(key.id, (0, 0))[0])
            tokens, nano = this_month.get(key.id, (0, 0))
            if limits.tokens_month is not None:
                self.limit_store.seed(key.id, TOKENS_MO, *month, tokens)
            if limits.budget_usd is not None:
                self.limit_store.seed(key.id, NANO_MO, *month, nano)

    async def _prune_forever(self) -> None:
        while True:
            try:
                await self.recorder.run_in_worker(self.prune_audit)
            except Exception as exc:
                self.log.error("audit prune failed", error=repr(exc))
            await asyncio.sleep(PRUNE_EVERY)

    def prune_audit(self, days: float | None = None) -> int:
        """Delete audit rows older than the retention (or ``days``); returns how many."""
        from lynkr_cli.team.admin import prune_audit

        keep = self.settings.audit_retention_days if days is None else days
        return prune_audit(self.store, keep, self.clock())


def _models(model: str, upstream_model: str) -> tuple[str, ...]:
    """The names a price is looked up by: the upstream's first, then the client's."""
    return (upstream_model, model) if upstream_model else (model,)


def keys_issued() -> bool:
    """Whether any key was ever issued here (the team gateway is on): a store read, for
    ``lynkr serve``'s bind check at start, not for the hot path."""
    from lynkr_cli.team.admin import open_store

    store = open_store()
    try:
        return bool(store.list_keys())
    finally:
        store.close()
