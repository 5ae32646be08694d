"""Benchmark: the Redis limit path alone, in one process, against in-memory limits.

    .venv/bin/python tests/bench/bench_redis_limits.py [--seconds 3]

A real ``redis-server`` on loopback (started here, as tests/scale does). Tasks in one
uvloop loop, as the gateway's requests are, each doing what a request does to the
limits: ``Limiter.admit`` (one atomic check-and-charge of rpm, tpm, tokens/day,
tokens/month and a budget), a pass of the loop (the upstream call), then
``Limiter.settle``. Printed per request: this process's CPU (the gateway's share) and
the Redis server's, at concurrency 1 and 32, with ``RedisLimitStore`` and with the
in-memory store (the same code path, through a coroutine) as the baseline. Fewer
moving parts than ``bench_scale.py``, so less noise from a shared machine. Always
exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_gateway import cpu_seconds  # noqa: E402
from tests.scale.services import Redis, redis_binary  # noqa: E402

ROUNDS = 3  # the best round is reported: on a shared machine, noise only ever adds


def _principal() -> Any:
    from lynkr_cli.team.types import Limits, Principal

    limits = Limits(rpm=10**9, tpm=10**12, tokens_day=10**12, tokens_month=10**13,
                    budget_usd=10**6)  # fmt: skip
    return Principal(key_id="k-bench", name="bench", prefix="lk-bench", limits=limits,
                     plan=limits.plan())  # fmt: skip


async def _run(store: Any, concurrency: int, seconds: float, redis_pid: int) -> tuple[float, float]:
    """Best round's (client, Redis) CPU µs per request."""
    from lynkr_cli.team import prices
    from lynkr_cli.team.limits import Limiter
    from lynkr_cli.team.types import Usage

    limiter = Limiter(store, prices.build({}, None))
    principal = _principal()
    models = ("claude-sonnet-4-5",)
    usage = Usage(input_tokens=120, output_tokens=300)
    await limiter.settle(await limiter.admit(principal, models, 100), usage)  # connect
    done = 0

    async def request(deadline: float) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            admission = await limiter.admit(principal, models, 100)
            await asyncio.sleep(0)
            await limiter.settle(admission, usage)
            done += 1

    best = (float("inf"), float("inf"))
    for _ in range(ROUNDS):
        done = 0
        cpu, server = time.process_time(), cpu_seconds(redis_pid)
        end = time.perf_counter() + seconds / ROUNDS
        await asyncio.gather(*(request(end) for _ in range(concurrency)))
        spent = ((time.process_time() - cpu) / done * 1e6,
                 (cpu_seconds(redis_pid) - server) / done * 1e6)  # fmt: skip
        best = min(best, spent)
    return best


async def _shared(url: str, concurrency: int, seconds: float, pid: int) -> tuple[float, float]:
    from lynkr_cli.team.redis_limits import RedisLimitStore

    store = RedisLimitStore(url)
    try:
        return await _run(store, concurrency, seconds, pid)
    finally:
        await store.aclose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    binary = redis_binary()
    if binary is None:
        print("bench_redis_limits: redis-server is missing (scripts/test-deps.sh)")
        return 0
    import uvloop

    from lynkr_cli.team.limits import MemoryLimitStore

    class Memory(MemoryLimitStore):
        """The in-memory store behind a coroutine, as the Redis one is."""

    server = Redis(binary)
    server.start()
    try:
        assert server.proc is not None
        pid = server.proc.pid
        print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared)\n")
        print("| concurrency | memory: CPU us/request | redis: CPU us/request | Redis server |")
        print("|---|---|---|---|")
        for concurrency in (1, 32):
            memory, _ = uvloop.run(_run(Memory(), concurrency, args.seconds, pid))
            client, redis_cpu = uvloop.run(_shared(server.url(), concurrency, args.seconds, pid))
            print(f"| {concurrency} | {memory:.1f} | {client:.1f} | {redis_cpu:.1f} |")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
