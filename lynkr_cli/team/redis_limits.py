"""The Redis ``LimitStore``: rate-limit counters shared by every gateway instance.

**Atomic across instances.** :meth:`RedisLimitStore.acquire` is one Lua script over all
of a key's counters: it reads them, refuses if any check fails, else increments them
all and sets each one's expiry to its window's end. Redis runs a script alone, so
two instances sharing a limit of 10 per minute let exactly 10 through between them.
Counters are ``lynkr:limit:{<key id>}:<counter>:<window start>``; the braces keep a
key's counters in one Redis Cluster slot, as a multi-key script needs.

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
from typing import TYPE_CHECKING, Any

from lynkr_cli.dsn import scrub, shown_url
from lynkr_cli.logs import get_logger
from lynkr_cli.team.limits import MemoryLimitStore
from lynkr_cli.team.store import Check, Decision

if TYPE_CHECKING:
    import redis
    import redis.asyncio

PREFIX = "lynkr:limit:"
EXPIRE_SLACK = 60.0  # seconds a counter outlives its window (clock skew between hosts)
TIMEOUT = 0.5  # seconds for a connect or a reply: a slow Redis must not stall requests
MAX_UNMERGED = 10_000
Change = tuple[str, float, float, int]  # counter, window start, window end, amount

# KEYS: the counters. ARGV, four per counter: amount, limit, allow_when_empty (0/1),
# expiry (ms since the epoch). Returns {ok (1/0), failed index or -1, value per counter}.
ACQUIRE = """
local n = #KEYS
local cur = redis.call('MGET', unpack(KEYS))
for i = 1, n do cur[i] = tonumber(cur[i] or '0') end
for i = 1, n do
  local b = (i - 1) * 4
  local amount, limit = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  if cur[i] + amount > limit and not (ARGV[b + 3] == '1' and cur[i] == 0) then
    local out = {0, i - 1}
    for j = 1, n do out[j + 2] = cur[j] end
    return out
  end
end
local out = {1, -1}
for i = 1, n do
  local b = (i - 1) * 4
  out[i + 2] = redis.call('INCRBY', KEYS[i], ARGV[b + 1])
  redis.call('PEXPIREAT', KEYS[i], ARGV[b + 4])
end
return out
"""
# Raise a counter to at least ARGV[1] (recorded usage is a floor: Redis may know more).
SEED = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2]) end
return cur
"""


def counter_name(key_id: str, counter: str, window: float) -> str:
    return f"{PREFIX}{{{key_id}}}:{counter}:{int(window)}"


def expire_ms(window_end: float) -> int:
    return int((window_end + EXPIRE_SLACK) * 1000)


def redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, asyncio.TimeoutError)


class RedisLimitStore:
    """Counters in Redis, with per-instance counting while Redis is away."""

    def __init__(self, url: str, *, retry_seconds: float = 1.0, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.shown = shown_url(url)
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.local = MemoryLimitStore()  # the last values seen in Redis, and the fallback
        self.down_since: float | None = None
        self.fallbacks = 0  # admissions and settlements counted here while Redis was away
        self.outages = 0
        self._retry_at = 0.0
        self._unmerged: dict[tuple[str, str, float], list[float]] = {}
        self._client: redis.asyncio.Redis | None = None
        self._sync: redis.Redis | None = None
        self._acquire: Any = None
        self._errors = redis_errors()
        self.log = get_logger("lynkr.team")

    # ------------------------------------------------------------------ clients
    def _async(self) -> redis.asyncio.Redis:
        if self._client is None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 1),  # one fresh connection after a restart, no wait
                client_name="lynkr-limits",
            )
            self._acquire = self._client.register_script(ACQUIRE)
        return self._client

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
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    # ------------------------------------------------------------------ the protocol
    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        if await self._usable():
            try:
                return await self._acquire_shared(key_id, checks)
            except self._errors as exc:
                self._failed(exc)
        self.fallbacks += 1
        decision = self.local.acquire_sync(key_id, checks)
        if decision.ok:
            self._remember(key_id, [(c.counter, c.window, c.window_end, c.amount) for c in checks])
        return decision

    async def _acquire_shared(self, key_id: str, checks: Sequence[Check]) -> Decision:
        client = self._async()
        keys = [counter_name(key_id, c.counter, c.window) for c in checks]
        args: list[int] = []
        for c in checks:
            args += (c.amount, c.limit, int(c.allow_when_empty), expire_ms(c.window_end))
        result = await self._acquire(keys=keys, args=args, client=client)
        values = tuple(int(v) for v in result[2:])
        for check, value in zip(checks, values, strict=True):  # the fallback's starting point
            self.local.seed(key_id, check.counter, check.window, check.window_end, value)
        return Decision(bool(result[0]), values, int(result[1]))

    async def add(self, key_id: str, changes: Sequence[Change]) -> None:
        if self.down_since is None:
            try:
                async with self._async().pipeline(transaction=True) as pipe:
                    for counter, window, window_end, amount in changes:
                        name = counter_name(key_id, counter, window)
                        pipe.incrby(name, amount)
                        pipe.pexpireat(name, expire_ms(window_end))
                    await pipe.execute()
                self.local.add_sync(key_id, changes)
                return
            except self._errors as exc:
                self._failed(exc)
        self.fallbacks += 1
        self.local.add_sync(key_id, changes)
        self._remember(key_id, changes)

    def seed(self, key_id: str, counter: str, window: float, window_end: float, value: int) -> None:
        """Raise the shared counter to ``value`` (recorded usage); never lowers it."""
        self.local.seed(key_id, counter, window, window_end, value)
        try:
            client = self._blocking()
            client.eval(
                SEED, 1, counter_name(key_id, counter, window), value, expire_ms(window_end)
            )
        except self._errors as exc:
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
        except self._errors as exc:
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
        if self.down_since is None:
            self.down_since = now
            self.outages += 1
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
        pending, self._unmerged = self._unmerged, {}
        now = time.time()
        live = [(k, v) for k, v in pending.items() if v[0] > now and v[1]]
        client = self._async()
        try:
            if not live:
                await client.ping()
                return
            async with client.pipeline(transaction=True) as pipe:
                for (key_id, counter, window), (window_end, amount) in live:
                    name = counter_name(key_id, counter, window)
                    pipe.incrby(name, int(amount))
                    pipe.pexpireat(name, expire_ms(window_end))
                await pipe.execute()
        except BaseException:
            for (key_id, counter, window), (window_end, amount) in live:
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
