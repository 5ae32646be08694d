"""Requests the real Claude Code CLI sent land on the right route: the saved captures in
tests/fixtures/claude-code, and a fresh capture from the CLI in .tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.routing.claude_capture import RUNS, capture
from tests.routing.helpers import FULL, fixture_body, scenario_router, settings

# What each capture is, and where a gateway with every scenario set sends it.
EXPECTED = {
    # the main request (opus, thinking adaptive, 24 tools), trimmed texts
    "tool-loop.1.messages.json": "default",
    "tool-loop.2.messages.json": "default",  # the same after a Bash tool_result
    "count-tokens.1.messages.json": "default",
    "count-tokens.3.messages.json": "default",
    # the count_tokens body Claude Code sends for a large tool result
    "count-tokens.2.count_tokens.json": "default",
    # untrimmed: the main request on haiku (thinking enabled, budget 31999)
    "routing-haiku.1.messages.json": "background",
    # untrimmed main request on opus, then Claude Code's own web search request
    "routing-web-search.1.messages.json": "default",
    "routing-web-search.2.messages.json": "web_search",
    # the Explore subagent: haiku, thinking disabled, 17 tools
    "routing-explore.2.messages.json": "background",
}


@pytest.mark.parametrize(("name", "scenario"), sorted(EXPECTED.items()))
def test_captured_requests_land_on_their_route(name: str, scenario: str) -> None:
    decision = scenario_router(settings(FULL)).decide(fixture_body(name))
    assert decision.scenario == scenario, decision


def test_every_capture_routes_somewhere() -> None:
    from tests.conftest import FIXTURES

    names = {p.name for p in FIXTURES.glob("*.json")}
    assert set(EXPECTED) <= names
    sr = scenario_router(settings(FULL))
    for name in names:  # captures added later too: decided, never an error
        assert sr.decide(fixture_body(name)).scenario in {*sr.targets, "explicit"}


def test_adaptive_main_requests_go_to_think_only_if_asked() -> None:
    # claude-code-router's think catches any `thinking`; lynkr's only an explicit budget
    body = fixture_body("routing-web-search.1.messages.json")
    assert body["thinking"] == {"type": "adaptive"}
    assert scenario_router(settings(FULL)).decide(body).scenario == "default"


def test_haiku_main_request_without_background_is_think() -> None:
    body = fixture_body("routing-haiku.1.messages.json")
    assert body["thinking"]["type"] == "enabled"
    routing = {k: v for k, v in FULL.items() if k != "background"}
    assert scenario_router(settings(routing)).decide(body).scenario == "think"


def test_claude_code_sized_requests_with_a_low_threshold_are_long_context() -> None:
    body = fixture_body("routing-web-search.1.messages.json")
    low = scenario_router(settings({**FULL, "long_context_threshold": 10_000})).decide(body)
    assert low.scenario == "long_context" and low.tokens_counted is not None
    assert low.tokens_counted > 10_000


def test_no_routing_is_none_for_every_capture() -> None:
    sr = scenario_router(settings({}))
    for name in EXPECTED:
        assert sr.decide(fixture_body(name)).scenario == "none"


# -- live: the CLI in .tools, through a recording upstream ---------------------------------------
LIVE = {
    "routing-haiku": ["background"],
    "routing-web-search": ["default", "web_search", "default"],
    "routing-explore": ["default", "background", "default"],
}


@pytest.mark.e2e
@pytest.mark.timeout(300)
async def test_a_fresh_capture_from_the_real_cli_routes_the_same(tmp_path: Path) -> None:
    sr = scenario_router(settings(FULL))
    for stem, prompt, extra, _keep in RUNS:
        seen = await capture(tmp_path / stem, prompt, *extra)  # skips without the CLI
        bodies: list[dict[str, Any]] = [s.body for s in seen if s.path == "/v1/messages"]
        got = [sr.decide(b).scenario for b in bodies]
        assert got == LIVE[stem], (stem, [b.get("model") for b in bodies])
