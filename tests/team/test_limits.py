"""Every limit, its 429 and headers; exactness under concurrency; budgets from the price table."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from lynkr_cli.team import limits
from lynkr_cli.team.api import Team
from lynkr_cli.team.limits import rate_headers
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.store import Check
from lynkr_cli.team.times import day_window, minute_window, month_window
from lynkr_cli.team.types import Limits, RateLimited, Usage
from tests.conftest import require
from tests.team.conftest import Clock, issue, usage_record


@pytest.fixture(autouse=True, params=["native", "python"])
def counters(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here with the C accelerator of the in-memory counters, and without."""
    if request.param == "native":
        require(limits._native is not None, "lynkr_cli.team._counters was not built")
    limits.set_native(request.param == "native")
    yield request.param
    limits.set_native(True)


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SONNET = "claude-sonnet-4-5"  # $3 in, $15 out per MTok


def _team(store: SqliteStore, open_team: Callable[..., Team], **limits: Any) -> tuple[Team, Any]:
    key = issue(store, "alice", limits=Limits(**limits))
    team = open_team()
    return team, team.authenticate(key)


async def test_rpm_allows_the_limit_then_429_with_headers(
    store: SqliteStore, open_team: Callable[..., Team], clock: Clock
) -> None:
    team, alice = _team(store, open_team, rpm=3)
    seen = []
    for _ in range(3):
        admission = await team.admit(alice, SONNET, 10)
        seen.append(admission.headers()["anthropic-ratelimit-requests-remaining"])
    assert seen == ["2", "1", "0"]
    headers = admission.headers()
    assert headers["anthropic-ratelimit-requests-limit"] == "3"
    reset = minute_window(clock.now)[1]
    assert RFC3339.match(headers["anthropic-ratelimit-requests-reset"])
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 10)
    err = info.value
    assert (err.status, err.error_type, err.limit) == (429, "rate_limit_error", "rpm")
    assert err.retry_after == int(reset - clock.now) and err.headers["retry-after"] == "55"
    assert err.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert "3 requests per minute" in err.message
    clock.advance(60)  # the next clock minute
    assert (await team.admit(alice, SONNET, 10)).headers()[
        "anthropic-ratelimit-requests-remaining"
    ] == "2"


async def test_tpm_counts_the_estimate_then_the_real_usage(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, tpm=1000)
    first = await team.admit(alice, SONNET, 400)
    assert first.headers()["anthropic-ratelimit-tokens-remaining"] == "600"
    await team.settle(first, Usage(input_tokens=100, output_tokens=50, cache_read_tokens=50))
    second = await team.admit(alice, SONNET, 700)  # 200 really used + 700 estimated
    assert second.headers()["anthropic-ratelimit-tokens-remaining"] == "100"
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 101)
    assert info.value.limit == "tpm" and "per minute" in info.value.message
    assert info.value.headers["anthropic-ratelimit-tokens-limit"] == "1000"


async def test_a_prompt_larger_than_tpm_passes_only_in_an_unused_minute(
    store: SqliteStore, open_team: Callable[..., Team], clock: Clock
) -> None:
    team, alice = _team(store, open_team, tpm=1000)
    big = await team.admit(alice, SONNET, 5000)
    assert big.headers()["anthropic-ratelimit-tokens-remaining"] == "0"
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 5000)
    assert "alone needs about 5,000 tokens" in info.value.message
    clock.advance(60)
    await team.admit(alice, SONNET, 5000)


async def test_tokens_per_day_and_month_are_hard_limits(
    store: SqliteStore, open_team: Callable[..., Team], clock: Clock
) -> None:
    team, alice = _team(store, open_team, tokens_day=1000, tokens_month=1500)
    a = await team.admit(alice, SONNET, 900)
    await team.settle(a, Usage(input_tokens=800, output_tokens=100))
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 200)
    assert info.value.limit == "tokens_day" and "per day" in info.value.message
    assert info.value.retry_after == int(day_window(clock.now)[1] - clock.now)
    clock.now = day_window(clock.now)[1] + 5  # tomorrow (maybe next month: then both reset)
    if clock.now >= month_window(clock.now - 10)[1]:
        pytest.skip("the day boundary is a month boundary too")
    b = await team.admit(alice, SONNET, 500)
    assert b.headers()["anthropic-ratelimit-tokens-remaining"] == "100"  # month is tighter
    await team.settle(b, Usage(input_tokens=500))
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 200)
    assert info.value.limit == "tokens_month" and "per month" in info.value.message


async def test_the_budget_is_priced_from_the_table(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, budget_usd=Decimal("1.00"))
    # 100k input at $3/MTok = $0.30 estimated, then 100k in + 40k out = $0.90 real.
    adm = await team.admit(alice, SONNET, 100_000)
    assert adm.estimate_nano == 300_000_000
    cost = await team.settle(adm, Usage(input_tokens=100_000, output_tokens=40_000))
    assert cost == 900_000_000 and team.cost(SONNET, Usage(100_000, 40_000)) == Decimal("0.9")
    await team.admit(alice, SONNET, 30_000)  # $0.09: 0.99 of 1.00
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 10_000)  # $0.03 would pass $1.00
    assert info.value.limit == "budget_usd"
    assert "$1.00 per month" in info.value.message and "$0.99" in info.value.message


