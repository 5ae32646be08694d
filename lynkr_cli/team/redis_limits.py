"""The Redis ``LimitStore``: rate-limit counters shared by every gateway instance.

**Atomic across instances.** :meth:`RedisLimitStore.acquire` is one Lua script over all
of a key's counters: it increments them, and if any check fails, undoes every increment
and refuses (a new counter expires a minute after its window ends). Redis runs a script
alone, so no one sees a refused request's increments, and two instances sharing a
limit of 10 per minute let exactly 10 through between them.
Counters are ``lynkr:limit:{<key id>}:<counter>:<window start>``.

**Settlements are coalesced.** What an answer really used (:meth:`RedisLimitStore.add`,
the difference from the estimate) is summed here per key, counter and window, and every
key's sums are sent in one script call ``flush_seconds`` (20 ms) after the first, or
as soon as ``FLUSH_KEYS`` keys have some waiting, and at :meth:`~RedisLimitStore.aclose`
(nothing is lost at a clean stop). So a request costs Redis one admission, and a busy
key's settlements cost it a few increments every 20 ms instead of a few per request.
Admissions (``rpm``) are never delayed; real token usage and cost reach the shared
counters (this instance's admissions included) at most that much later, which is small
beside the time an answer takes (its output tokens are only known at its end anyway).

The calls go through :class:`lynkr_cli.team.resp.RespClient`, one pipelined
connection (see there for why not redis-py on this path). **Admissions are batched
without waiting**: the admissions of one key made in one event-loop pass go out in one
script call (``ADMIT``), packed when the connection writes that pass's commands, so a
busy key costs Redis one script call per pass instead of one per request, and no
request waits longer than it did alone. The script decides them one after the other,
exactly as separate calls would. An admission's arguments are encoded once per key and
window; only its amounts are encoded per request.

**When Redis is unreachable** (stopped, network, timeout, refused login) the gateway
keeps serving: limits fall back to this process's in-memory counters, starting from
the last values it saw in Redis, with a warning log and the
``lynkr_limits_fallback_total`` metric. Each instance then enforces the limit on its
own (up to N × the limit across N instances). Redis is tried again every
``retry_seconds``; when it answers, what was counted here in the meantime is added to
the shared counters (for windows still open) and Redis is used again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from lynkr_cli.dsn import scrub, shown_url
from lynkr_cli.logs import get_logger
from lynkr_cli.team.limits import MemoryLimitStore
from lynkr_cli.team.resp import (
    RespClient,
    RespConnectionError,
    RespError,
    Script,
    bulk_int,
    pack_args,
)
from lynkr_cli.team.store import Check, Decision

if TYPE_CHECKING:
    import redis

PREFIX = "lynkr:limit:"
EXPIRE_SLACK = 60.0  # seconds a counter outlives its window (clock skew between hosts)
TIMEOUT = 0.5  # seconds for a connect or a reply: a slow Redis must not stall requests
FLUSH_SECONDS = 0.02  # settlements are sent together at most this long after the first
FLUSH_KEYS = 256  # … or as soon as this many keys have some waiting
MAX_UNMERGED = 10_000
MAX_PACKED = 4096  # encoded admissions kept (a few per key: they change with the window)
Change = tuple[str, float, float, int]  # counter, window start, window end, amount
Deltas = dict[tuple[str, float], list[float]]  # (counter, window) -> [window end, amount]

# Settlements (and, after an outage, what was counted here): KEYS are counters, ARGV
# two per counter: the amount to add, the expiry (ms since the epoch) a new one gets.
SETTLE = Script("""
for j = 1, #KEYS do
  local amount = tonumber(ARGV[j * 2 - 1])
  if redis.call('INCRBY', KEYS[j], amount) == amount then
    redis.call('PEXPIREAT', KEYS[j], ARGV[j * 2])
  end
