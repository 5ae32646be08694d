"""A longer fuzz campaign than ``make test`` runs: seeded malformed requests against real
``lynkr serve`` processes (passthrough; translation with server tools), several seeds.

    .venv/bin/python tests/bench/bench_fuzz.py [--cases 15000] [--seeds 3]

Reports per configuration the answers by status, and every problem: a 5xx, an error body
that is not Anthropic-shaped JSON, an answer that never came, a traceback in the log.
Targets: 0 of each. Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.gatewayproc import GatewayProcess  # noqa: E402
from tests.reliability.faultserver import FaultServer  # noqa: E402
from tests.security import fuzzgen  # noqa: E402


async def campaign(cases: int, seeds: int) -> None:
    upstream = await FaultServer().start()
    with tempfile.TemporaryDirectory(prefix="lynkr-fuzz-") as tmp:
        configs = {
            "passthrough": {"LYNKR_PROVIDER": "anthropic", "LYNKR_ANTHROPIC_API_KEY": "up-key",
                            "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages"},
            "translation+tools": {"LYNKR_PROVIDER": "openai", "LYNKR_OPENAI_API_KEY": "up-key",
                                  "LYNKR_OPENAI_ENDPOINT": upstream.url + "/v1/chat/completions",
                                  "LYNKR_OPENAI_MODEL": "gpt-t", "LYNKR_TOOLS_MODE": "auto",
                                  "LYNKR_WORKSPACE": tmp},
        }  # fmt: skip
        common = {"LYNKR_HOME": tmp, "LYNKR_HEAD_TIMEOUT": "2", "LYNKR_BODY_TIMEOUT": "2",
                  "LYNKR_CACHE": "true", "LYNKR_ACCESS_LOG": "true",
                  "LYNKR_LOAD_PLUGINS": ""}  # fmt: skip
        print(f"load average {os.getloadavg()[0]:.2f}")
        print("\n| configuration | seed | cases | seconds | problems | tracebacks | statuses |")
        print("|---|---|---|---|---|---|---|")
        for name, env in configs.items():
            for seed in range(100, 100 + seeds):
                async with GatewayProcess({**common, **env}) as gw:
                    t0 = time.monotonic()
                    report = await fuzzgen.run(gw.url, cases, seed=seed)
                    took = time.monotonic() - t0
                    await gw.terminate()
                statuses = ", ".join(f"{k}: {v}" for k, v in sorted(report["statuses"].items()))
                tracebacks = gw.stderr.count("Traceback")
                print(f"| {name} | {seed} | {cases} | {took:.1f} | {len(report['problems'])} | "
                      f"{tracebacks} | {statuses} |")  # fmt: skip
                for problem in report["problems"][:5]:
                    print(f"  - {problem[:300]}")
    await upstream.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=15000)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(campaign(args.cases, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
