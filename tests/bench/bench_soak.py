"""Soak: a real ``lynkr serve`` under concurrency 64 for a minute, then large bodies, then
SIGTERM with streams in flight.

    .venv/bin/python tests/bench/bench_soak.py [--seconds 60]

Reports, against targets from the safety audit:
- errors during the soak (target 0) and RSS growth from its start to its end (< 10%);
- RSS after 20–30 MB bodies, against before them (back within 20%);
- how long after SIGTERM the streams still running were ended, against ``--grace``.
Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_gateway import REQUEST, free_port, start_upstream, wait_port  # noqa: E402
from tests.reliability.faultserver import FaultServer  # noqa: E402

HEADERS = {"content-type": "application/json", "x-api-key": "client"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_gateway(home: Path, upstream: str, **extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "LYNKR_HOME": str(home), "LYNKR_LOAD_PLUGINS": "",
           "LYNKR_TOOLS_MODE": "never", "LYNKR_PROVIDER": "anthropic",
           "LYNKR_ANTHROPIC_API_KEY": "up-key", "LYNKR_CACHE": "false",
           "LYNKR_ANTHROPIC_ENDPOINT": upstream + "/v1/messages", **extra}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "lynkr_cli", "serve", "--port", str(port)],
        env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_port(port, proc)
    return proc, port


async def soak(port: int, pid: int, seconds: float, concurrency: int) -> None:
    import aiohttp

    url = f"http://127.0.0.1:{port}/v1/messages"
    bodies = [json.dumps({**REQUEST, "stream": s}).encode() for s in (False, True)]
    done = errors = 0
    samples: list[tuple[float, float]] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker(n: int, deadline: float) -> None:
            nonlocal done, errors
            i = n
            while time.monotonic() < deadline:
                i += 1
                try:
                    async with session.post(url, data=bodies[i % 2], headers=HEADERS) as resp:
                        data = await resp.read()
                        ok = resp.status == 200 and (i % 2 == 0 or data.endswith(b"\n\n"))
                        ok = ok and b'"type":"error"' not in data.replace(b" ", b"")
                except aiohttp.ClientError:
                    ok = False
                done += 1
                errors += not ok

        async def sampler(deadline: float) -> None:
            start = time.monotonic()
            while time.monotonic() < deadline:
                samples.append((time.monotonic() - start, rss_mb(pid)))
                await asyncio.sleep(min(5.0, seconds / 6))

        warm = time.monotonic() + 3
        await asyncio.gather(*(worker(n, warm) for n in range(concurrency)))
        done = errors = 0
        deadline = time.monotonic() + seconds
        await asyncio.gather(sampler(deadline), *(worker(n, deadline) for n in range(concurrency)))
    first, last = samples[0][1], rss_mb(pid)
    print(f"\n## Soak: concurrency {concurrency}, {seconds:g} s, JSON and SSE alternating")
    print(f"requests {done}, {done / seconds:.0f}/s, errors {errors} (target 0)")
    print("RSS MB over time: " + ", ".join(f"{t:.0f}s {r:.1f}" for t, r in samples))
    print(f"RSS start {first:.1f} MB, end {last:.1f} MB: growth {100 * (last / first - 1):+.1f}% "
          "(target < 10%)")  # fmt: skip


async def large_bodies(port: int, pid: int) -> None:
    import httpx

    small = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        await http.post("/v1/messages/count_tokens", json=small)  # the tokenizer, loaded once
        for _ in range(50):
            await http.post("/v1/messages", json=small)
    await asyncio.sleep(1)
    before = rss_mb(pid)
    peak = before
    for size in (20, 30, 25, 20):
        big = {**small, "messages": [{"role": "user", "content": "x " * (size * 500_000)}]}
        for path in ("/v1/messages", "/v1/messages/count_tokens"):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
                resp = await http.post(path, json=big)
                assert resp.status_code == 200, resp.text[:300]
            peak = max(peak, rss_mb(pid))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for _ in range(50):
            await http.post("/v1/messages", json=small)
    await asyncio.sleep(2)
    after = rss_mb(pid)
    print("\n## Large bodies: 20, 30, 25, 20 MB to /v1/messages and count_tokens")
    print(f"RSS before {before:.1f} MB, highest seen {peak:.1f} MB, after {after:.1f} MB: "
          f"{100 * (after / before - 1):+.1f}% (target within 20%)")  # fmt: skip


async def shutdown(home: Path, grace: float) -> None:
    import httpx

    stall = await FaultServer(stall_seconds=60).start()
    proc, port = start_gateway(home, stall.url, LYNKR_GRACE_SECONDS=str(grace))
    body = {"model": "m", "max_tokens": 5, "stream": True,
            "messages": [{"role": "user", "content": "FAULT:stall"}]}  # fmt: skip
    ended: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        started = asyncio.Event()
        signalled = [0.0]

        async def one() -> None:
            async with http.stream("POST", "/v1/messages", json=body) as resp:
                async for _chunk in resp.aiter_bytes():
                    started.set()
            ended.append(time.monotonic() - signalled[0])

        tasks = [asyncio.ensure_future(one()) for _ in range(10)]
        await asyncio.wait_for(started.wait(), 30)
        await asyncio.sleep(0.5)
        signalled[0] = time.monotonic()
        proc.terminate()
        await asyncio.gather(*tasks)
        exited = await asyncio.to_thread(proc.wait, 60)
    total = time.monotonic() - signalled[0]
    await stall.stop()
    print(f"\n## Shutdown: 10 streams in flight, grace {grace:g} s")
    print(f"streams ended {min(ended):.2f}-{max(ended):.2f} s after SIGTERM "
          f"({max(ended) / grace:.2f}x the grace period; target 1x), exit {exited} "
          f"after {total:.2f} s")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="lynkr-soak-") as tmp:
        home = Path(tmp)
        upstream, url = start_upstream()
        proc, port = start_gateway(home, url, LYNKR_ACCESS_LOG="true")
        try:
            print(f"load average {os.getloadavg()[0]:.2f}")
            await soak(port, proc.pid, args.seconds, args.concurrency)
            await large_bodies(port, proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
            upstream.terminate()
            upstream.wait(30)
        await shutdown(home, args.grace)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--grace", type=float, default=2.0)
    asyncio.run(main_async(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
