"""The scenario engine: each scenario, the priority order, the explicit override, the
token bound, and the hand-off to the model map."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lynkr_cli.serve.scenarios import (
    COUNT_LIMIT,
    Decision,
    Target,
    decide,
    routes_for,
    token_bound,
)
from lynkr_cli.serve.tokens import count_request_tokens
from tests.routing.helpers import (
    FULL,
    WEB_SEARCH_TOOL,
    body,
    known,
    router,
    scenario_router,
    settings,
)

HAIKU = "claude-haiku-4-5-20251001"
THINK = {"type": "enabled", "budget_tokens": 31999}


def huge_text(tokens: int) -> str:
    # distinct words, so the estimate grows with the text (a repeated word merges)
    return " ".join(f"w{i}x" for i in range(tokens))


def run(b: dict[str, Any], routing: dict[str, Any] | None = None, **kw: Any) -> Decision:
    return scenario_router(settings(FULL if routing is None else routing), **kw).decide(b)


# -- no [routing]: nothing changes ---------------------------------------------------------
def test_no_routing_is_none_and_never_counts() -> None:
    calls: list[Any] = []
    d = run(body(model=HAIKU, thinking=THINK), {}, count=calls.append)
    assert d.scenario == "none" and d.route_target is None and calls == []
    assert "provider.model_map decides" in d.reason


def test_a_threshold_alone_is_not_routing() -> None:
    d = run(body(), {"long_context_threshold": 10})
    assert d.scenario == "none"


# -- each scenario ---------------------------------------------------------------------------
def test_background_is_the_haiku_family() -> None:
    for model in (HAIKU, "claude-3-5-haiku-latest", "claude-3-haiku-20240307", "Claude-Haiku-4-5"):
        d = run(body(model=model))
        assert d.scenario == "background", model
        assert d.route_target == Target("openai", "gpt-4o-mini")
        assert d.reason == f"model {model} is in the haiku family"
    for model in ("claude-sonnet-4-5", "haiku-poem-model", "gpt-4o-mini"):
        assert run(body(model=model)).scenario == "default", model


def test_web_search_is_a_server_tool_by_type() -> None:
    d = run(body(tools=[{"name": "Bash", "input_schema": {}}, WEB_SEARCH_TOOL]))
    assert d.scenario == "web_search"
    assert d.reason == "tools include the web_search_20250305 server tool"
    assert d.route_target == Target("ollama", "qwen3:8b")
    # Claude Code's own WebSearch tool is a client tool (no type): not the server tool
    client_tool = {"name": "WebSearch", "description": "search", "input_schema": {}}
    assert run(body(tools=[client_tool])).scenario == "default"


def test_think_is_an_explicit_thinking_budget_not_adaptive() -> None:
    d = run(body(thinking=THINK))
    assert d.scenario == "think"
    assert d.reason == "thinking is enabled (budget_tokens 31999)"
    for thinking in ({"type": "adaptive"}, {"type": "disabled"}, None, "yes", {"type": 3}):
        fields = {} if thinking is None else {"thinking": thinking}
        assert run(body(**fields)).scenario == "default", thinking


def test_long_context_counts_with_the_local_counter() -> None:
    b = body(messages=[{"role": "user", "content": huge_text(70_000)}])
    d = run(b)
    assert d.scenario == "long_context"
    assert d.tokens_counted == count_request_tokens(b) > 60_000
    assert d.reason == f"~{d.tokens_counted:,} input tokens > long_context_threshold 60000"
    assert d.route_target == Target("anthropic", "claude-sonnet-4-5")


def test_long_context_threshold_is_strictly_above() -> None:
    b = body(messages=[{"role": "user", "content": huge_text(100)}])
    at = {**FULL, "long_context_threshold": 500}
    assert run(b, at, count=lambda _b: 500).scenario == "default"
    assert run(b, at, count=lambda _b: 501).scenario == "long_context"


def test_default_with_and_without_its_target() -> None:
    d = run(body())
    assert d.scenario == "default"
    assert d.route_target == Target("databricks", "databricks-claude-sonnet-4-5")
    assert d.setting == "routing.default"
    partial = {"background": "openai/gpt-4o-mini"}
    d = run(body(), partial)
    assert d.scenario == "default" and d.route_target is None and d.setting == ""
    assert "routing.default is not set: provider.model_map decides" in d.reason


# -- priority --------------------------------------------------------------------------------
def everything(tokens: int = 70_000) -> dict[str, Any]:
    """A body every scenario matches."""
    return body(
        model=HAIKU,
        thinking=THINK,
        tools=[WEB_SEARCH_TOOL],
        messages=[{"role": "user", "content": huge_text(tokens)}],
    )


def test_priority_order_is_claude_code_routers() -> None:
    order = ["long_context", "background", "web_search", "think", "default"]
    routing = dict(FULL)
    for expected in order:
        assert run(everything(), routing).scenario == expected
        routing.pop(expected)
    assert run(everything(), routing).scenario == "none"


def test_explicit_beats_every_scenario() -> None:
    b = {**everything(), "model": "openai,gpt-4.1"}
    d = run(b)
    assert d.scenario == "explicit" and d.route_target == Target("openai", "gpt-4.1")
    assert d.tokens_counted is None  # decided before anything was counted


def test_a_scenario_without_a_target_is_skipped() -> None:
    # haiku with thinking, background unset: think takes it, as claude-code-router does
    d = run(body(model=HAIKU, thinking=THINK), {"think": "openai/o3"})
    assert d.scenario == "think"


def test_long_context_is_not_counted_when_unset() -> None:
    calls: list[Any] = []
    d = run(everything(), {"background": "openai/gpt-4o-mini"}, count=calls.append)
    assert d.scenario == "background" and calls == []


# -- the explicit override -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "target"),
    [
        ("openai,gpt-4o", Target("openai", "gpt-4o")),
        ("Azure_Anthropic,claude-opus-4-1", Target("azure-anthropic", "claude-opus-4-1")),
        ("ollama, qwen3:8b", Target("ollama", "qwen3:8b")),
        ("databricks,my-endpoint,v2", Target("databricks", "my-endpoint,v2")),
    ],
)
def test_explicit_provider_model(model: str, target: Target) -> None:
    d = run(body(model=model))
    assert d.scenario == "explicit" and d.route_target == target
    assert target.provider in d.reason


@pytest.mark.parametrize("model", ["foo,bar", "openai,", ",gpt-4o", "gpt-4o, but cheaper"])
def test_a_comma_without_a_provider_is_just_a_model_name(model: str) -> None:
    assert run(body(model=model)).scenario == "default"


def test_explicit_only_reaches_providers_in_use() -> None:
    # openai is registered but this gateway routes nothing to it
    s = settings({"background": "anthropic/claude-haiku-4-5"}, name="databricks")
    sr = scenario_router(s)
    assert sr.decide(body(model="openai,gpt-4o")).scenario == "default"
    check = sr.checks(body(model="openai,gpt-4o"))[0]
    assert not check.matched and "does not route to" in check.detail
    # the model map and fallback put a provider in use too
    s = settings(
        {"background": "anthropic/claude-haiku-4-5"},
        name="databricks",
        model_map={"gpt-*": "openai:gpt-4o"},
        fallback=["ollama"],
    )
    for model in ("openai,gpt-4o", "ollama,qwen3"):
        assert scenario_router(s).decide(body(model=model)).scenario == "explicit"


# -- the size bound ---------------------------------------------------------------------------
def test_small_bodies_are_not_tokenized() -> None:
    calls: list[Any] = []
    d = run(body(), count=calls.append)
    assert calls == [] and d.tokens_counted is None and d.scenario == "default"


def test_images_and_documents_are_always_counted() -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://x/a.png"}}
    doc = {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}
    for block in (image, doc):
        b = body(messages=[{"role": "user", "content": [block] * 50}])
        assert token_bound(orjson.dumps(b)) is None
        d = run(b, {**FULL, "long_context_threshold": 60_000})
        assert d.tokens_counted == count_request_tokens(b)
    b = body(messages=[{"role": "user", "content": [image] * 40}])
    assert run(b).scenario == "long_context"  # 40 images x 1,600 tokens, in 2 kB


def test_raw_bytes_are_used_when_given() -> None:
    b = body()
    padded = orjson.dumps(b) + b" " * 60_000  # what a pretty-printed body could weigh
    calls: list[int] = []
    sr = scenario_router(settings(FULL), count=lambda x: calls.append(1) or 7)
    assert sr.decide(b, raw=padded).tokens_counted == 7 and calls == [1]


def test_huge_bodies_are_estimated_from_size() -> None:
    calls: list[Any] = []
    b = body(messages=[{"role": "user", "content": "a " * (COUNT_LIMIT // 2 + 10)}])
    d = run(b, count=calls.append)
    assert calls == [] and d.scenario == "long_context"
    assert "estimated from" in d.reason
    assert d.tokens_counted == len(orjson.dumps(b)) // 4


def test_an_unserialisable_body_is_counted_not_skipped() -> None:
    deep: Any = "x"
    for _ in range(300):
        deep = [deep]  # orjson refuses this depth
    b = body(messages=[{"role": "user", "content": [{"type": "x", "data": deep}]}])
    d = run(b, count=lambda _b: 5)
    assert d.tokens_counted == 5


# -- the hand-off to the upstream ----------------------------------------------------------------
def test_routes_for_a_target_then_the_fallbacks() -> None:
    s = settings(FULL, name="databricks", fallback=["anthropic"])
    d = scenario_router(s).decide(body(model=HAIKU))
    routes = routes_for(d, router(s), HAIKU)
    assert [(r.provider, r.upstream_model, r.client_model) for r in routes] == [
        ("openai", "gpt-4o-mini", HAIKU),
        ("anthropic", HAIKU, HAIKU),
    ]


def test_a_provider_alone_takes_its_default_model() -> None:
    s = settings({"background": "openai"}, name="databricks")
    d = scenario_router(s).decide(body(model=HAIKU))
    assert d.route_target == Target("openai", "")
    assert routes_for(d, router(s), HAIKU)[0].upstream_model == "gpt-4o"


def test_no_target_leaves_it_to_the_model_map() -> None:
    s = settings(
        {"think": "openai/o3"}, name="databricks", model_map={"claude-haiku-*": "ollama:qwen3"}
    )
    d = scenario_router(s).decide(body(model=HAIKU))
    assert d.scenario == "default" and d.route_target is None
    assert routes_for(d, router(s), HAIKU) == router(s).routes(HAIKU)
    assert routes_for(d, router(s), HAIKU)[0].provider == "ollama"


def test_decide_takes_whole_settings() -> None:
    d = decide(body(model=HAIKU), settings(FULL), providers=known())
    assert d.scenario == "background"
    assert d.as_dict() == {
        "scenario": "background",
        "target": "openai/gpt-4o-mini",
        "reason": f"model {HAIKU} is in the haiku family",
        "tokens_counted": None,
    }
