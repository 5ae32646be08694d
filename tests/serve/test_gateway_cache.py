"""Prompt cache, access log and metrics on real requests."""

from __future__ import annotations

import asyncio
import io
import json

import anthropic
import httpx
from aiohttp import web

from lynkr_cli import logs
from tests.serve import fakes
from tests.serve.conftest import FAMILIES, provider_settings

BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
CACHE_ON = {"cache.enabled": True}


async def settle(gw) -> None:
    """Wait for background cache writes (they run off the event loop)."""
    for _ in range(100):
        if not gw.gw.background:
            return
        await asyncio.sleep(0.01)


async def test_cache_miss_then_hit_as_json_and_sse(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        first = await http.post("/v1/messages", json=BODY)
        await settle(gw)
        second = await http.post("/v1/messages", json=BODY)
        streamed = await http.post("/v1/messages", json={**BODY, "stream": True})
        bypass = await http.post("/v1/messages", json=BODY, headers={"cache-control": "no-cache"})
    assert first.headers["x-lynkr-cache"] == "miss"
    assert second.headers["x-lynkr-cache"] == "hit"
    assert second.json()["content"] == first.json()["content"]
    assert second.json()["usage"]["output_tokens"] == 5
    # the stream flag is not part of the key: a JSON answer replays as SSE
    assert streamed.headers["x-lynkr-cache"] == "hit"
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert streamed.text.startswith("event: message_start")
    assert streamed.text.rstrip().endswith('data: {"type":"message_stop"}')
    assert bypass.headers["x-lynkr-cache"] == "bypass"
    assert len(up.seen) == 2  # the first request and the bypass


async def test_hits_echo_each_clients_model_from_one_entry(gateway, fake) -> None:
    """Two client names mapped to one upstream model share the cache entry; each hit,
    rendered once and then served from the entry's rendered bytes, echoes its own."""
    up = await fake(**FAMILIES["anthropic"])
    mapped = {"provider.model_map": {"claude-*": "anthropic:up-model"}}
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON, **mapped)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        await http.post("/v1/messages", json=BODY)
        await settle(gw)
        for _ in range(2):  # the second round is served from the rendered bytes
            for model in ("claude-x", "claude-y"):
                for stream in (False, True):
                    resp = await http.post(
                        "/v1/messages", json={**BODY, "model": model, "stream": stream}
                    )
                    assert resp.headers["x-lynkr-cache"] == "hit"
                    text = resp.text
                    doc = json.loads(
                        text if not stream else text.split("data: ", 2)[1].split("\n")[0]
                    )
                    got = doc["model"] if not stream else doc["message"]["model"]
                    assert got == model, (model, stream)
    assert len(up.seen) == 1


async def test_stream_hit_replays_as_sse_for_the_sdk(gateway, fake) -> None:
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up), **CACHE_ON)
    async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0) as sdk:
        first = await sdk.messages.create(**BODY)
        await settle(gw)
        async with sdk.messages.stream(**BODY) as stream:
            replayed = await stream.get_final_message()
            raw = stream.response.headers["x-lynkr-cache"]
    assert raw == "hit"
    assert replayed.content[0].text == first.content[0].text == "Hello from upstream"
    assert replayed.model == "claude-x" and replayed.stop_reason == "end_turn"
    assert len(up.seen) == 1


async def test_tool_use_answers_are_not_cached(gateway, fake) -> None:
    async def tool_reply(request: web.Request, body: dict) -> web.StreamResponse:
        msg = fakes.message("", body["model"], stop_reason="tool_use")
        msg["content"] = [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]
        return web.json_response(msg)

    up = await fake(**FAMILIES["anthropic"], reply=tool_reply)
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        for _ in range(2):
            resp = await http.post("/v1/messages", json=BODY)
            await settle(gw)
            assert resp.headers["x-lynkr-cache"] == "miss"
    assert len(up.seen) == 2


async def test_billing_block_is_not_part_of_the_key(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON)

    def body(cch: str) -> dict:
        system = [
            {"type": "text", "text": f"x-anthropic-billing-header: cc_version=2.1; cch={cch};"},
            {"type": "text", "text": "You are Claude Code."},
        ]
        return {**BODY, "system": system}

    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        a = await http.post("/v1/messages", json=body("aaa"))
        await settle(gw)
        b = await http.post("/v1/messages", json=body("bbb"))
        c = await http.post("/v1/messages", json={**body("ccc"), "max_tokens": 11})
    assert [r.headers["x-lynkr-cache"] for r in (a, b, c)] == ["miss", "hit", "miss"]


async def test_incomplete_stream_is_not_cached(gateway, fake) -> None:
    async def short(request: web.Request, body: dict) -> web.StreamResponse:
        return await fakes.send_events(request, fakes.text_events("x", body["model"])[:6])

    up = await fake(**FAMILIES["anthropic"], reply=short)
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        for _ in range(2):
            await http.post("/v1/messages", json={**BODY, "stream": True})
            await settle(gw)
    assert len(up.seen) == 2


async def test_access_log_line_has_the_fields_and_no_secrets(gateway, fake) -> None:
    stream = io.StringIO()
    logs.configure("info", stream)
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up), **{"server.access_log": True})
    headers = {"x-api-key": "sk-client-secret-123456", "authorization": "Bearer sk-abcdefgh12345"}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        await http.post("/v1/messages", json={**BODY, "stream": True}, headers=headers)
    await asyncio.sleep(0.2)  # lines are written in batches, within 50 ms
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(x for x in lines if x.get("event") == "request")
    assert line["provider"] == "openai" and line["client_model"] == "claude-x"
    assert line["upstream_model"] == "gpt-test" and line["status"] == 200
    assert line["usage"] == {"input": 11, "output": 5}
    assert line["cache"] in ("miss", "bypass") and line["request_id"].startswith("req_")
    assert line["latency_ms"] >= line["ttfb_ms"] >= 0
    text = stream.getvalue()
    assert "sk-client-secret" not in text and "up-key" not in text and "sk-abcdefgh" not in text


def test_access_log_timestamp_matches_isoformat() -> None:
    import random
    from datetime import UTC, datetime

    from lynkr_cli.serve.access import _timestamp

    rng = random.Random(7)
    walls = [rng.uniform(0, 2e9) for _ in range(20_000)] + [1.9999999, 1e9 + 0.9999996, 0.0]
    for wall in walls:
        assert _timestamp(wall) == datetime.fromtimestamp(wall, UTC).isoformat("T", "microseconds")


JSON = "application/json"


async def test_metrics_count_requests_tokens_and_errors(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **CACHE_ON)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        await http.post("/v1/messages", json=BODY)
        await settle(gw)
        await http.post("/v1/messages", json=BODY)
        await http.post("/v1/messages", content=b"{", headers={"content-type": JSON})
        await http.post("/v1/messages", content=b"{")  # no Content-Type: 415
        text = (await http.get("/metrics")).text
    assert 'lynkr_requests_total{provider="anthropic",route="messages",status="200"} 2.0' in text
    assert 'status="400"' in text and 'status="415"' in text
    assert 'lynkr_cache_total{result="hit"} 1.0' in text
    assert 'lynkr_cache_total{result="miss"} 1.0' in text
    assert 'lynkr_tokens_total{kind="output",provider="anthropic"} 10.0' in text
    assert "lynkr_ttfb_seconds_bucket" in text and "lynkr_request_seconds_bucket" in text
