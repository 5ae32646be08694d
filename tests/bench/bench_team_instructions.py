"""Benchmark: the team gateway's cost on the hot path, in instructions (noise-free).

    .venv/bin/python tests/bench/bench_team_instructions.py [--requests 3000]

``bench_team_gateway.py`` measures throughput, which a shared 2-core machine moves by
several percent from run to run. This one counts what does not move: the instructions
a ``lynkr serve`` process executes per request (valgrind's callgrind, collection
switched on only while the counted requests run, after a warm-up). The same gateway
setups as ``bench_team_gateway.py``, one after the other in front of the same fast
upstream, 32 clients, JSON and SSE:

- ``plain``: no keys (today's single-user gateway), the baseline;
- ``key``: an issued key with no limits (authentication, usage and metadata audit);
- ``limits``: an issued key carrying every limit (rpm, tpm, tokens/day, tokens/month,
  a USD budget), as ``bench_team_gateway.py`` runs it.

Prints instructions per request and the ratio to ``plain``. The usage writer process
runs outside valgrind (its share is in ``bench_team_gateway.py``'s CPU column). Skips,
saying so, without valgrind. Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_gateway import REQUEST, free_port, start_upstream  # noqa: E402
from tests.bench.bench_team_gateway import issue_key, start  # noqa: E402

SETUPS = ("plain", "key", "limits")
WARMUP = 1500


async def send(port: int, key: str, *, stream: bool, total: int, concurrency: int = 32) -> None:
    """Exactly ``total`` requests from ``concurrency`` clients (every answer a 200)."""
    import aiohttp

    body = json.dumps({**REQUEST, "stream": stream}).encode()
    url = f"http://127.0.0.1:{port}/v1/messages"
    headers = {"content-type": "application/json", "x-api-key": key,
               "anthropic-version": "2023-06-01"}  # fmt: skip
    left = [total]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                async with session.post(url, data=body, headers=headers) as resp:
                    data = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}: {data[:200]!r}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def key_for(setup: str, home: Path) -> str:
    if setup == "plain":
        return "client"
    if setup == "limits":
        return issue_key(home)
    env = {**os.environ, "LYNKR_HOME": str(home), "LYNKR_LOAD_PLUGINS": ""}
    out = subprocess.run(
        [sys.executable, "-m", "lynkr_cli", "keys", "create", "bench", "--json"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    return str(json.loads(out.stdout)["key"])


def measure(setup: str, base: Path, upstream: str, *, stream: bool, requests: int) -> float:
    """Instructions per request of one gateway process under callgrind."""
    import uvloop

    home = base / f"{setup}-{'sse' if stream else 'json'}"
    home.mkdir()
    key = key_for(setup, home)
    out = home / "callgrind.out"
    port = free_port()
    valgrind = ("valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={out}")  # fmt: skip
    proc = start(home, upstream, port, prefix=valgrind, timeout=300)
    try:
        uvloop.run(send(port, key, stream=stream, total=WARMUP))
        control = ["callgrind_control", "-i"]
        subprocess.run([*control, "on", str(proc.pid)], capture_output=True, check=True)
        uvloop.run(send(port, key, stream=stream, total=requests))
        subprocess.run([*control, "off", str(proc.pid)], capture_output=True, check=True)
    finally:
        proc.terminate()
        proc.wait(120)
    totals = [
        int(m.group(1))
        for dump in home.glob("callgrind.out*")  # one file per dump, if there are several
        for m in re.finditer(r"^totals: (\d+)", dump.read_text(), re.MULTILINE)
    ]
    if not totals:
        raise RuntimeError(f"callgrind wrote no totals to {out}")
    return sum(totals) / requests


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("bench_team_instructions: valgrind is not installed (apt-get install valgrind)")
        return 0
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-instr-") as tmp:
        base = Path(tmp)
        upstream, url = start_upstream()
        try:
            rows = {
                (setup, stream): measure(setup, base, url, stream=stream, requests=args.requests)
                for stream in (False, True)
                for setup in SETUPS
            }
        finally:
            upstream.terminate()
            upstream.wait(30)
    print(f"\ninstructions per request in the gateway process ({args.requests} requests, c=32)")
    print(
        "\n| kind | plain | key (no limits) | key with every limit | key x plain | limits x plain |"
    )
    print("|---|---|---|---|---|---|")
    for stream in (False, True):
        plain, key, limits = (rows[(setup, stream)] for setup in SETUPS)
        print(
            f"| {'sse' if stream else 'json'} | {plain / 1e3:.0f} k | {key / 1e3:.0f} k | "
            f"{limits / 1e3:.0f} k | {key / plain:.2f} | {limits / plain:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