end
return 1
""")
# Admissions: those of one key in one event-loop pass, in one call. KEYS: the n
# counters to check. ARGV: n; three per check: limit, allow_when_empty (0/1), expiry
# (ms since the epoch); then m, the number of admissions; then n amounts per admission
# (last, so everything before them is encoded once per key and window). The counters
# are read once, the admissions decided one after the other in Lua (a refused one
# charges nothing), and each counter grown once by what the admitted ones add (a new
# counter gets its expiry). The script runs alone, so this is exactly what separate
# calls would have done. Returns, per admission: ok (1/0), failed index or -1, the
# value of each counter after it (before it, when refused).
ADMIT = Script("""
local n = tonumber(ARGV[1])
local base = 2 + n * 3
local m = tonumber(ARGV[base])
local cur, start = {}, {}
for i = 1, n do
  cur[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  start[i] = cur[i]
end
local out = {}
for k = 0, m - 1 do
  local a = base + k * n
  local o = k * (n + 2)
  local failed = -1
  for i = 1, n do
    local b = 2 + (i - 1) * 3
    local value = cur[i] + tonumber(ARGV[a + i])
    if value > tonumber(ARGV[b]) and not (ARGV[b + 1] == '1' and cur[i] == 0) then
      failed = i - 1
      break
    end
  end
  if failed < 0 then
    out[o + 1], out[o + 2] = 1, -1
    for i = 1, n do cur[i] = cur[i] + tonumber(ARGV[a + i]) end
  else
    out[o + 1], out[o + 2] = 0, failed
  end
  for i = 1, n do out[o + i + 2] = cur[i] end
end
for i = 1, n do
  local grown = cur[i] - start[i]
  if grown ~= 0 and redis.call('INCRBY', KEYS[i], grown) == grown then
    redis.call('PEXPIREAT', KEYS[i], ARGV[2 + (i - 1) * 3 + 2])
  end
end
return out
""")
# Raise a counter to at least ARGV[1] (recorded usage is a floor: Redis may know more).
SEED = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) end
return cur
"""
_STATIC = itemgetter(0, 1, 2, 4, 5)  # a Check without its amount
_decision = partial(tuple.__new__, Decision)  # Decision(*fields) without its __new__


def counter_name(key_id: str, counter: str, window: float) -> str:
    return f"{PREFIX}{{{key_id}}}:{counter}:{int(window)}"


def expire_ms(window_end: float) -> int:
    return int((window_end + EXPIRE_SLACK) * 1000)


ERRORS = (RespError, RespConnectionError, OSError, TimeoutError)


class RedisLimitStore:
    """Counters in Redis, with per-instance counting while Redis is away."""

    ADD_IS_SYNC = True  # add() only queues (see Limiter)

    def __init__(
        self,
        url: str,
        *,
        retry_seconds: float = 1.0,
        timeout: float = TIMEOUT,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.url = url
        self.shown = shown_url(url)
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.flush_seconds = flush_seconds
        self.local = MemoryLimitStore()  # the fallback while Redis is away
        self.down_since: float | None = None
        self.fallbacks = 0  # admissions and settlements counted here while Redis was away
        self.outages = 0
        self._resp = RespClient(url, timeout=timeout)
        self._sync: redis.Redis | None = None
        self._retry_at = 0.0
        self._seen: dict[str, tuple[Sequence[Check], tuple[int, ...]]] = {}  # last values
        self._deltas: dict[str, Deltas] = {}  # settlements not yet sent, by key
        self._packed: dict[tuple[Any, ...], tuple[int, bytes]] = {}
        self._open: dict[tuple[Any, ...], _Admissions] = {}  # this pass's calls, by key
        self._unmerged: dict[tuple[str, str, float], list[float]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.log = get_logger("lynkr.team")

    def _blocking(self) -> redis.Redis:
        if self._sync is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._sync = redis.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 1),
                client_name="lynkr-limits",
            )
        return self._sync

    async def aclose(self) -> None:
        """Send the settlements still waiting, then close the connections."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.down_since is None:
            await self.flush()
        await self._resp.aclose()
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    # ------------------------------------------------------------------ the protocol
    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        if self.down_since is None or await self._usable():
            try:
                return await self._acquire_shared(key_id, checks)
            except ERRORS as exc:
                self._failed(exc)
        self.fallbacks += 1
        decision = self.local.acquire_sync(key_id, checks)
        if decision.ok:
            self._remember(key_id, [(c.counter, c.window, c.window_end, c.amount) for c in checks])
        return decision

    async def _acquire_shared(self, key_id: str, checks: Sequence[Check]) -> Decision:
        """Join this pass's script call for the key (or open it): the admissions of
        every request of one key in one event-loop pass go to Redis as one call."""
        signature = (key_id, *map(_STATIC, checks))
        batch = self._open.get(signature)
        if batch is None:
            proto = await self._resp.connected()
            batch = self._open.get(signature)  # another request may have opened it meanwhile
            if batch is None:
                packed = self._packed.get(signature)
                if packed is None:
                    packed = self._pack(key_id, checks, signature)
                batch = _Admissions(self, checks, signature, packed, proto)
                self._open[signature] = batch
        return await batch.add(b"".join([bulk_int(check[3]) for check in checks]))

    def _pack(
        self, key_id: str, checks: Sequence[Check], signature: tuple[Any, ...]
    ) -> tuple[int, bytes]:
        """The script's arguments for ``checks``, all but the admissions' count and
        amounts (the same for every request of the key in these windows, so encoded
        once)."""
        keys = [counter_name(key_id, c.counter, c.window) for c in checks]
        args: list[Any] = [len(keys), *keys, len(checks)]
        for c in checks:
            args += (c.limit, int(c.allow_when_empty), expire_ms(c.window_end))
        if len(self._packed) >= MAX_PACKED:
            self._packed.clear()
        packed = self._packed[signature] = (len(args), pack_args(args))
        return packed

    async def add(self, key_id: str, changes: Sequence[Change]) -> None:
        self.add_sync(key_id, changes)

    def add_sync(self, key_id: str, changes: Sequence[Change]) -> None:
        """Keep the settlement; every key's are sent together after ``flush_seconds``
        (on the event loop's thread: it only queues, so the limiter calls it directly)."""
        if self.down_since is not None:
            self.fallbacks += 1
            self.local.add_sync(key_id, changes)
            self._remember(key_id, changes)
            return
        deltas = self._deltas.get(key_id)
        if deltas is None:
            deltas = self._deltas[key_id] = {}
        for counter, window, window_end, amount in changes:
            entry = deltas.get((counter, window))
            if entry is None:
                deltas[(counter, window)] = [window_end, amount]
            else:
                entry[1] += amount
        if len(self._deltas) >= FLUSH_KEYS:
            self._flush_soon()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.flush_seconds, self._flush_soon)

    def _flush_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Send every settlement still waiting, in one script call."""
        pending, self._deltas = self._deltas, {}
        keys: list[str] = []
        args: list[int] = []
        now = time.time()
        for key_id, deltas in pending.items():
            _append_changes(keys, args, key_id, deltas, now)
        if not keys:
            return
        try:
            await self._resp.script(SETTLE, keys, args)
        except ERRORS as exc:
            self._failed(exc)  # first: it seeds the local counters from Redis's last values
            for key_id, deltas in pending.items():
                self.local.add_sync(key_id, _changes(deltas))
                self._remember(key_id, _changes(deltas))

    def seed(self, key_id: str, counter: str, window: float, window_end: float, value: int) -> None:
        """Raise the shared counter to ``value`` (recorded usage); never lowers it."""
        self.local.seed(key_id, counter, window, window_end, value)
        try:
            client = self._blocking()
            client.eval(
                SEED, 1, counter_name(key_id, counter, window), value, expire_ms(window_end)
            )
        except Exception as exc:  # redis-py's errors: unreachable, refused, timeout
            self.log.warning(
                "redis unreachable while seeding a limit counter; counting it here",
                url=self.shown,
                error=scrub(repr(exc), self.url),
            )

    # ------------------------------------------------------------------ outages
    async def _usable(self) -> bool:
        if self.down_since is None:
            return True
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + self.retry_seconds  # one probe at a time
        try:
            await self._merge()
        except ERRORS as exc:
            self._failed(exc)
            return False
        self.log.warning(
            "redis is back: rate limits are shared again",
            url=self.shown,
            down_seconds=round(now - self.down_since, 1),
        )
        self.down_since = None
        return True

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.retry_seconds
        if self.down_since is not None:
            return
        self.down_since = now
        self.outages += 1
        # count on from the last values seen in Redis, plus what was not sent yet
        for key_id, (checks, values) in self._seen.items():
            for check, value in zip(checks, values, strict=True):
                self.local.seed(key_id, check.counter, check.window, check.window_end, value)
        pending, self._deltas = self._deltas, {}
        for key_id, deltas in pending.items():
            self.local.add_sync(key_id, _changes(deltas))
            self._remember(key_id, _changes(deltas))
        self.log.warning(
            "redis unreachable: rate limits are counted per instance until it returns",
            url=self.shown,
            error=scrub(repr(exc), self.url),
        )

    def _remember(self, key_id: str, changes: Sequence[Change]) -> None:
        """Keep what was counted here, to add to the shared counters when Redis returns."""
        if len(self._unmerged) > MAX_UNMERGED:
            now = time.time()
            self._unmerged = {k: v for k, v in self._unmerged.items() if v[0] > now}
        for counter, window, window_end, amount in changes:
            entry = self._unmerged.setdefault((key_id, counter, window), [window_end, 0])
            entry[1] += amount

    async def _merge(self) -> None:
        """Add what was counted here to the shared counters (a PING when nothing was)."""
        pending, self._unmerged = self._unmerged, {}
        keys: list[str] = []
        args: list[int] = []
        by_key: dict[str, Deltas] = {}
        for (key_id, counter, window), entry in pending.items():
            by_key.setdefault(key_id, {})[(counter, window)] = entry
        now = time.time()
        for key_id, deltas in by_key.items():
            _append_changes(keys, args, key_id, deltas, now)
        try:
            if keys:
                await self._resp.script(SETTLE, keys, args)
            else:
                await self._resp.call("PING")
        except BaseException:
            for (key_id, counter, window), (window_end, amount) in pending.items():
                entry = self._unmerged.setdefault((key_id, counter, window), [window_end, 0])
                entry[1] += amount
            raise

    def stats(self) -> dict[str, Any]:
        """For ``/metrics``: whether Redis is in use, and how much was counted here."""
        return {
            "backend": "redis",
            "shared": self.down_since is None,
            "fallbacks": self.fallbacks,
            "outages": self.outages,
        }


class _Admissions:
    """One key's admissions in one event-loop pass: one ``ADMIT`` call. Requests join
    it until the connection writes the pass's commands, which packs it (and closes it
    to later requests); its reply is handed out to each, in order."""

    __slots__ = (
        "amounts", "checks", "count", "head", "key_id", "proto", "signature", "store",
        "waiters", "width",
    )  # fmt: skip

    def __init__(
        self,
        store: RedisLimitStore,
        checks: Sequence[Check],
        signature: tuple[Any, ...],
        packed: tuple[int, bytes],
        proto: Any,
    ) -> None:
        self.store, self.checks, self.signature = store, checks, signature
        self.key_id: str = signature[0]
        self.count, self.head = packed
        self.width = len(checks) + 2  # per admission: ok, failed, one value per counter
        self.amounts: list[bytes] = []
        self.waiters: list[asyncio.Future[Decision]] = []
        self.proto = proto
        proto.send(self._pack).add_done_callback(self._answered)

    def add(self, amounts: bytes) -> asyncio.Future[Decision]:
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self.amounts.append(amounts)
        self.waiters.append(future)
        return future

    def _pack(self, script: bytes = ADMIT.evalsha) -> bytes:
        """The ``EVALSHA`` command, packed when the connection writes (no one joins after)."""
        self._close()
        count = self.count + 1 + len(self.amounts) * (self.width - 2)
        args = b"".join([self.head, bulk_int(len(self.amounts)), *self.amounts])
        return b"*%d\r\n%b%b" % (count + 2, script, args)

    def _close(self) -> None:
        opened = self.store._open
        if opened.get(self.signature) is self:
            del opened[self.signature]

    def _answered(self, reply: asyncio.Future[Any], *, retried: bool = False) -> None:
        exc = RespConnectionError("cancelled") if reply.cancelled() else reply.exception()
        if isinstance(exc, RespError) and str(exc).startswith("NOSCRIPT") and not retried:
            # A restarted or flushed Redis: the script itself, once.
            try:
                again = self.proto.send(self._pack(ADMIT.eval))
            except RespConnectionError as lost:
                self._fail(lost)
                return
            again.add_done_callback(lambda done: self._answered(done, retried=True))
            return
        if exc is not None:
            self._fail(exc)
            return
        result = reply.result()
        width = self.width
        values: tuple[int, ...] = ()
        for k, future in enumerate(self.waiters):
            start = k * width
            values = tuple(result[start + 2 : start + width])
            if not future.done():
                future.set_result(_decision((result[start] == 1, values, result[start + 1])))
        # where the fallback would start from: the counters after the last admission
        self.store._seen[self.key_id] = (self.checks, values)

    def _fail(self, exc: BaseException) -> None:
        self._close()  # a connection lost before the write: no one may join it now
        for future in self.waiters:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # a waiter gone (cancelled) must not warn


def _append_changes(
    keys: list[str], args: list[int], key_id: str, deltas: Deltas, now: float
) -> None:
    """The changes of ``deltas`` whose window is still open, as script keys and args."""
    for (counter, window), (window_end, amount) in deltas.items():
        if window_end > now and amount:
            keys.append(counter_name(key_id, counter, window))
            args += (int(amount), expire_ms(window_end))


def _changes(deltas: Deltas) -> list[Change]:
    return [(c, w, end, int(amount)) for (c, w), (end, amount) in deltas.items()]
