"""Benchmark: the cost of a scenario decision per request.

Run: .venv/bin/python tests/bench/bench_routing.py

Each row is the median time of ``ScenarioRouter.decide`` on one body, against the baseline
of a plain ``orjson.loads`` of the same bytes (the parse every request pays anyway). With
every scenario set, the long-context check is the expensive part: the local token
counter runs unless the size bound (1.62 tokens a byte + 347, see
lynkr_cli/serve/scenarios.py) already shows the body is under the threshold. "warm" is a
session's next request (the counter's per-text cache holds the system prompt, tools and
earlier turns); "cold" empties that cache before each call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lynkr_cli.serve import tokens  # noqa: E402
from lynkr_cli.serve.scenarios import ScenarioRouter  # noqa: E402
from lynkr_cli.settings import RoutingSettings  # noqa: E402
from tests.bench.bench_translate import timed  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "claude-code"
KNOWN = ["anthropic", "azure-anthropic", "databricks", "openai", "ollama"]
FULL = RoutingSettings(
    default="databricks/databricks-claude-sonnet-4-5",
    background="openai/gpt-4o-mini",
    think="azure-anthropic/claude-opus-4-1",
    long_context="anthropic/claude-sonnet-4-5",
    web_search="ollama/qwen3:8b",
)
NO_LONG = RoutingSettings(background="openai/gpt-4o-mini", think="openai/o3")

CASES = [
    ("main request, trimmed (tool-loop.2)", "tool-loop.2.messages.json"),
    ("main request, opus (routing-web-search.1)", "routing-web-search.1.messages.json"),
    ("main request, haiku (routing-haiku.1)", "routing-haiku.1.messages.json"),
    ("Explore subagent, haiku (routing-explore.2)", "routing-explore.2.messages.json"),
    ("web_search request (routing-web-search.2)", "routing-web-search.2.messages.json"),
    ("count_tokens body (count-tokens.2)", "count-tokens.2.count_tokens.json"),
]


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())["body"]
    return body


def enlarged(size: int = 200_000) -> dict[str, Any]:
    """The real main request, grown by Read tool turns of this repository's source."""
    body = fixture("routing-web-search.1.messages.json")
    sources = sorted((ROOT / "lynkr_cli").rglob("*.py"))
    i = 0
    while len(orjson.dumps(body)) < size:
        text = sources[i % len(sources)].read_text()[:8000]
        use = {
            "type": "tool_use",
            "id": f"toolu_{i}",
            "name": "Read",
            "input": {"file_path": f"/src/{i}.py"},
        }
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": text}
        body["messages"] += [
            {"role": "assistant", "content": [use]},
            {"role": "user", "content": [result]},
        ]
        i += 1
    return body


def row(name: str, ours: float, base: float, note: str) -> None:
    print(
        f"| {name:<44} | {ours * 1e6:>8.1f} µs | {base * 1e6:>7.1f} µs | {ours / base:>6.2f}x "
        f"| {note} |"
    )


def bench_case(name: str, body: dict[str, Any], routing: RoutingSettings) -> None:
    raw = orjson.dumps(body)
    router = ScenarioRouter(routing, KNOWN, KNOWN)
    decision = router.decide(body, raw=raw)
    base = timed(lambda: orjson.loads(raw))
    ours = timed(lambda: router.decide(body, raw=raw))
    if decision.tokens_counted is not None:
        counted = f"~{decision.tokens_counted:,} tokens counted"
    elif routing.long_context:
        counted = "not counted (size bound)"
    else:
        counted = "not counted (long_context not set)"
    row(f"{name} {len(raw) / 1024:.0f} KiB", ours, base, f"{decision.scenario}, {counted}")


def bench_cold(name: str, body: dict[str, Any]) -> None:
    raw = orjson.dumps(body)
    router = ScenarioRouter(FULL, KNOWN, KNOWN)

    def cold() -> Any:
        tokens._counts.clear()
        return router.decide(body, raw=raw)

    row(f"{name} {len(raw) / 1024:.0f} KiB, cold", timed(cold), timed(lambda: orjson.loads(raw)),
        "first request of a session")  # fmt: skip


def main() -> None:
    tokens.warm()
    print(
        f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )
    print("\nevery scenario set (long_context_threshold 60000), warm:\n")
    print("| request | decide | orjson.loads | ratio | decision |")
    print("|---|---|---|---|---|")
    for name, file in CASES:
        bench_case(name, fixture(file), FULL)
    big = enlarged()
    bench_case("Claude Code request, enlarged", big, FULL)
    bench_cold("main request, opus", fixture("routing-web-search.1.messages.json"))
    bench_cold("Claude Code request, enlarged", big)
    print("\nlong_context not set (no counting), and no [routing] at all:\n")
    print("| request | decide | orjson.loads | ratio | decision |")
    print("|---|---|---|---|---|")
    bench_case("main request, opus", fixture("routing-web-search.1.messages.json"), NO_LONG)
    bench_case("Claude Code request, enlarged", big, NO_LONG)
    bench_case("Claude Code request, enlarged", big, RoutingSettings())


if __name__ == "__main__":
    main()
