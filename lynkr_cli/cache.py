"""The prompt cache: diskcache with LRU eviction, a TTL, a size limit and stats.

Shared by ``serve`` (response replay) and ``lynkr cache``. Keys are hex SHA-256
digests of a canonical JSON rendering, so equal requests hash equally whatever
their key order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lynkr_cli import paths
from lynkr_cli.settings import CacheSettings


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
    directory: str
    entries: int
    size_bytes: int
    size_limit_bytes: int
    ttl_seconds: float
    hits: int
    misses: int

    def as_dict(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {**self.__dict__, "hit_ratio": round(self.hits / total, 4) if total else None}


class PromptCache:
    """A bounded, expiring key/value store on disk, safe across processes."""

    def __init__(self, settings: CacheSettings) -> None:
        import diskcache

        self.directory = Path(settings.directory or paths.cache_dir() / "prompt-cache")
        self.ttl = settings.ttl_ms / 1000
        self.size_limit = settings.size_limit_mb * 1024 * 1024
        self.max_entries = settings.max_entries
        self._cache = diskcache.Cache(
            str(self.directory),
            eviction_policy="least-recently-used",
            size_limit=self.size_limit,
            statistics=True,
        )

    def get(self, key: str) -> Any | None:
        """The stored value, or None on a miss or an expired entry."""
        return self._cache.get(key, default=None)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` for the TTL, evicting least recently used entries over the limits."""
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
        """Remove every entry; return how many were removed."""
        count = int(self._cache.clear())
        self._cache.stats(reset=True)
        return count

    def stats(self) -> CacheStats:
        hits, misses = self._cache.stats()
        self._cache.expire()
        return CacheStats(
            directory=str(self.directory),
            entries=len(self._cache),
            size_bytes=int(self._cache.volume()),
            size_limit_bytes=self.size_limit,
            ttl_seconds=self.ttl,
            hits=int(hits),
            misses=int(misses),
        )

    def close(self) -> None:
        self._cache.close()
