"""The prompt cache in Redis against a real server: shared between instances, with the
TTL, a bound on an entry's size, JSON values, ``lynkr cache`` stats/clear, and misses
(never errors) while Redis is stopped."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import redis
from pydantic import SecretStr

from lynkr_cli import logs
from lynkr_cli.cache import REDIS_PREFIX, PromptCache
from lynkr_cli.settings import CacheSettings
from tests.scale.services import Redis

ANSWER = {"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "hé"}]}


def _cache(url: str, **kw: Any) -> PromptCache:
    return PromptCache(CacheSettings(redis_url=SecretStr(url), **kw))


def test_an_answer_stored_by_one_instance_is_a_hit_on_another(redis_url: str) -> None:
    a, b = _cache(redis_url), _cache(redis_url)
    assert a.backend == b.backend == "redis"
    assert b.get("k1") is None
    a.set("k1", ANSWER)
    assert b.get("k1") == ANSWER
    stats = b.stats().as_dict()
    assert stats["backend"] == "redis" and stats["entries"] == 1
    assert stats["hits"] == 1 and stats["misses"] == 1 and stats["size_bytes"] > 0
    assert "****" in stats["directory"] and "rd-" not in stats["directory"]
    assert a.clear() == 1 and b.get("k1") is None
    a.close()
    b.close()


def test_values_are_json_with_the_ttl_and_a_size_bound(redis_url: str) -> None:
    cache = _cache(redis_url, ttl_ms=60_000, max_entry_kb=1)
    cache.set("small", ANSWER)
    cache.set("big", {"content": "x" * 2000})  # over 1 KiB: not stored
    client = redis.Redis.from_url(redis_url)
    try:
        assert json.loads(client.get(REDIS_PREFIX + "small")) == ANSWER
        assert 0 < client.pttl(REDIS_PREFIX + "small") <= 60_000
        assert client.get(REDIS_PREFIX + "big") is None
        client.set(REDIS_PREFIX + "forged", b"\x80\x04not json")  # a pickle would run code
        assert cache.get("forged") is None
    finally:
        client.close()
        cache.close()


def test_the_ttl_expires_entries(redis_url: str) -> None:
    cache = _cache(redis_url, ttl_ms=100)
    cache.set("k", ANSWER)
    deadline = time.monotonic() + 5
    while cache.get("k") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.get("k") is None


def test_redis_stopped_is_a_miss_with_one_warning_then_it_works_again(
    redis_srv: Redis, redis_url: str, monkeypatch: Any
) -> None:
    import lynkr_cli.cache as cache_mod

    monkeypatch.setattr(cache_mod, "REDIS_PAUSE", 0.1)
    stream = io.StringIO()
    logs.configure("info", stream=stream)
    cache = _cache(redis_url)
    cache.set("k", ANSWER)
    redis_srv.stop()
    assert cache.get("k") is None  # a miss, not an exception
    cache.set("k2", ANSWER)
    assert cache.backend_stats()["errors"] >= 1
    redis_srv.start()
    time.sleep(0.15)
    cache.set("k", ANSWER)
    assert cache.get("k") == ANSWER
    warnings = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [w["event"] for w in warnings if w["level"] == "warning"] == [
        "redis unreachable: the prompt cache is skipped until it answers"
    ]
    assert redis_srv.password not in stream.getvalue()
    cache.close()


def test_lynkr_cache_stats_and_clear_use_redis(invoke: Any, redis_url: str, monkeypatch: Any):
    monkeypatch.setenv("LYNKR_REDIS_URL", redis_url)
    _cache(redis_url).set("k", ANSWER)
    stats = json.loads(invoke("cache", "stats", "--json").stdout)
    assert stats["backend"] == "redis" and stats["entries"] == 1
    assert json.loads(invoke("cache", "clear", "--json").stdout) == {"removed": 1}
