"""Batched Redis admissions when Redis stops answering with a batch in flight: every
request of the batch still gets a decision (per-instance counting, from the last
values Redis gave), in time, and none gets an error."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from lynkr_cli.team.redis_limits import RedisLimitStore
from lynkr_cli.team.store import Check
from lynkr_cli.team.types import REQUESTS_M
from tests.scale.services import Redis


def _rpm(limit: int) -> Check:
    window = (time.time() // 60 + 1) * 60  # a window that cannot roll over mid-test
    return Check(REQUESTS_M, window, window + 60, 1, limit)


async def test_a_batch_in_flight_when_redis_hangs_falls_back_for_every_request(
    redis_srv: Redis, redis_url: str
) -> None:
    store = RedisLimitStore(redis_url, timeout=0.3, retry_seconds=60)
    try:
        assert (await store.acquire("k-1", [_rpm(5)])).values == (1,)
        assert redis_srv.proc is not None
        os.kill(redis_srv.proc.pid, signal.SIGSTOP)  # the batch below is sent, never answered
        try:
            decisions = await asyncio.wait_for(
                asyncio.gather(*(store.acquire("k-1", [_rpm(5)]) for _ in range(8))),
                10,  # bounded: the connection's own timeout (0.3 s) must end the wait
            )
        finally:
            os.kill(redis_srv.proc.pid, signal.SIGCONT)
    finally:
        await store.aclose()
    # counted here from the last value Redis gave (1): four more pass, the rest wait
    assert [d.ok for d in decisions] == [True] * 4 + [False] * 4
    assert [d.values for d in decisions] == [(2,), (3,), (4,), (5,)] + [(5,)] * 4
    assert store.stats() == {"backend": "redis", "shared": False, "fallbacks": 8, "outages": 1}
