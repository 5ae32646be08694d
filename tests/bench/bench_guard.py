"""Benchmark: the guard's scan of a 200 kB Claude Code request, and its false-positive rate.

Run: .venv/bin/python tests/bench/bench_guard.py

The request is a captured Claude Code request (tests/fixtures/claude-code) with its messages
repeated to 200 kB. The baseline, measured in the same run, is ``orjson.loads`` of the same
bytes: the parse the gateway does on every request anyway. Target: the scan adds at most
1 ms at p50. The false-positive rate is measured on this repository's own history and on
lock files made from the installed packages (tests/guard/corpus.py).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lynkr_cli.guard.api import scan, warm  # noqa: E402
from lynkr_cli.guard.collect import collect  # noqa: E402
from lynkr_cli.guard.engine import find_spans  # noqa: E402
from lynkr_cli.guard.kinds import resolve_kinds  # noqa: E402
from tests.guard import corpus  # noqa: E402
from tests.guard.samples import SECRETS  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "claude-code" / "tool-loop.2.messages.json"
TARGET_BYTES = 200_000


def request(target: int = TARGET_BYTES) -> dict[str, Any]:
    body = json.loads(FIXTURE.read_text())["body"]
    turns, messages = body["messages"], []
    while len(orjson.dumps({**body, "messages": messages})) < target:
        messages += turns
    return {**body, "messages": messages}


def with_secrets(body: dict[str, Any]) -> dict[str, Any]:
    """The same request with a tool result holding one value of every secret kind."""
    leak = "\n".join(text for text, _ in SECRETS.values())
    result = {"type": "tool_result", "tool_use_id": "t", "content": leak}
    return {**body, "messages": [*body["messages"], {"role": "user", "content": [result]}]}


def percentiles(fn: Callable[[], Any], seconds: float = 2.0) -> tuple[float, float]:
    """p50 and p99 in microseconds of ``fn``, called for about ``seconds``."""
    fn()
    times: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop or len(times) < 50:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


def speed() -> None:
    warm()
    body = request()
    raw = orjson.dumps(body)
    leaky = with_secrets(body)
    small = {**body, "messages": body["messages"][:4]}  # one tool-loop turn
    small_kb = len(orjson.dumps(small)) / 1000
    base50, base99 = percentiles(lambda: orjson.loads(raw))
    rows = [
        ("scan, warn", lambda: scan(body, mode="warn")),
        ("scan, redact", lambda: scan(body, mode="redact")),
        ("scan, redact (15 secrets found)", lambda: scan(leaky, mode="redact")),
        ("scan, warn, all kinds", lambda: scan(body, mode="warn", kinds=("all",))),
        (f"scan, warn, the unenlarged request ({small_kb:.0f} kB)", lambda: scan(small)),
    ]
    print(f"request: {len(raw) / 1000:.0f} kB, {len(body['messages'])} messages")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| operation | p50 µs | p99 µs | p50 / orjson.loads p50 |")
    print("|---|---|---|---|")
    print(f"| orjson.loads (baseline) | {base50:.0f} | {base99:.0f} | 1.00 |")
    for name, fn in rows:
        p50, p99 = percentiles(fn)
        print(f"| {name} | {p50:.0f} | {p99:.0f} | {p50 / base50:.2f} |")
    p50 = percentiles(lambda: scan(body, mode="warn"))[0]
    print(f"\nwarn scan of the 200 kB request at p50: {p50 / 1000:.2f} ms (target <= 1 ms)")


def false_positives() -> None:
    kinds, default = resolve_kinds(["all"]), resolve_kinds(["secrets", "pii"])
    history = corpus.git_history()
    texts = {
        "this repo's git log -p -n 500": history or "",
        "RECORD files (sha256 of every installed file)": corpus.record_text(),
        **{f"{name} (generated)": text for name, text in corpus.lock_files().items()},
        "npm package-lock.json (.tools)": corpus.npm_locks(),
        "captured Claude Code requests": corpus.fixtures(),
    }
    print("\n| corpus | MB | findings (all kinds) | per MB | per MB (default kinds) | kinds |")
    print("|---|---|---|---|---|---|")
    for name, text in texts.items():
        if not text:
            print(f"| {name} | - | - | - | - | not available here |")
            continue
        spans, _ = find_spans(collect(corpus.as_body(text)), kinds)
        size = len(text) / 1e6
        found = Counter(s.kind for s in spans)
        usual = sum(n for k, n in found.items() if k in default)
        shown = ", ".join(f"{k} {n}" for k, n in found.most_common()) or "-"
        rates = f"{len(spans) / size:.1f} | {usual / size:.1f}"
        print(f"| {name} | {size:.2f} | {len(spans)} | {rates} | {shown} |")


def main() -> int:
    speed()
    false_positives()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
