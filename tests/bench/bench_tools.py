"""Benchmark: the server-side tool loop, the search fallback and the MCP pool, in one run.

    .venv/bin/python tests/bench/bench_tools.py [--rounds 200]

Each row is measured against a baseline measured in the same run:

- loop, no tool call: ``run_loop`` around an in-memory scripted upstream vs iterating
  the same upstream directly (the loop's own cost when the model answers at once);
- loop, one lynkr_read_file: a full tool round trip (2 upstream calls + the tool in a
  worker thread) vs two direct upstream calls (what running the tool adds);
- search: lynkr_search's Python fallback (and its ripgrep path, when ``rg`` is on PATH)
  vs ``grep -rn`` on the same synthetic tree;
- MCP call: a call through the warm gateway pool vs connecting (spawn + initialize)
  per call, with mcp-server-time over stdio;
- redaction: the shared redactor every tool result goes through (secret files withheld,
  assignments, shapes, known values) on a 40 000-character patch, vs the log redactor
  alone (what tool results got before).

Always exits 0: it reports, it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LYNKR_LOAD_PLUGINS", "")

from lynkr_cli.serve.tools.base import ToolContext  # noqa: E402
from lynkr_cli.serve.tools.loop import run_loop  # noqa: E402
from lynkr_cli.serve.tools.toolbox import registry_toolbox  # noqa: E402
from lynkr_cli.settings import get_settings  # noqa: E402
from tests.tools.scripted import anthropic_events, tool_results  # noqa: E402

BODY = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
Rows = list[tuple[str, float, float]]


async def timed(n: int, func: Callable[[], Awaitable[Any]]) -> float:
    """Median milliseconds of ``n`` sequential calls (after 3 warm-ups)."""
    for _ in range(3):
        await func()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def memory_upstream(turn: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Any:
    """An upstream that yields the scripted events from memory: isolates the loop's cost."""

    async def call(body: dict[str, Any]) -> Any:
        for event in anthropic_events(turn(body), 0):
            yield event

    return call


async def bench_loop(rounds: int, root: Path) -> Rows:
    settings = get_settings({"gateway.workspace_root": str(root)})
    box = registry_toolbox(settings, ToolContext(settings, root))
    (root / "notes.txt").write_text("hello\n" * 50)
    answer = [{"type": "text", "text": "a plain answer " * 20}]
    read = {"type": "tool_use", "id": "toolu_1", "name": "lynkr_read_file",
            "input": {"path": "notes.txt"}}  # fmt: skip
    plain = memory_upstream(lambda b: answer)
    tooled = memory_upstream(lambda b: answer if tool_results(b) else [read])

    async def direct() -> None:
        async for _ in plain(BODY):
            pass

    async def direct_twice() -> None:
        await direct()
        await direct()

    async def looped(upstream: Any) -> None:
        async for _ in run_loop(BODY, upstream, settings, toolbox=box):
            pass

    base = await timed(rounds * 10, direct)
    loop_plain = await timed(rounds * 10, lambda: looped(plain))
    base2 = await timed(rounds * 10, direct_twice)
    loop_tool = await timed(rounds * 10, lambda: looped(tooled))
    return [("loop, no tool call (in-memory upstream)", loop_plain, base),
            ("loop, one lynkr_read_file (2 upstream calls)", loop_tool, base2)]  # fmt: skip


def make_tree(root: Path, files: int = 1500) -> None:
    for i in range(files):
        sub = root / f"pkg{i % 30}"
        sub.mkdir(exist_ok=True)
        body = "".join(f"def func_{i}_{j}(x):\n    return x + {j}\n" for j in range(40))
        (sub / f"mod{i}.py").write_text(body + ("# NEEDLE here\n" if i % 100 == 0 else ""))


