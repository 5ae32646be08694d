"""Benchmark: Anthropic <-> OpenAI translation and local token counting.

Run: .venv/bin/python tests/bench/bench_translate.py

Each row is timed against a baseline measured in the same run: the JSON work a relay does
anyway (orjson parse + serialise of the same document). With LYNKR_CLAUDE_TOKENIZER set to
a Claude ``tokenizer.json`` (the one old ``anthropic`` wheels shipped) and the ``tokenizers``
package installed, it also prints the token estimator's error against that tokenizer.
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lynkr_cli.serve import tokens  # noqa: E402
from lynkr_cli.serve.providers.databricks import DatabricksProvider  # noqa: E402
from lynkr_cli.serve.providers.ollama import OllamaProvider  # noqa: E402
from lynkr_cli.serve.providers.openai import OpenAIProvider  # noqa: E402
from lynkr_cli.serve.translate import (  # noqa: E402
    ChatStreamWriter,
    StreamTranslator,
    accumulate,
    from_chat_request,
    from_openai_response,
    to_chat_completion,
    to_openai_request,
)

FIXTURES = ROOT / "tests" / "fixtures" / "claude-code"
QUIRKS = {
    "openai": OpenAIProvider.quirks,
    "databricks": DatabricksProvider.quirks,
    "ollama": OllamaProvider.quirks,
}


def timed(fn: Callable[[], Any], budget: float = 1.0) -> float:
    """Median seconds per call over ~``budget`` seconds (5 rounds)."""
    fn()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < budget / 10:
        fn()
        n += 1
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds)


def claude_code_body() -> dict[str, Any]:
    path = FIXTURES / "tool-loop.2.messages.json"
    if path.is_file():
        return json.loads(path.read_text())["body"]
    tool = {
        "name": "Bash",
        "description": "Run a command. " * 200,
        "input_schema": {"type": "object"},
    }
    return {
        "model": "claude-opus-4-8",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "You are Claude Code. " * 2000}],
        "messages": [{"role": "user", "content": "run echo hi"}],
        "tools": [tool] * 24,
    }


def openai_stream(n_text: int = 400, n_args: int = 200) -> list[dict[str, Any]]:
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"content": f"word{i} "}}]}
        for i in range(n_text)
    ]
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "Bash", "arguments": ""},
    }
    chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    for i in range(n_args):
        frag = {
            "index": 0,
            "function": {"arguments": '{"c":"' if i == 0 else ("x" if i < n_args - 1 else '"}')},
        }
        chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": [frag]}}]})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 600}})
    return chunks


def row(name: str, ours: float, baseline: float, unit_scale: float = 1e6, unit: str = "µs") -> None:
    print(
        f"| {name:<48} | {ours * unit_scale:>9.1f} {unit} "
        f"| {baseline * unit_scale:>9.1f} {unit} | {ours / baseline:>6.2f}x |"
    )


def bench_translation() -> None:
    body = claude_code_body()
    raw = orjson.dumps(body)
    print(
        f"request body: {len(raw) / 1024:.0f} KiB, {len(body.get('tools', []))} tools, "
        f"{len(body['messages'])} messages\n"
    )
    print("| operation (per call) | ours | baseline | ratio |")
    print("|---|---|---|---|")
    base_req = timed(lambda: orjson.dumps(orjson.loads(raw)))
    for flavor, model in (
        ("openai", "gpt-4o"),
        ("databricks", "databricks-claude-sonnet-4-5"),
        ("ollama", "qwen3"),
    ):
        ours = timed(
            lambda f=flavor, m=model: orjson.dumps(
                to_openai_request(orjson.loads(raw), model=m, stream=True, quirks=QUIRKS[f])
            )
        )
        row(f"request parse+translate+dump ({flavor})", ours, base_req)
    completion = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "Let me look. " * 40,
                    "tool_calls": [
                        {
                            "id": f"call_{i}",
                            "type": "function",
                            "function": {"name": "Read", "arguments": '{"file_path":"/a/b/c.py"}'},
                        }
                        for i in range(3)
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 9000,
            "completion_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 8000},
        },
    }
    comp_raw = orjson.dumps(completion)
    base_resp = timed(lambda: orjson.dumps(orjson.loads(comp_raw)))
    ours = timed(
        lambda: orjson.dumps(
            from_openai_response(orjson.loads(comp_raw), model="claude-sonnet-4-5")
        )
    )
    row("response parse+translate+dump", ours, base_resp)
    chunks = [orjson.dumps(c) for c in openai_stream()]

    def stream() -> None:
        t = StreamTranslator(model="claude", input_tokens=10)
        for c in chunks:
            for e in t.feed(orjson.loads(c)):
                orjson.dumps(e)
        for e in t.finish():
            orjson.dumps(e)

    def stream_base() -> None:
        for c in chunks:
            orjson.dumps(orjson.loads(c))

    n = len(chunks)
    row(
        f"stream, per chunk ({n} chunks, 200 arg fragments)",
        timed(stream) / n,
        timed(stream_base) / n,
    )
    t = StreamTranslator(model="claude")
    events = [e for c in chunks for e in t.feed(orjson.loads(c))] + t.finish()
    row(
        "accumulate events -> Message (per event)",
        timed(lambda: accumulate(events)) / len(events),
        timed(lambda: [orjson.dumps(e) for e in events]) / len(events),
    )


def bench_inbound() -> None:
    """OpenAI-format clients: request in, answer out, the stream writer per event."""
    print("\n| inbound OpenAI chat (per call) | ours | baseline | ratio |")
    print("|---|---|---|---|")
    body = to_openai_request(claude_code_body(), model="gpt-4o", stream=True)
    raw = orjson.dumps(body)
    base = timed(lambda: orjson.dumps(orjson.loads(raw)))
    ours = timed(
        lambda: orjson.dumps(from_chat_request(orjson.loads(raw), default_max_tokens=4096).body)
    )
    row(f"request parse+translate+dump ({len(raw) // 1024} KiB)", ours, base)
    chunks = openai_stream()
    reader = StreamTranslator(model="claude")
    events = [e for c in chunks for e in reader.feed(c)] + reader.finish()
    message = accumulate(events)
    msg_raw = orjson.dumps(message)
    row(
        "Message -> chat.completion + dump",
        timed(lambda: orjson.dumps(to_chat_completion(orjson.loads(msg_raw), model="gpt-4o"))),
        timed(lambda: orjson.dumps(orjson.loads(msg_raw))),
    )

    def write() -> None:
        writer = ChatStreamWriter(model="gpt-4o", include_usage=True)
        for e in events:
            writer.feed(e)
        writer.finish()

    def read() -> None:
        t = StreamTranslator(model="claude", input_tokens=10)
        for c in chunks:
            t.feed(c)
        t.finish()

    row(
        f"stream writer, per event ({len(events)} events) vs outbound per chunk",
        timed(write) / len(events),
        timed(read) / len(chunks),
    )
    row(
        "stream writer, per event vs orjson.dumps(event)",
        timed(write) / len(events),
        timed(lambda: [orjson.dumps(e) for e in events]) / len(events),
    )


def bench_tokens() -> None:
    body = claude_code_body()
    raw = orjson.dumps(body)
    print("\n| token counting (per request) | ours | baseline | ratio |")
    print("|---|---|---|---|")
    base = timed(lambda: len(orjson.dumps(orjson.loads(raw))) // 4)
    tokens.warm()
    counter = [0]

    def cold() -> int:
        # a fresh system prompt each call defeats the per-text cache: the first request
        counter[0] += 1
        fresh = {
            **body,
            "system": [{"type": "text", "text": f"{counter[0]} " + json.dumps(body.get("tools"))}],
        }
        return tokens.count_request_tokens(fresh)

    row("count_request_tokens, cold (no cache hits)", timed(cold), base, 1e3, "ms")
    row(
        "count_request_tokens, warm (same session)",
        timed(lambda: tokens.count_request_tokens(orjson.loads(raw))),
        base,
        1e3,
        "ms",
    )
    print(f"\nestimate for the Claude Code fixture: {tokens.count_request_tokens(body)} tokens")


def bench_accuracy() -> None:
    path = os.environ.get("LYNKR_CLAUDE_TOKENIZER")
    if not path:
        print(
            "\n(accuracy: set LYNKR_CLAUDE_TOKENIZER=<tokenizer.json> "
            "to compare with Claude's tokenizer)"
        )
        return
    from tokenizers import Tokenizer

    claude = Tokenizer.from_file(path)
    corpora: dict[str, list[str]] = {"claude-code tools": [], "claude-code messages": []}
    for f in sorted(FIXTURES.glob("*.json")):
        b = json.loads(f.read_text())["body"]
        corpora["claude-code tools"] += [
            t["name"] + "\n" + t.get("description", "") + "\n" + json.dumps(t["input_schema"])
            for t in b.get("tools", [])
        ]
        corpora["claude-code messages"] += [
            m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
            for m in b["messages"]
        ]
    corpora["python source"] = [
        Path(p).read_text()
        for p in sorted(glob.glob(str(ROOT / "lynkr_cli/**/*.py"), recursive=True))
    ]
    corpora["markdown prose"] = [
        Path(p).read_text() for p in sorted(glob.glob(str(ROOT / "docs/*.md")))
    ]
    factor = tokens.TEXT_CORRECTION
    print(f"\n| corpus | texts | Claude | cl100k | Claude/cl100k | error after x{factor:.2f} |")
    print("|---|---|---|---|---|---|")
    for name, texts in corpora.items():
        ref = sum(len(claude.encode(t).ids) for t in texts)
        ours = sum(tokens.count_text(t) for t in texts)
        err = ours * tokens.TEXT_CORRECTION / ref - 1
        print(f"| {name} | {len(texts)} | {ref} | {ours} | {ref / ours:.3f} | {err:+.1%} |")


def main() -> int:
    bench_translation()
    bench_inbound()
    bench_tokens()
    bench_accuracy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
