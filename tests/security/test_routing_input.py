"""Scenario routing under hostile input: a client cannot pick an upstream the operator
did not route to, its text cannot forge log lines or terminal output, and
``lynkr route explain`` shows no key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.routing.helpers import FULL, body, scenario_router, settings

CANARY_OPENAI = "sk-canary-openai-7f3a9c1d2e4b"
CANARY_ANTHROPIC = "sk-ant-canary-5e6f7a8b9c0d"


def test_a_client_cannot_reach_a_provider_nobody_routes_to() -> None:
    # anthropic's key is set in the environment for other tools; this gateway only
    # routes to databricks and openai, so "anthropic,..." is just a model name
    s = settings({"background": "openai/gpt-4o-mini"}, name="databricks")
    for model in ("anthropic,claude-opus-4-8", "ANTHROPIC,claude-opus-4-8", "azure_anthropic,x"):
        decision = scenario_router(s).decide(body(model=model))
        assert decision.scenario == "default" and decision.route_target is None


def test_client_text_in_reasons_is_short_and_has_no_control_characters() -> None:
    sr = scenario_router(settings(FULL))
    hostile = "claude-haiku\r\nx-lynkr-route: explicit\x1b[31m" + "h" * 10_000
    for model in (hostile, "openai," + hostile):
        decision = sr.decide(body(model=model))
        reasons = [decision.reason, *(c.detail for c in sr.checks(body(model=model)))]
        for reason in reasons:
            assert "\r" not in reason and "\n" not in reason and "\x1b" not in reason
            assert len(reason) < 400
    weird = {"type": "web_search\n" + "w" * 5000}
    assert "\n" not in sr.decide(body(tools=[weird])).reason
    thinking = {"type": "enabled", "budget_tokens": ["\n"] * 1000}
    assert len(sr.decide(body(thinking=thinking)).reason) < 200


def test_explain_shows_no_key(invoke: Any, workdir: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY_OPENAI)
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY_ANTHROPIC)
    (workdir / "lynkr.toml").write_text(
        '[provider]\nname = "anthropic"\n[routing]\nbackground = "openai/gpt-4o-mini"\n'
    )
    path = workdir / "req.json"
    path.write_text(json.dumps(body(model="claude-haiku-4-5")))
    for args in ((), ("--json",)):
        result = invoke("route", "explain", str(path), *args)
        assert result.exit_code == 0, result.stderr
        for canary in (CANARY_OPENAI, CANARY_ANTHROPIC):
            assert canary not in result.stdout and canary not in result.stderr