async def test_the_budget_uses_the_upstream_model_price_when_known(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, budget_usd=Decimal("100"))
    adm = await team.admit(alice, "my-alias", 1_000_000, upstream_model="claude-opus-4-1")
    assert adm.estimate_nano == 15 * 10**9  # opus 4.1: $15 per MTok in
    unknown = await team.admit(alice, "local-llama", 1_000_000)
    assert unknown.estimate_nano == 0


async def test_settle_is_counted_once(store: SqliteStore, open_team: Callable[..., Team]) -> None:
    team, alice = _team(store, open_team, tpm=10_000)
    adm = await team.admit(alice, SONNET, 100)
    usage = Usage(input_tokens=1000)
    assert await team.settle(adm, usage) == await team.settle(adm, usage)
    nxt = await team.admit(alice, SONNET, 0)
    assert nxt.headers()["anthropic-ratelimit-tokens-remaining"] == "9000"


async def test_a_failed_request_gives_back_its_estimate(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, tpm=1000, rpm=100)
    adm = await team.admit(alice, SONNET, 900)
    await team.settle(adm, Usage())  # the upstream failed: nothing used
    again = await team.admit(alice, SONNET, 900)
    assert again.headers()["anthropic-ratelimit-tokens-remaining"] == "100"
    assert again.headers()["anthropic-ratelimit-requests-remaining"] == "98"


async def test_admin_and_unlimited_keys_get_no_headers_and_no_counting(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    key = issue(store, "free")
    team = open_team(admin_key="admin-secret-0123456789")
    for principal in (team.authenticate(key), team.authenticate("admin-secret-0123456789")):
        adm = await team.admit(principal, SONNET, 10**9)
        assert adm.headers() == {} and adm.checks == ()
        assert await team.settle(adm, Usage(input_tokens=1_000_000)) == 3 * 10**9


def test_tokens_headers_report_the_tightest_limit() -> None:
    checks = [Check("tok/m", 0.0, 60.0, 1, 1000), Check("tok/d", 0.0, 86400.0, 1, 5000)]
    headers = rate_headers(checks, (100, 4500))
    assert headers["anthropic-ratelimit-tokens-limit"] == "5000"
    assert headers["anthropic-ratelimit-tokens-remaining"] == "500"
    assert headers["anthropic-ratelimit-tokens-reset"] == "1970-01-02T00:00:00Z"
    assert not any(h.startswith("anthropic-ratelimit-requests") for h in headers)


async def test_fifty_concurrent_tasks_against_ten_rpm_let_exactly_ten_through(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, rpm=10)

    async def one() -> bool:
        try:
            await team.admit(alice, SONNET, 10)
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(one() for _ in range(50)))
    assert results.count(True) == 10


def test_fifty_threads_against_ten_rpm_and_a_token_limit_are_exact(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, rpm=10, tpm=10_000)
    passed: list[int] = []
    barrier = threading.Barrier(50)

    def one() -> None:
        barrier.wait(timeout=30)
        try:
            asyncio.run(team.admit(alice, SONNET, 700))
        except RateLimited:
            return
        passed.append(1)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(passed) == 10  # rpm 10 binds before tpm (10 × 700 = 7000 ≤ 10000)


async def test_token_limits_are_exact_under_concurrency(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    team, alice = _team(store, open_team, tpm=10_000)
    outcomes = await asyncio.gather(
        *(team.admit(alice, SONNET, 1000) for _ in range(50)), return_exceptions=True
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 10


async def test_a_restart_does_not_forgive_this_months_spend_or_todays_tokens(
    store: SqliteStore, started: Callable[..., Any], clock: Clock
) -> None:
    alice = issue(store, "alice", limits=Limits(budget_usd=Decimal("1")))
    bob = issue(store, "bob", limits=Limits(tokens_day=1000))
    ids = {name: store.find_keys(name)[0].id for name in ("alice", "bob")}
    spent = {
        "input_tokens": 900,
        "output_tokens": 0,
        "cache_creation_tokens": 0,
        "cache_read_tokens": 0,
        "ts": clock.now - 10,
    }
    store.write_batch(
        [
            usage_record(1, ids["alice"], cost_nano=990_000_000, **spent),
            usage_record(2, ids["bob"], key_name="bob", **spent),
        ]
    )
    team = await started()  # a fresh process: counters rebuilt from recorded usage
    with pytest.raises(RateLimited) as info:
        await team.admit(team.authenticate(alice), SONNET, 5000)  # $0.015 > the $0.01 left
    assert info.value.limit == "budget_usd"
    with pytest.raises(RateLimited) as info:
        await team.admit(team.authenticate(bob), SONNET, 101)
    assert info.value.limit == "tokens_day"
    await team.admit(team.authenticate(bob), SONNET, 100)


async def test_raising_a_limit_while_running_counts_what_was_already_used(
    store: SqliteStore, started: Callable[..., Any], clock: Clock
) -> None:
    from lynkr_cli.team import admin

    key = issue(store, "alice")
    alice_id = store.find_keys("alice")[0].id
    store.write_batch([usage_record(1, alice_id, ts=clock.now - 5, cost_nano=2 * 10**9)])
    team = await started(key_cache_ttl=0.2)
    principal = team.authenticate(key)
    admin.update(store, "alice", budget_usd=Decimal("2.50"))
    for _ in range(500):
        await asyncio.sleep(0.02)
        principal = team.authenticate(key)
        if principal.limits.budget_usd is not None:
            break
    adm = await team.admit(principal, SONNET, 100_000)  # $0.30 on top of $2.00
    with pytest.raises(RateLimited):
        await team.admit(principal, SONNET, 100_000)
    assert adm.estimate_nano == 300_000_000
