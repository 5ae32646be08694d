"""The prompt cache: on local disk (diskcache), or in Redis shared by several gateways.

Shared by ``serve`` (response replay) and ``lynkr cache``. Keys are hex SHA-256
digests of a canonical JSON rendering, so equal requests hash equally whatever
their key order; which requests are looked up or stored (the bypass rules) is the
gateway's decision, the same for both backends.

- **Disk** (the default): LRU eviction, a TTL, a size limit and an entry limit.
- **Redis** (``LYNKR_REDIS_URL``): the same keys and TTL, so an answer stored by one
  instance is a hit on every other. Values are JSON (never pickle: whoever can write
  to Redis must not be able to run code in the gateway). Memory is bounded by the
  TTL and Redis' own ``maxmemory`` policy. If Redis fails, lookups are misses and
  stores are skipped for a few seconds (a warning log, ``lynkr_cache_errors``), and
  requests go upstream as if the cache were cold.

Both refuse an answer larger than ``cache.max_entry_kb``.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli import paths
from lynkr_cli.dsn import checked_redis_url
from lynkr_cli.settings import CacheSettings

if TYPE_CHECKING:
    import redis

REDIS_PREFIX = "lynkr:cache:v1:"
REDIS_HITS, REDIS_MISSES = "lynkr:cache-stats:hits", "lynkr:cache-stats:misses"
REDIS_TIMEOUT = 0.25  # seconds: a lookup runs on the event loop, it must fail fast
REDIS_PAUSE = 5.0  # seconds without Redis after a failure, before trying again
# GET that also counts the hit or the miss, in one round trip.
_GET = """
local v = redis.call('GET', KEYS[1])
if v then redis.call('INCR', KEYS[2]) else redis.call('INCR', KEYS[3]) end
return v
"""


def canonical_key(*parts: Any) -> str:
    """SHA-256 of the parts as canonical JSON (sorted keys, no whitespace)."""
    import orjson

    digest = hashlib.sha256()
    for part in parts:
        digest.update(orjson.dumps(part, option=orjson.OPT_SORT_KEYS))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass
class CacheStats:
    directory: str  # the disk directory, or the Redis URL without its password
    entries: int
    size_bytes: int
    size_limit_bytes: int
    ttl_seconds: float
    hits: int
    misses: int
    backend: str = "disk"

    def as_dict(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {**self.__dict__, "hit_ratio": round(self.hits / total, 4) if total else None}


class PromptCache:
    """A bounded, expiring key/value store: on disk, or in Redis when one is configured."""

    def __init__(self, settings: CacheSettings) -> None:
        self.ttl = settings.ttl_ms / 1000
        self.size_limit = settings.size_limit_mb * 1024 * 1024
        self.max_entries = settings.max_entries
        self.max_entry_bytes = settings.max_entry_kb * 1024
        url = checked_redis_url(settings.redis_url)
        self._store: _Disk | RedisCache = (
            RedisCache(url, self.ttl, self.max_entry_bytes)
            if url
            else _Disk(settings, self.ttl, self.size_limit, self.max_entry_bytes)
        )
        self.backend = "redis" if url else "disk"
        self.directory = self._store.where

    def get(self, key: str) -> Any | None:
        """The stored value, or None on a miss or an expired entry."""
        return self._store.get(key)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` for the TTL (unless it is larger than ``max_entry_kb``)."""
        self._store.set(key, value)

    def clear(self) -> int:
        """Remove every entry; return how many were removed."""
        return self._store.clear()

    def stats(self) -> CacheStats:
        return self._store.stats()

    def backend_stats(self) -> dict[str, Any]:
        """For ``/metrics``: the backend, and how often it failed."""
        return {"backend": self.backend, "errors": getattr(self._store, "errors", 0)}

    def close(self) -> None:
        self._store.close()


class _Disk:
    """diskcache with LRU eviction, expiry, a byte limit and an entry limit."""

    def __init__(
        self, settings: CacheSettings, ttl: float, size_limit: int, max_entry: int
    ) -> None:
        import diskcache

        directory = Path(settings.directory or paths.cache_dir() / "prompt-cache")
        self.where = directory
        self.ttl = ttl
        self.size_limit = size_limit
        self.max_entries = settings.max_entries
        self.max_entry = max_entry
        self._cache = diskcache.Cache(
            str(directory),
            eviction_policy="least-recently-used",
            size_limit=size_limit,
            statistics=True,
        )

    def get(self, key: str) -> Any | None:
        return self._cache.get(key, default=None)

    def set(self, key: str, value: Any) -> None:
        if _too_big(value, self.max_entry):
            return
        self._cache.set(key, value, expire=self.ttl or None)
        if len(self._cache) > self.max_entries:
            self._evict_to(self.max_entries)

    def _evict_to(self, limit: int) -> None:
        # diskcache bounds bytes, not entries: drop the least recently used rows ourselves.
        excess = len(self._cache) - limit
        rows = self._cache._sql(
            "SELECT key FROM Cache ORDER BY access_time LIMIT ?", (excess,)
        ).fetchall()
        for (key,) in rows:
            self._cache.delete(key)

    def clear(self) -> int:
        count = int(self._cache.clear())
        self._cache.stats(reset=True)
        return count

    def stats(self) -> CacheStats:
        hits, misses = self._cache.stats()
        self._cache.expire()
        return CacheStats(
            directory=str(self.where),
            entries=len(self._cache),
            size_bytes=int(self._cache.volume()),
            size_limit_bytes=self.size_limit,
            ttl_seconds=self.ttl,
            hits=int(hits),
            misses=int(misses),
        )

    def close(self) -> None:
        self._cache.close()


