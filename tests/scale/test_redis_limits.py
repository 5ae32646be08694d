"""The Redis ``LimitStore`` against a real server: exact across instances, all-or-nothing
over a key's counters, counters that expire with their window, and per-instance
counting while Redis is stopped (then shared again when it is back)."""

from __future__ import annotations

import asyncio
import io
import json
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from lynkr_cli import logs
from lynkr_cli.team.api import Team
from lynkr_cli.team.redis_limits import RedisLimitStore, counter_name
from lynkr_cli.team.store import Check
from lynkr_cli.team.types import REQUESTS_M, TOKENS_M, Limits
from tests.scale.conftest import scale_settings
from tests.scale.services import Redis
from tests.team.conftest import Clock, issue

# The next clock minute, taken when the module is used (not collected): counters of a
# window that ended more than a minute ago would expire as soon as they were written.
WINDOW = 0.0


@pytest.fixture(autouse=True)
def _window() -> None:
    global WINDOW
    WINDOW = (time.time() // 60 + 1) * 60


def _rpm(limit: int = 10, amount: int = 1) -> Check:
    return Check(REQUESTS_M, WINDOW, WINDOW + 60, amount, limit)


def _tpm(limit: int, amount: int) -> Check:
    return Check(TOKENS_M, WINDOW, WINDOW + 60, amount, limit, True)


async def test_two_instances_sharing_a_limit_let_exactly_the_limit_through(
    redis_url: str,
) -> None:
    stores = [RedisLimitStore(redis_url), RedisLimitStore(redis_url)]
    try:
        decisions = await asyncio.gather(
            *(stores[n % 2].acquire("k-1", [_rpm()]) for n in range(50))
        )
    finally:
        for store in stores:
            await store.aclose()
    assert sum(d.ok for d in decisions) == 10
    assert sorted(d.values[0] for d in decisions if d.ok) == list(range(1, 11))
    assert all(d.failed == 0 and d.values == (10,) for d in decisions if not d.ok)
    assert all(store.fallbacks == 0 for store in stores)


async def test_a_refusal_changes_no_counter(redis_url: str) -> None:
    store = RedisLimitStore(redis_url)
    try:
        first = await store.acquire("k-1", [_rpm(), _tpm(100, 60)])
        second = await store.acquire("k-1", [_rpm(), _tpm(100, 60)])  # tpm would pass 100
        third = await store.acquire("k-1", [_rpm(), _tpm(100, 40)])
        big = await store.acquire("k-2", [_tpm(100, 500)])  # bigger than the limit: an
        again = await store.acquire("k-2", [_tpm(100, 1)])  # empty minute lets it pass once
    finally:
        await store.aclose()
    assert first.ok and first.values == (1, 60)
    assert not second.ok and second.failed == 1 and second.values == (1, 60)
    assert third.ok and third.values == (2, 100)  # the refused request charged nothing
    assert big.ok and big.values == (500,) and not again.ok


def _script_calls(url: str) -> int:
    """EVALSHA and EVAL calls Redis has run so far."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


async def test_one_keys_admissions_in_one_pass_are_one_call_decided_in_order(
    redis_url: str,
) -> None:
    """Requests of one key admitted in the same event-loop pass share one script call,
    and each is decided exactly as if it had been sent alone, in order: a refusal in the
    middle charges nothing and the next, smaller request still passes."""
    store = RedisLimitStore(redis_url)
    amounts = [30, 30, 50, 30, 10, 5, 60, 1]  # tokens per minute, limit 100
    try:
        await store.acquire("warm", [_rpm()])  # the connection is open: no await before
        before = _script_calls(redis_url)
        decisions = await asyncio.gather(
            *(store.acquire("k-1", [_rpm(limit=7), _tpm(100, a)]) for a in amounts),
            *(store.acquire("k-2", [_rpm(limit=2)]) for _ in range(3)),
        )
        calls = _script_calls(redis_url) - before
    finally:
        await store.aclose()
    assert calls == 2  # one per key, not one per request
    expected, rpm, tpm = [], 0, 0
    for amount in amounts:  # the same decisions, made one by one
        ok = rpm + 1 <= 7 and tpm + amount <= 100
        rpm, tpm = (rpm + 1, tpm + amount) if ok else (rpm, tpm)
        expected.append((ok, (rpm, tpm)))
    got = [(d.ok, d.values) for d in decisions[: len(amounts)]]
    assert got == expected
    assert [d.ok for d in decisions[len(amounts) :]] == [True, True, False]


async def test_admissions_still_pass_after_redis_forgets_the_script(redis_url: str) -> None:
    """A restarted or flushed Redis answers NOSCRIPT: the batch is sent again with the
    script itself, and every request in it gets its own answer."""
    import redis

    store = RedisLimitStore(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        await store.acquire("warm", [_rpm()])
        client.script_flush()
        decisions = await asyncio.gather(*(store.acquire("k-1", [_rpm(limit=4)]) for _ in range(6)))
        assert [d.ok for d in decisions] == [True] * 4 + [False] * 2
        assert [d.values for d in decisions] == [(1,), (2,), (3,), (4,), (4,), (4,)]
        assert store.fallbacks == 0
    finally:
        client.close()
        await store.aclose()


async def test_a_request_cancelled_while_its_batch_is_in_flight_spoils_no_other(
    redis_url: str,
) -> None:
    store = RedisLimitStore(redis_url)
    try:
        await store.acquire("warm", [_rpm()])
        tasks = [asyncio.ensure_future(store.acquire("k-1", [_rpm(limit=10)])) for _ in range(5)]
        await asyncio.sleep(0)  # every task has joined the batch
        tasks[1].cancel()  # a client that hung up
        done = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await store.aclose()
    assert isinstance(done[1], asyncio.CancelledError)
    # the cancelled request was charged (its admission had left) and the others answered
    assert [d.values for d in done if not isinstance(d, BaseException)] == [(1,), (3,), (4,), (5,)]


async def test_counters_expire_with_their_window_and_seeds_never_lower_them(
    redis_srv: Redis, redis_url: str
) -> None:
    import redis

    store = RedisLimitStore(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        await store.acquire("k-1", [_rpm()])
        name = counter_name("k-1", REQUESTS_M, WINDOW)
        expires_ms = client.pexpiretime(name)
        assert expires_ms == int((WINDOW + 60 + 60) * 1000)  # the window's end + 60 s slack
        await asyncio.to_thread(store.seed, "k-1", REQUESTS_M, WINDOW, WINDOW + 60, 7)
        await asyncio.to_thread(store.seed, "k-1", REQUESTS_M, WINDOW, WINDOW + 60, 3)
        assert int(client.get(name)) == 7
        await store.add("k-1", [(REQUESTS_M, WINDOW, WINDOW + 60, 5)])
        await store.add("k-1", [(REQUESTS_M, WINDOW, WINDOW + 60, -3)])
        assert int(client.get(name)) == 7  # settlements wait for the flush (20 ms) …
        await asyncio.sleep(0.2)
        assert int(client.get(name)) == 9  # … and go together, summed
        assert client.pexpiretime(name) == expires_ms  # the window's expiry is kept
    finally:
        client.close()
        await store.aclose()


async def test_redis_stopped_mid_test_limits_go_local_then_shared_again(
    redis_srv: Redis, redis_url: str
) -> None:
    import redis

    stream = io.StringIO()
    logs.configure("info", stream=stream)
    store = RedisLimitStore(redis_url, retry_seconds=0.2)
    try:
        for _ in range(3):
            assert (await store.acquire("k-1", [_rpm()])).ok
        redis_srv.stop()
        local = [await store.acquire("k-1", [_rpm()]) for _ in range(9)]
        # counting here continues from the last shared value: 3 + 7 = 10, then refused
        assert [d.ok for d in local] == [True] * 7 + [False] * 2
        assert store.stats() == {"backend": "redis", "shared": False, "fallbacks": 9,
                                 "outages": 1}  # fmt: skip
        redis_srv.start()  # an empty Redis (no persistence): the shared count was lost
        await asyncio.sleep(0.25)
        back = await store.acquire("k-1", [_rpm(limit=100)])
        assert back.ok and store.stats()["shared"] is True
        # what was counted here while Redis was away was added to the shared counter
        assert back.values == (8,)
    finally:
        await store.aclose()
    client = redis.Redis.from_url(redis_url)
    assert int(client.get(counter_name("k-1", REQUESTS_M, WINDOW))) == 8
    client.close()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    warnings = [e["event"] for e in events if e.get("level") == "warning"]
    assert warnings == [
        "redis unreachable: rate limits are counted per instance until it returns",
        "redis is back: rate limits are shared again",
    ]
    assert redis_srv.password not in stream.getvalue()


async def test_team_open_uses_redis_and_reports_it_on_metrics(
    redis_srv: Redis, redis_url: str
) -> None:
    from lynkr_cli.team.admin import open_store

    settings = scale_settings(redis=redis_url)
    clock = Clock(WINDOW + 5)
    secret = issue(open_store(settings), "alice", limits=Limits(rpm=2))
    teams = [Team.open(settings, clock=clock), Team.open(settings, clock=clock)]
    for team in teams:
        await team.start()
    try:
        assert all(isinstance(t.limit_store, RedisLimitStore) for t in teams)
        principal = teams[0].authenticate(secret)
        await teams[0].admit(principal, "claude-x", 10)
        await teams[1].admit(principal, "claude-x", 10)
        registry = CollectorRegistry()
        registry.register(teams[1].collector())
        text = generate_latest(registry).decode()
        assert "lynkr_limits_shared 1.0" in text and "lynkr_limits_fallback_total 0.0" in text
        from lynkr_cli.team.api import RateLimited

        try:
            await teams[0].admit(principal, "claude-x", 10)
            raise AssertionError("the third request of an rpm-2 key passed")
        except RateLimited as exc:
            assert exc.headers["anthropic-ratelimit-requests-remaining"] == "0"
        redis_srv.stop()
        other = teams[1].authenticate(secret)
        try:
            await teams[1].admit(other, "claude-x", 10)  # 2 seen here: still over the limit
            raise AssertionError("the fallback forgot the shared count")
        except RateLimited:
            pass
        text = generate_latest(registry).decode()
        assert "lynkr_limits_shared 0.0" in text and "lynkr_limits_fallback_total 1.0" in text
    finally:
        for team in teams:
            await team.stop()
