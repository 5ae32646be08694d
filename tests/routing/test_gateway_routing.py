"""[routing] through the real gateway: each scenario reaches its upstream, and the
answer says which (``x-lynkr-route``); without [routing], nothing changes."""

from __future__ import annotations

import json

import httpx

from tests.conftest import fixture_path
from tests.serve.conftest import FAMILIES, provider_settings

HAIKU = {
    "model": "claude-haiku-4-5",
    "max_tokens": 20,
    "messages": [{"role": "user", "content": "title this"}],
}
SONNET = {**HAIKU, "model": "claude-sonnet-4-5"}


async def test_scenarios_pick_their_upstream_and_say_so(gateway, fake) -> None:
    main = await fake(**FAMILIES["anthropic"])
    cheap = await fake(**FAMILIES["openai"])
    settings = {**provider_settings("anthropic", main), **provider_settings("openai", cheap)}
    settings["provider.name"] = "anthropic"
    settings["routing.background"] = "openai/gpt-mini"
    settings["routing.think"] = "anthropic/claude-opus-4-5"
    gw = await gateway(**settings)
    thinking = {
        **SONNET,
        "max_tokens": 3000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        background = await http.post("/v1/messages", json=HAIKU)
        think = await http.post("/v1/messages", json=thinking)
        default = await http.post("/v1/messages", json=SONNET)
        count = await http.post(
            "/v1/messages/count_tokens",
            json={"model": "claude-haiku-4-5", "messages": HAIKU["messages"]},
        )
        explicit = await http.post("/v1/messages", json={**SONNET, "model": "openai,gpt-x"})
    assert background.status_code == 200, background.text
    assert background.headers["x-lynkr-route"] == "background"
    assert background.json()["model"] == "claude-haiku-4-5"  # the client's name comes back
    assert cheap.bodies[0]["model"] == "gpt-mini"
    assert think.headers["x-lynkr-route"] == "think"
    assert main.bodies[0]["model"] == "claude-opus-4-5"
    assert default.headers["x-lynkr-route"] == "default"
    assert main.bodies[1]["model"] == "claude-sonnet-4-5"
    assert count.status_code == 200 and count.headers["x-lynkr-route"] == "background"
    assert explicit.headers["x-lynkr-route"] == "explicit"
    assert cheap.bodies[-1]["model"] == "gpt-x"


async def test_without_routing_nothing_changes(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=HAIKU)
    assert resp.status_code == 200 and "x-lynkr-route" not in resp.headers


async def test_a_captured_claude_code_request_lands_on_background(gateway, fake) -> None:
    main = await fake(**FAMILIES["anthropic"])
    cheap = await fake(**FAMILIES["openai"])
    settings = {**provider_settings("anthropic", main), **provider_settings("openai", cheap)}
    settings.update({"provider.name": "anthropic", "routing.background": "openai/gpt-mini"})
    gw = await gateway(**settings)
    body = json.loads(fixture_path("routing-explore.2.messages.json").read_text())["body"]
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages?beta=true", json=body)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["x-lynkr-route"] == "background"