def _too_big(value: Any, limit: int) -> bool:
    import orjson

    try:
        return len(orjson.dumps(value)) > limit
    except TypeError:  # not JSON (only tests store such values): the disk pickles it
        return False


class RedisCache:
    """The prompt cache in Redis: JSON values under ``lynkr:cache:v1:<key>`` with the TTL."""

    def __init__(self, url: str, ttl: float, max_entry: int) -> None:
        from lynkr_cli.dsn import shown_url

        self.url = url
        self.where = shown_url(url)
        self.ttl_ms = int(ttl * 1000)
        self.max_entry = max_entry
        self.errors = 0
        self.down = False  # the last call failed (logged once per outage)
        self._paused_until = 0.0
        self._client: redis.Redis | None = None
        self._get: Any = None

    def _redis(self) -> redis.Redis:
        if self._client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._client = redis.Redis.from_url(
                self.url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
                retry=Retry(NoBackoff(), 1),
                client_name="lynkr-cache",
            )
            self._get = self._client.register_script(_GET)
        return self._client

    def _available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def _failed(self, exc: Exception) -> None:
        from lynkr_cli.dsn import scrub
        from lynkr_cli.logs import get_logger

        self.errors += 1
        self._paused_until = time.monotonic() + REDIS_PAUSE
        if not self.down:
            self.down = True
            get_logger("lynkr.cache").warning(
                "redis unreachable: the prompt cache is skipped until it answers",
                url=self.where,
                error=scrub(repr(exc), self.url),
            )

    def get(self, key: str) -> Any | None:
        if not self._available():
            return None
        import orjson
        from redis.exceptions import RedisError

        try:
            client = self._redis()
            data = self._get(keys=[REDIS_PREFIX + key, REDIS_HITS, REDIS_MISSES], client=client)
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self.down = False
        if data is None:
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # not ours: a miss
            return None

    def set(self, key: str, value: Any) -> None:
        if not self._available():
            return
        import orjson
        from redis.exceptions import RedisError

        try:
            data = orjson.dumps(value)
        except TypeError:
            return
        if len(data) > self.max_entry:
            return
        try:
            self._redis().set(REDIS_PREFIX + key, data, px=self.ttl_ms or None)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    def _keys(self) -> list[bytes]:
        return list(self._redis().scan_iter(match=REDIS_PREFIX + "*", count=1000))

    @contextlib.contextmanager
    def _command(self) -> Iterator[None]:
        """``lynkr cache``'s calls: a Redis failure is exit 4, naming the server."""
        from redis.exceptions import RedisError

        from lynkr_cli.dsn import scrub
        from lynkr_cli.errors import UpstreamError

        try:
            yield
        except (RedisError, OSError) as exc:
            raise UpstreamError(
                f"the prompt cache's Redis at {self.where} failed: {scrub(str(exc), self.url)}",
                hint="Is it running and reachable? `lynkr doctor` checks it (LYNKR_REDIS_URL).",
            ) from None

    def clear(self) -> int:
        with self._command():
            client = self._redis()
            keys = self._keys()
            for start in range(0, len(keys), 1000):
                client.unlink(*keys[start : start + 1000])
            client.delete(REDIS_HITS, REDIS_MISSES)
        return len(keys)

    def stats(self) -> CacheStats:
        with self._command():
            return self._stats()

    def _stats(self) -> CacheStats:
        client = self._redis()
        keys = self._keys()
        size = 0
        for start in range(0, len(keys), 1000):
            pipe = client.pipeline(transaction=False)
            for name in keys[start : start + 1000]:
                pipe.strlen(name)
            size += sum(int(n) for n in pipe.execute())
        hits, misses = client.mget(REDIS_HITS, REDIS_MISSES)
        memory = client.info("memory")
        return CacheStats(
            directory=self.where,
            entries=len(keys),
            size_bytes=size,
            size_limit_bytes=int(memory.get("maxmemory", 0)),
            ttl_seconds=self.ttl_ms / 1000,
            hits=int(hits or 0),
            misses=int(misses or 0),
            backend="redis",
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
