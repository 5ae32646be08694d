"""Seeded properties: without [routing] every request routes exactly as before; the size
bound is never below the local count; the engine never raises, whatever the body."""

from __future__ import annotations

import random
import string
from typing import Any

import orjson

from lynkr_cli.serve.routing import Router
from lynkr_cli.serve.scenarios import routes_for, token_bound
from lynkr_cli.serve.tokens import count_request_tokens
from tests.routing.helpers import (
    FULL,
    WEB_SEARCH_TOOL,
    fixture_body,
    known,
    router,
    scenario_router,
    settings,
)

SEED = 20_251_206
MODELS = [
    "claude-haiku-4-5-20251001", "claude-3-5-haiku-latest", "claude-opus-4-8", "claude-sonnet-5",
    "openai,gpt-4o", "databricks,endpoint", "ollama,qwen3:8b", "foo,bar", "gpt-4o-mini",
    "databricks-claude-sonnet-4-5", "", "claude-haiku-*", "CLAUDE-HAIKU",
]  # fmt: skip
THINKING = [None, {"type": "adaptive"}, {"type": "enabled", "budget_tokens": 1024},
            {"type": "disabled"}, "on", 3]  # fmt: skip
TOOLS = [None, [], [WEB_SEARCH_TOOL], [{"name": "Bash", "input_schema": {"type": "object"}}]]
PATTERNS = ["claude-haiku-*", "claude-opus-*", "claude-*", "gpt-*", "*", "foo,bar"]
TARGETS = ["openai:gpt-4o-mini", "ollama", "databricks-endpoint", "anthropic:claude-x", ""]
ALPHABETS = [
    string.ascii_letters + " ",
    "é中文日本語한국어 ",
    "😀🚀🧪 ",
    string.digits + ",:[]{} ",
    string.printable,
]


def text(rng: random.Random, size: int) -> str:
    alphabet = rng.choice(ALPHABETS)
    return "".join(rng.choice(alphabet) for _ in range(size))


def random_body(rng: random.Random) -> dict[str, Any]:
    names = [
        "tool-loop.1.messages.json",
        "routing-web-search.2.messages.json",
        "count-tokens.2.count_tokens.json",
    ]
    body = fixture_body(rng.choice(names)) if rng.random() < 0.2 else {"messages": []}
    body["model"] = rng.choice(MODELS)
    thinking = rng.choice(THINKING)
    if thinking is not None:
        body["thinking"] = thinking
    tools = rng.choice(TOOLS)
    if tools is not None:
        body["tools"] = tools
    for _ in range(rng.randrange(4)):
        body["messages"].append(random_message(rng))
    return body


def random_message(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(5)
    if kind == 0:
        return {"role": "user", "content": text(rng, rng.randrange(300))}
    if kind == 1:
        numbers = [rng.randrange(10) for _ in range(rng.randrange(200))]
        block = {"type": "tool_use", "id": "t", "name": "Read", "input": {"a": numbers}}
        return {"role": "assistant", "content": [block]}
    if kind == 2:
        inner: list[Any] = [text(rng, 20), [text(rng, 10)], 7, {"type": "text", "text": "x"}]
        block = {"type": "tool_result", "tool_use_id": "t", "content": inner}
        return {"role": "user", "content": [block]}
    if kind == 3:
        return {"role": "user", "content": [{"type": "mystery", "data": {"k": text(rng, 50)}}]}
    return {"role": "assistant", "content": [{"type": "thinking", "thinking": text(rng, 80)}]}


def random_provider(rng: random.Random) -> dict[str, Any]:
    mapping = {rng.choice(PATTERNS): rng.choice(TARGETS) for _ in range(rng.randrange(4))}
    return {
        "name": rng.choice(["databricks", "anthropic", "openai", ""]),
        "model_map": mapping,
        "fallback": rng.sample(["anthropic", "ollama", "openai"], rng.randrange(3)),
    }


def test_without_routing_every_request_routes_as_today() -> None:
    rng = random.Random(SEED)
    from lynkr_cli.registry import providers

    for _ in range(300):
        provider = random_provider(rng)
        routing = rng.choice([{}, {"long_context_threshold": rng.randrange(1, 10**6)}])
        s = settings(routing, **provider)
        b = random_body(rng)
        decision = scenario_router(s).decide(b)
        assert decision.scenario == "none" and decision.route_target is None
        p = s.provider
        # today: a fresh Router from the same settings, asked by the client's model name
        instances = {n: c(p) for n, c in providers().items()}
        today = Router(p.name, p.model_map, instances, p.fallback).routes(b["model"])
        assert routes_for(decision, router(s), b["model"]) == today


def test_the_size_bound_is_never_below_the_count() -> None:
    rng = random.Random(SEED + 1)
    checked = 0
    for _ in range(400):
        b = random_body(rng)
        bound = token_bound(orjson.dumps(b))
        if bound is None:
            continue
        assert count_request_tokens(b) <= bound, b
        checked += 1
    for name in ("tool-loop.2.messages.json", "routing-haiku.1.messages.json"):
        b = fixture_body(name)
        bound = token_bound(orjson.dumps(b))
        assert bound is not None and count_request_tokens(b) <= bound
    assert checked > 300


def test_the_engine_never_raises() -> None:
    rng = random.Random(SEED + 2)
    values: list[Any] = [None, 1, "x", [], {}, [None], {"type": None}, 1.5, True, "a" * 5000]
    sr = scenario_router(settings({**FULL, "long_context_threshold": 50}))
    names = known()
    assert names
    for _ in range(500):
        b: dict[str, Any] = {
            key: rng.choice(values)
            for key in ("model", "messages", "system", "tools", "thinking")
            if rng.random() < 0.8
        }
        decision = sr.decide(b)
        assert decision.scenario in ("explicit", "long_context", "background", "web_search",
                                     "think", "default")  # fmt: skip
        assert sr.checks(b)