async def bench_search(root: Path) -> Rows:
    from lynkr_cli.serve.tools import files

    tree = root / "tree"
    tree.mkdir()
    make_tree(tree)
    settings = get_settings({"gateway.workspace_root": str(tree)})
    ctx = ToolContext(settings, tree.resolve())
    grep = shutil.which("grep")

    async def python_search() -> None:
        await asyncio.to_thread(files.python_search, ctx, {"pattern": "NEEDLE"}, 100)

    async def grep_search() -> None:
        assert grep is not None
        subprocess.run([grep, "-rn", "--", "NEEDLE", str(tree)], capture_output=True, check=False)

    if grep is None:
        return []
    mine = await timed(10, python_search)
    base = await timed(10, grep_search)
    rows = [("search 1500 files (Python fallback vs grep -rn)", mine, base)]
    rg = shutil.which("rg")
    if rg is not None:

        async def rg_search() -> None:
            await files.rg_search(rg, ctx, {"pattern": "NEEDLE"}, 100)

        rows.append(
            ("search 1500 files (ripgrep path vs grep -rn)", await timed(10, rg_search), base)
        )
    return rows


async def bench_mcp(rounds: int, root: Path) -> Rows:
    from lynkr_cli.mcp import client, pool
    from lynkr_cli.mcp.manifests import parse_server

    binary = ROOT / ".venv" / "bin" / "mcp-server-time"
    if not binary.exists():
        return []
    (root / ".mcp.json").write_text(f'{{"mcpServers": {{"time": {{"command": "{binary}"}}}}}}')
    os.chdir(root)
    settings = get_settings({"gateway.workspace_root": str(root)})
    args = {"timezone": "Etc/UTC"}
    warm = pool.get_pool(settings, root)

    async def pooled() -> None:
        await warm.call("time", "get_current_time", args)

    async def cold() -> None:
        server = parse_server("time", {"command": str(binary)}, "bench")
        async with client.connect(server, settings, stderr=lambda _: None) as session:
            await client.call_tool(session, "get_current_time", args, 30)

    try:
        mine = await timed(rounds, pooled)
        base = await timed(max(3, rounds // 40), cold)
    finally:
        await pool.shutdown()
    return [("MCP call: warm pool vs connect per call", mine, base)]


def synthetic_patch(chars: int = 40_000) -> str:
    """A patch of Python, YAML and .env hunks, about ``chars`` long."""
    parts, n = [], 0
    while sum(map(len, parts)) < chars:
        name = ("src/mod{n}.py", "config/app{n}.yml", ".env")[n % 3].format(n=n)
        body = "".join(f"+    value_{j} = compute({j})  # token_count {j}\n" for j in range(20))
        body += "+password: hunter2\n+API_KEY = 'q8Vz3LpW1nX7rT5k'\n"
        parts.append(f"diff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n"
                     f"@@ -1,0 +1,22 @@\n{body}")  # fmt: skip
        n += 1
    return "".join(parts)


async def bench_redaction(rounds: int) -> Rows:
    from lynkr_cli.git.secrets import known_pattern, redact_patch
    from lynkr_cli.logs import redact_text

    patch = synthetic_patch()
    known = known_pattern([f"known-secret-value-{i:04d}" for i in range(40)])

    async def shared() -> None:
        redact_patch(patch, known)

    async def logs_only() -> None:
        redact_text(patch)

    mine = await timed(max(5, rounds // 10), shared)
    base = await timed(max(5, rounds // 10), logs_only)
    return [(f"redact a {len(patch) // 1000}k-char patch (shared vs log redactor)", mine, base)]


async def main(rounds: int) -> None:
    from lynkr_cli import logs

    logs.configure("warning", stream=sys.stderr)  # pool events stay off the table
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        os.environ["LYNKR_HOME"] = str(root / "home")
        rows = await bench_loop(rounds, root)
        rows += await bench_search(root)
        rows += await bench_mcp(rounds, root)
        rows += await bench_redaction(rounds)
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'median ms':>10}  {'baseline ms':>11}  {'ratio':>7}")
    for name, mine, base in rows:
        print(f"{name:<{width}}  {mine:>10.3f}  {base:>11.3f}  {mine / base:>7.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(main(parser.parse_args().rounds))
