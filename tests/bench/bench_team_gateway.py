"""Benchmark: the team gateway's cost on the hot path, in one run.

    .venv/bin/python tests/bench/bench_team_gateway.py [--seconds 4]

Two ``lynkr serve`` processes in passthrough (provider anthropic, cache off) in front of
the same fast upstream: one with no keys (today's single-user gateway), one with an
issued key carrying every limit (rpm, tpm, tokens/day, tokens/month, a USD budget) and
usage recording on (metadata audit). Clients send the key. Throughput of the second as
a ratio to the first, interleaved in rounds, JSON and SSE at concurrency 1 and 32, and
server CPU per request. Target: >= 0.9x. Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_gateway import (  # noqa: E402
    REQUEST,
    cpu_seconds,
    free_port,
    start_upstream,
    wait_port,
)

ROUNDS = 8


async def load(port: int, key: str, *, stream: bool, concurrency: int, seconds: float) -> int:
    import asyncio

    import aiohttp

    body = json.dumps({**REQUEST, "stream": stream}).encode()
    url = f"http://127.0.0.1:{port}/v1/messages"
    headers = {
        "content-type": "application/json",
        "x-api-key": key,
        "anthropic-version": "2023-06-01",
    }
    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker(deadline: float) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.post(url, data=body, headers=headers) as resp:
                    data = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")
                done += 1

        end = time.perf_counter() + seconds
        await asyncio.gather(*(worker(end) for _ in range(concurrency)))
    return done


def start(
    home: Path,
    upstream: str,
    port: int,
    *,
    prefix: tuple[str, ...] = (),
    timeout: float = 30,
    **extra: str,
) -> subprocess.Popen[bytes]:
    """``lynkr serve`` in passthrough to ``upstream`` (cache off, no server tools, the
    access log on), run under ``prefix`` (a profiler) if given."""
    env = {
        **os.environ,
        "LYNKR_HOME": str(home),
        "LYNKR_LOAD_PLUGINS": "",
        "LYNKR_TOOLS_MODE": "never",
        "LYNKR_CACHE": "false",
        "LYNKR_PROVIDER": "anthropic",
        "ANTHROPIC_ENDPOINT": upstream + "/v1/messages",
        "ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ACCESS_LOG": "true",
        **extra,
    }
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "lynkr_cli", "serve", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port, proc, timeout)
    return proc


def issue_key(home: Path) -> str:
    env = {**os.environ, "LYNKR_HOME": str(home), "LYNKR_LOAD_PLUGINS": ""}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lynkr_cli",
            "keys",
            "create",
            "bench",
            "--rpm",
            "10M",
            "--tpm",
            "10G",
            "--tokens-day",
            "10G",
            "--tokens-month",
            "100G",
            "--budget-usd",
            "1000000",
            "--json",
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    return str(json.loads(out.stdout)["key"])


def main() -> int:
    import uvloop

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the team server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-team-") as tmp:
        base = Path(tmp)
        upstream, url = start_upstream()
        (base / "plain").mkdir()
        (base / "team").mkdir()
        key = issue_key(base / "team")
        ports = {"plain": free_port(), "team": free_port()}
        extra = dict(e.split("=", 1) for e in args.env)
        procs = {
            name: start(base / name, url, port, **(extra if name == "team" else {}))
            for name, port in ports.items()
        }
        keys = {"plain": "client", "team": key}
        done: dict[tuple[str, str, int], int] = {}
        cpu: dict[tuple[str, str, int], float] = {}
        try:
            print(f"load average {os.getloadavg()[0]:.2f}")
            for kind in ("json", "sse"):
                for conc in (1, 32):
                    for _ in range(ROUNDS):
                        for name in ("plain", "team"):
                            cell = (name, kind, conc)
                            before = cpu_seconds(procs[name].pid)
                            n = uvloop.run(
                                load(
                                    ports[name],
                                    keys[name],
                                    stream=kind == "sse",
                                    concurrency=conc,
                                    seconds=args.seconds / ROUNDS,
                                )
                            )
                            done[cell] = done.get(cell, 0) + n
                            cpu[cell] = cpu.get(cell, 0.0) + cpu_seconds(procs[name].pid) - before
        finally:
            for proc in (*procs.values(), upstream):
                proc.terminate()
                proc.wait(30)
        rows = _usage_rows(base / "team")
    print("\n| kind | conc | plain req/s | team req/s | team x plain | CPU us/req plain | team |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("json", "sse"):
        for conc in (1, 32):
            p, t = done[("plain", kind, conc)], done[("team", kind, conc)]
            cp = cpu[("plain", kind, conc)] / p * 1e6
            ct = cpu[("team", kind, conc)] / t * 1e6
            print(
                f"| {kind} | {conc} | {p / args.seconds:.0f} | {t / args.seconds:.0f} | "
                f"{t / p:.2f} | {cp:.0f} | {ct:.0f} |"
            )
    total = sum(done[k] for k in done if k[0] == "team")
    print(f"\nusage records written by the team gateway: {rows} of {total} answers (target: all)")
    print("target: team >= 0.9x plain")
    return 0


def _usage_rows(home: Path) -> Any:
    import sqlite3

    for db in home.rglob("lynkr.db"):
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM team_usage").fetchone()[0]
    return 0


if __name__ == "__main__":
    sys.exit(main())
