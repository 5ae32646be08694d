"""The guard on the real gateway's request path: warn counts, redact rewrites what the
upstream receives, block refuses with a 400 naming kind and place — per gateway and per
key, on /v1/messages, count_tokens and /v1/chat/completions."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.serve.conftest import FAMILIES, fake, gateway, provider_settings

__all__ = ["fake", "gateway"]
pytestmark = pytest.mark.timeout(60)
AWS = "AKIA" + "Z7QW3XK9P2LM4N6R"
SHA = "9f2c1e4b7a0d3f6e8c5b2a1d4e7f0c3b6a9d2e5f"  # a git SHA: never a finding
SIGNED = {"type": "thinking", "thinking": f"the user pasted {AWS}", "signature": "sig-abc"}


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 30,
        **extra,
        "messages": [{"role": "user", "content": text}],
    }


async def post(url: str, doc: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        return await http.post("/v1/messages", json=doc, headers=headers)


async def test_warn_counts_and_sends_unchanged(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up))  # guard.mode defaults to warn
    assert (await post(gw.url, body(f"my key {AWS} at commit {SHA}"))).status_code == 200
    assert AWS in json.dumps(up.bodies[-1]) and SHA in json.dumps(up.bodies[-1])
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        metrics = (await http.get("/metrics")).text
    assert 'lynkr_guard_findings_total{kind="aws_access_key",mode="warn"} 1.0' in metrics


async def test_redact_rewrites_only_what_it_must(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **{"guard.mode": "redact"})
    history = [
        {"role": "user", "content": f"deploy with {AWS}, commit {SHA}"},
        {"role": "assistant", "content": [SIGNED, {"type": "text", "text": "ok"}]},
        {"role": "user", "content": "and now?"},
    ]
    resp = await post(gw.url, {**body("x"), "messages": history})
    assert resp.status_code == 200, resp.text
    sent = up.bodies[-1]["messages"]
    assert sent[0]["content"] == f"deploy with [REDACTED:aws_access_key], commit {SHA}"
    assert sent[1]["content"][0] == SIGNED  # a signed thinking block is never changed


async def test_block_refuses_naming_kind_and_place(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **{"guard.mode": "block"})
    resp = await post(gw.url, body(f"here: {AWS}"))
    assert resp.status_code == 400
    message = resp.json()["error"]["message"]
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert "aws_access_key" in message and "messages.0" in message and AWS not in message
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        count = await http.post(
            "/v1/messages/count_tokens",
            json={"model": "claude-x", "messages": [{"role": "user", "content": AWS}]},
        )
    assert count.status_code == 400
    assert up.seen == []
    assert (await post(gw.url, body(f"commit {SHA} is fine"))).status_code == 200


async def test_a_keys_own_mode_wins(invoke, gateway, fake) -> None:
    strict = json.loads(invoke("keys", "create", "ci", "--guard", "block", "--json").stdout)
    lax = json.loads(invoke("keys", "create", "dev", "--json").stdout)
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up))
    assert (await post(gw.url, body(AWS), strict["key"])).status_code == 400
    assert (await post(gw.url, body(AWS), lax["key"])).status_code == 200  # gateway: warn


async def test_openai_clients_are_guarded_too(gateway, fake) -> None:
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up), **{"guard.mode": "redact"})
    sdk = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)
    done = await sdk.chat.completions.create(
        model="gpt-x", messages=[{"role": "user", "content": f"key {AWS}"}]
    )
    assert done.choices[0].message.content
    sent = json.dumps(up.bodies[-1])
    assert AWS not in sent and "[REDACTED:aws_access_key]" in sent
    await sdk.close()
