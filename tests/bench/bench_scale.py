"""Benchmark: a gateway on PostgreSQL + Redis against one on SQLite alone, in one run.

    .venv/bin/python tests/bench/bench_scale.py [--seconds 6]

Real servers on loopback (started here, on temporary directories, as tests/scale does):
one PostgreSQL, one Redis. Two ``lynkr serve`` processes in passthrough (provider
anthropic, cache off) in front of the same fast upstream, both with keys, limits and
usage recording on (metadata audit):

- ``sqlite``: the embedded default (keys, usage and audit in lynkr.db, limits in memory);
- ``shared``: ``LYNKR_DATABASE_URL`` (PostgreSQL) and ``LYNKR_REDIS_URL`` (Redis limits);
- ``redis``: lynkr.db with Redis limits, to see the limit path's share apart from the
  usage writer's (``redis x sqlite`` differs from 1 by the Redis limits alone).

Clients send a key carrying every limit (rpm, tpm, tokens/day, tokens/month, a USD
budget). Throughput of ``shared`` as a ratio to ``sqlite`` at concurrency 32 (target
>= 0.85x), interleaved in rounds, JSON and SSE, with server CPU per request (what a
loaded machine distorts least). Then, on the ``shared`` gateway at concurrency 1, the
p50 added by Redis limits: the same key shape with no limits against one with every
limit. Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_gateway import REQUEST, cpu_seconds, free_port, start_upstream  # noqa: E402
from tests.bench.bench_team_gateway import start as serve  # noqa: E402
from tests.scale.services import Postgres, Redis, pg_bindir, redis_binary  # noqa: E402

ROUNDS = 6
GATEWAYS = ("sqlite", "shared", "redis")
LIMITS = ("--rpm", "10M", "--tpm", "10G", "--tokens-day", "10G", "--tokens-month", "100G",
          "--budget-usd", "1000000")  # fmt: skip


async def load(
    port: int, key: str, *, stream: bool, concurrency: int, seconds: float
) -> list[float]:
    """Latencies (s) of complete answers from ``concurrency`` clients for ``seconds``."""
    import aiohttp

    body = json.dumps({**REQUEST, "stream": stream}).encode()
    url = f"http://127.0.0.1:{port}/v1/messages"
    headers = {"content-type": "application/json", "x-api-key": key,
               "anthropic-version": "2023-06-01"}  # fmt: skip
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker(deadline: float) -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    data = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
                latencies.append(time.perf_counter() - t0)

        end = time.perf_counter() + seconds
        await asyncio.gather(*(worker(end) for _ in range(concurrency)))
    return latencies


def lynkr(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, "LYNKR_HOME": str(home), "LYNKR_LOAD_PLUGINS": "", **env}
    return subprocess.run(
        [sys.executable, "-m", "lynkr_cli", *args], env=full, capture_output=True, check=True
    )


def issue(home: Path, name: str, *limits: str, **env: str) -> str:
    out = lynkr(home, "keys", "create", name, *limits, "--json", **env)
    return str(json.loads(out.stdout)["key"])


SERVICES: dict[str, int] = {}  # name -> pid, for the CPU the shared backends spend


def services_cpu(gateway: str) -> float:
    """CPU seconds so far of the servers ``gateway`` uses (PostgreSQL, Redis or both)."""
    used = ("redis",) if gateway == "redis" else ("redis", "postgres")
    return sum(cpu_seconds(SERVICES[name]) for name in used)  # PostgreSQL's backends included


def measure(
    procs: dict[str, subprocess.Popen[bytes]],
    targets: dict[str, tuple[int, str]],
    *,
    stream: bool,
    concurrency: int,
    seconds: float,
) -> dict[str, tuple[list[float], float]]:
    """Per target: latencies and the server CPU seconds, interleaved in rounds."""
    import uvloop

    out: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in targets}
    for _ in range(ROUNDS):
        for name, (port, key) in targets.items():
            pid = procs[name.split(":")[0]].pid
            before = cpu_seconds(pid)
            extra = services_cpu(name) if name in SERVICE_CPU else 0.0
            got = uvloop.run(load(port, key, stream=stream, concurrency=concurrency,
                                  seconds=seconds / ROUNDS))  # fmt: skip
            lat, cpu = out[name]
            out[name] = (lat + got, cpu + cpu_seconds(pid) - before)
            ANSWERS[name.split(":")[0]] = ANSWERS.get(name.split(":")[0], 0) + len(got)
            if name in SERVICE_CPU:
                SERVICE_CPU[name][0] += services_cpu(name) - extra
                SERVICE_CPU[name][1] += len(got)
    return out


ANSWERS: dict[str, int] = {}  # answers each gateway gave (its usage records must match)
# Seconds the shared backends spent during a gateway's rounds, and its requests.
SERVICE_CPU: dict[str, list[float]] = {"shared": [0.0, 0], "redis": [0.0, 0]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    bindir, redis_bin = pg_bindir(), redis_binary()
    if bindir is None or redis_bin is None:
        print("bench_scale: PostgreSQL or redis-server is missing (scripts/test-deps.sh)")
        return 0
    pg, rd = Postgres(bindir), Redis(redis_bin)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    upstream: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-scale-") as tmp:
        base = Path(tmp)
        try:
            pg.start()
            rd.start()
            assert rd.proc is not None
            SERVICES["redis"] = rd.proc.pid
            SERVICES["postgres"] = int((pg.data / "postmaster.pid").read_text().split()[0])
            url = pg.create_database()
            shared_env = {"LYNKR_DATABASE_URL": url, "LYNKR_REDIS_URL": rd.url()}
            upstream, up = start_upstream()
            for name in GATEWAYS:
                (base / name).mkdir()
            lynkr(base / "shared", "db", "migrate", **shared_env)
            keys = {
                "sqlite": issue(base / "sqlite", "bench", *LIMITS),
                "shared": issue(base / "shared", "bench", *LIMITS, **shared_env),
                "shared:nolimits": issue(base / "shared", "free", **shared_env),
                "redis": issue(base / "redis", "bench", *LIMITS),
            }
            ports = {name: free_port() for name in GATEWAYS}
            procs["sqlite"] = serve(base / "sqlite", up, ports["sqlite"])
            procs["shared"] = serve(base / "shared", up, ports["shared"], **shared_env)
            procs["redis"] = serve(base / "redis", up, ports["redis"], LYNKR_REDIS_URL=rd.url())
            report(procs, ports, keys, args.seconds)
            for proc in procs.values():  # a clean stop writes every queued record
                proc.terminate()
                proc.wait(60)
            rows = {
                "sqlite": _sqlite_rows(base / "sqlite"),
                "shared": _pg_rows(url),
                "redis": _sqlite_rows(base / "redis"),
            }
            written = ", ".join(f"{n} {rows[n]} of {ANSWERS[n]}" for n in GATEWAYS)
            print(f"\nusage records written: {written} answers (target: all)")
        finally:
            for proc in (*procs.values(), upstream):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(30)
            pg.close()
            rd.close()
    return 0


def report(
    procs: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int],
    keys: dict[str, str],
    seconds: float,
) -> None:
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores, shared)")
    print("\n| kind | conc | sqlite req/s | shared req/s | shared x sqlite | redis x sqlite "
          "| CPU us/req sqlite | shared | redis | PostgreSQL + Redis (shared) | Redis "
          "(redis) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    targets = {name: (ports[name], keys[name]) for name in GATEWAYS}
    for kind in ("json", "sse"):
        for conc in (1, 32):
            got = measure(procs, targets, stream=kind == "sse", concurrency=conc,
                          seconds=seconds)  # fmt: skip
            (ls, cs), (lp, cp), (lr, cr) = got["sqlite"], got["shared"], got["redis"]
            backends = {n: c / max(1, r) * 1e6 for n, (c, r) in SERVICE_CPU.items()}
            for cell in SERVICE_CPU.values():
                cell[:] = [0.0, 0]
            print(
                f"| {kind} | {conc} | {len(ls) / seconds:.0f} | {len(lp) / seconds:.0f} | "
                f"{len(lp) / len(ls):.2f} | {len(lr) / len(ls):.2f} | {cs / len(ls) * 1e6:.0f} "
                f"| {cp / len(lp) * 1e6:.0f} | {cr / len(lr) * 1e6:.0f} "
                f"| {backends['shared']:.0f} | {backends['redis']:.0f} |"
            )
    print("target: shared >= 0.85x sqlite at c=32")
    pair = {
        "shared": (ports["shared"], keys["shared"]),
        "shared:nolimits": (ports["shared"], keys["shared:nolimits"]),
    }
    got = measure(procs, pair, stream=False, concurrency=1, seconds=seconds)
    with_limits = statistics.median(got["shared"][0]) * 1e6
    without = statistics.median(got["shared:nolimits"][0]) * 1e6
    print(
        f"\nc=1 JSON p50 on the shared gateway: every limit (Redis) {with_limits:.0f} us, "
        f"no limits {without:.0f} us: Redis limits add {with_limits - without:.0f} us"
    )


def _sqlite_rows(home: Path) -> Any:
    import sqlite3

    for db in home.rglob("lynkr.db"):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM team_usage").fetchone()[0]
    return 0


def _pg_rows(url: str) -> Any:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM team_usage").fetchone()
    return row[0] if row else 0


if __name__ == "__main__":
    sys.exit(main())
