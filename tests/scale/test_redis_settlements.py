"""Settlements on the Redis limit path, against a real server: what answers really used
is summed per key, counter and window and sent in one script call (after
``flush_seconds``, or at once when many keys wait), nothing is lost at a clean stop,
a settlement that finds Redis stopped is counted here and added back when it returns,
and an admission's cached encoding follows a key's new limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from lynkr_cli.team.api import Team
from lynkr_cli.team.redis_limits import FLUSH_KEYS, RedisLimitStore, counter_name
from lynkr_cli.team.store import Check
from lynkr_cli.team.types import REQUESTS_M, TOKENS_D, TOKENS_M, Limits, Usage
from tests.conftest import eventually
from tests.scale.conftest import scale_settings
from tests.scale.services import Redis
from tests.team.conftest import Clock, issue


@pytest.fixture
def window() -> float:
    """The next clock minute: counters of a window long over would expire at once."""
    return (time.time() // 60 + 1) * 60


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    conn.config_resetstat()
    yield conn
    conn.close()


def _value(client: redis.Redis, key_id: str, counter: str, window: float) -> int:
    raw = client.get(counter_name(key_id, counter, window))
    return int(raw) if raw is not None else 0


def _script_calls(client: redis.Redis) -> int:
    """Script runs that did something (not the EVALSHA that a fresh Redis answers with
    NOSCRIPT before the script itself is sent)."""
    stats = client.info("commandstats")
    runs = [stats.get(f"cmdstat_{name}", {}) for name in ("evalsha", "eval")]
    return sum(run.get("calls", 0) - run.get("failed_calls", 0) for run in runs)


async def test_settlements_of_many_requests_go_in_one_call_summed(
    redis_url: str, client: redis.Redis, window: float
) -> None:
    store = RedisLimitStore(redis_url, flush_seconds=0.1)
    end = window + 60
    try:
        for n in range(300):  # 300 answers of three keys, in one counter and two windows
            key = f"k-{n % 3}"
            await store.add(key, [(TOKENS_M, window, end, 7), (TOKENS_D, window, end + 60, 1)])
        assert _script_calls(client) == 0  # nothing sent per answer …
        assert await eventually(lambda: _value(client, "k-2", TOKENS_D, window) == 100, 5)
        assert _script_calls(client) == 1  # … all of them in one call
        for key in ("k-0", "k-1", "k-2"):
            assert _value(client, key, TOKENS_M, window) == 700
            assert _value(client, key, TOKENS_D, window) == 100
            expiry = client.pexpiretime(counter_name(key, TOKENS_D, window))
            assert expiry == int((end + 60 + 60) * 1000)  # the window's end + 60 s slack
        # a settlement of a window already over is dropped (its counter is gone anyway)
        await store.add("k-0", [(TOKENS_M, window - 600, window - 540, 5)])
        await store.flush()
        assert client.get(counter_name("k-0", TOKENS_M, window - 600)) is None
    finally:
        await store.aclose()


async def test_many_keys_waiting_are_sent_at_once_without_the_timer(
    redis_url: str, client: redis.Redis, window: float
) -> None:
    store = RedisLimitStore(redis_url, flush_seconds=3600)  # the timer never fires here
    try:
        for n in range(FLUSH_KEYS):
            await store.add(f"k-{n}", [(TOKENS_M, window, window + 60, 3)])
        last = f"k-{FLUSH_KEYS - 1}"
        assert await eventually(lambda: _value(client, last, TOKENS_M, window) == 3, 5)
        assert _script_calls(client) == 1
        assert _value(client, "k-0", TOKENS_M, window) == 3
    finally:
        await store.aclose()


async def test_a_clean_stop_sends_the_settlements_still_waiting(
    redis_url: str, client: redis.Redis, window: float
) -> None:
    store = RedisLimitStore(redis_url, flush_seconds=3600)
    await store.add("k-1", [(TOKENS_M, window, window + 60, 40)])
    await store.add("k-1", [(TOKENS_M, window, window + 60, -15)])
    assert _value(client, "k-1", TOKENS_M, window) == 0
    await store.aclose()
    assert _value(client, "k-1", TOKENS_M, window) == 25


async def test_team_stop_sends_what_answers_used_beyond_their_estimate(
    redis_url: str, client: redis.Redis, window: float
) -> None:
    from lynkr_cli.team.admin import open_store

    settings = scale_settings(redis=redis_url)
    secret = issue(open_store(settings), "alice", limits=Limits(rpm=100, tpm=10_000))
    team = Team.open(settings, clock=Clock(window + 5))
    assert isinstance(team.limit_store, RedisLimitStore)
    team.limit_store.flush_seconds = 3600
    await team.start()
    try:
        principal = team.authenticate(secret)
        for _ in range(3):
            admission = await team.admit(principal, "claude-x", 100)
            await team.settle(admission, Usage(input_tokens=120, output_tokens=500))
        key_id = principal.key_id
        assert _value(client, key_id, TOKENS_M, window) == 300  # the estimates only
    finally:
        await team.stop()
    assert _value(client, key_id, TOKENS_M, window) == 3 * 620  # what they really used
    assert _value(client, key_id, REQUESTS_M, window) == 3


async def test_a_settlement_that_finds_redis_stopped_is_counted_here_then_added_back(
    redis_srv: Redis, redis_url: str, window: float
) -> None:
    store = RedisLimitStore(redis_url, retry_seconds=0.2, flush_seconds=0.02)
    check = Check(TOKENS_M, window, window + 60, 10, 1000, True)
    try:
        assert (await store.acquire("k-1", [check])).values == (10,)
        redis_srv.stop()
        await store.add("k-1", [(TOKENS_M, window, window + 60, 500)])
        assert await eventually(lambda: store.stats()["shared"] is False, 5)  # the flush failed
        assert store.local.value("k-1", TOKENS_M, window) == 510  # 10 seen + 500 here
        refused = await store.acquire("k-1", [check._replace(amount=600)])
        assert not refused.ok and refused.values == (510,)
        redis_srv.start()  # empty (no persistence): Redis lost its 10
        await asyncio.sleep(0.25)
        back = await store.acquire("k-1", [check])
        assert store.stats()["shared"] is True
        assert back.ok and back.values == (510,)  # the 500 counted here, then these 10
    finally:
        await store.aclose()


async def test_an_admission_follows_a_key_new_limits_and_a_refusal_leaves_no_trace(
    redis_url: str, client: redis.Redis, window: float
) -> None:
    store = RedisLimitStore(redis_url)

    def checks(rpm: int, tokens: int) -> list[Check]:
        return [
            Check(REQUESTS_M, window, window + 60, 1, rpm),
            Check(TOKENS_M, window, window + 60, tokens, 1000, True),
            Check(TOKENS_D, window, window + 3600, tokens, 5000),
        ]

    try:
        for _ in range(3):
            assert (await store.acquire("k-1", checks(10, 100))).ok
        refused = await store.acquire("k-1", checks(3, 100))  # the key's rpm was lowered
        assert not refused.ok and refused.failed == 0 and refused.values == (3, 300, 300)
        late = await store.acquire("k-1", checks(10, 800))  # tpm would pass 1000: undone
        assert not late.ok and late.failed == 1 and late.values == (3, 300, 300)
        fresh = await store.acquire("k-2", checks(10, 2000))  # an empty minute lets a big
        assert fresh.ok and fresh.values == (1, 2000, 2000)  # one through (day: 5000)
        over = await store.acquire("k-2", checks(10, 4000))  # the day limit refuses it:
        assert not over.ok and over.failed == 1 and over.values == (1, 2000, 2000)
    finally:
        await store.aclose()
    assert _value(client, "k-1", REQUESTS_M, window) == 3
    assert _value(client, "k-1", TOKENS_M, window) == 300
    for key in client.scan_iter("lynkr:limit:*"):  # every counter expires
        assert client.pttl(key) > 0, key
