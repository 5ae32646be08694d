"""Upstream faults: what the client receives, and how many upstream attempts were made."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
from aiohttp import web

from tests.serve import fakes
from tests.serve.conftest import FAMILIES, provider_settings

BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**BODY, "stream": True}
FAST_RETRY = {"provider.max_retries": 2, "provider.retry_max_wait": 0.05}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def post(url: str, body: dict) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        return await http.post("/v1/messages", json=body)


def error_of(resp: httpx.Response) -> dict:
    doc = resp.json()
    assert doc["type"] == "error" and resp.headers["request-id"] == doc["request_id"]
    return doc["error"]


def attempts(gw, provider: str = "anthropic") -> float:
    return gw.gw.metrics.value("lynkr_upstream_attempts", provider)


async def test_refused_connection_retries_then_502(gateway) -> None:
    port = free_port()
    settings = {
        "provider.name": "anthropic",
        "provider.anthropic_api_key": "k",
        "provider.anthropic_endpoint": f"http://127.0.0.1:{port}/v1/messages",
    }
    gw = await gateway(**settings, **FAST_RETRY)
    resp = await post(gw.url, BODY)
    assert resp.status_code == 502
    err = error_of(resp)
    assert err["type"] == "api_error" and "unreachable" in err["message"]
    assert attempts(gw) == 3


async def test_timeout_before_headers_is_504_after_retries(gateway, fake) -> None:
    async def slow(request: web.Request, body: dict) -> web.StreamResponse:
        await asyncio.sleep(5)
        return web.json_response({})

    up = await fake(**FAMILIES["anthropic"], reply=slow)
    gw = await gateway(
        **provider_settings("anthropic", up),
        **{**FAST_RETRY, "provider.max_retries": 1, "provider.first_byte_timeout": 0.2},
    )
    resp = await post(gw.url, STREAM)
    assert resp.status_code == 504
    err = error_of(resp)
    assert err["type"] == "timeout_error" and "first_byte_timeout" in err["message"]
    assert len(up.seen) == 2


async def test_reset_mid_stream_is_an_error_event_not_a_message_stop(gateway, fake) -> None:
    async def cut(request: web.Request, body: dict) -> web.StreamResponse:
        events = fakes.text_events("partial answer", body["model"])
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"".join(fakes.sse(e) for e in events[:4]))
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()  # a TCP reset in the middle of the stream
        return resp

    for family in ("anthropic", "openai"):
        reply = cut if family == "anthropic" else _openai_cut
        up = await fake(**FAMILIES[family], reply=reply)
        gw = await gateway(**provider_settings(family, up), **FAST_RETRY)
        resp = await post(gw.url, STREAM)
        assert resp.status_code == 200
        lines = resp.text.splitlines()
        assert lines[0] == "event: message_start"
        assert "event: message_stop" not in lines
        error = json.loads([ln for ln in lines if ln.startswith("data: ")][-1][6:])
        assert error["type"] == "error" and error["error"]["type"] == "api_error"
        assert len(up.seen) == 1  # no retry once bytes reached the client


async def _openai_cut(request: web.Request, body: dict) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(f"data: {json.dumps(fakes.chunk({'content': 'partial'}))}\n\n".encode())
    await asyncio.sleep(0.05)
    assert request.transport is not None
    request.transport.abort()
    return resp


async def test_clean_eof_without_message_stop_is_an_error_event(gateway, fake) -> None:
    async def short(request: web.Request, body: dict) -> web.StreamResponse:
        return await fakes.send_events(request, fakes.text_events("x", body["model"])[:5])

    up = await fake(**FAMILIES["anthropic"], reply=short)
    gw = await gateway(**provider_settings("anthropic", up))
    resp = await post(gw.url, STREAM)
    assert "event: message_stop" not in resp.text
    assert "event: error" in resp.text and "before message_stop" in resp.text


async def test_malformed_upstream_json(gateway, fake) -> None:
    async def junk(request: web.Request, body: dict) -> web.StreamResponse:
        if body.get("stream"):
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            await resp.write(b"data: {this is not json\n\n")
            await resp.write_eof()
            return resp
        return web.Response(body=b"{oops", content_type="application/json")

    for family in ("anthropic", "openai"):
        up = await fake(**FAMILIES[family], reply=junk)
        gw = await gateway(**provider_settings(family, up), **FAST_RETRY)
        resp = await post(gw.url, BODY)
        assert resp.status_code == 502
        assert "malformed JSON" in error_of(resp)["message"]
        streamed = await post(gw.url, STREAM)
        # nothing valid was sent yet, so the client still gets a proper HTTP error
        assert streamed.status_code == 502 and "malformed JSON" in error_of(streamed)["message"]
        assert len(up.seen) == 2  # a 200 with junk is not retried


async def test_429_retry_after_is_honoured(gateway, fake) -> None:
    calls: list[float] = []

    async def limited(request: web.Request, body: dict) -> web.StreamResponse:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return web.json_response(
                {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                status=429,
                headers={"retry-after": "1"},
            )
        return await fakes.anthropic_text(request, body)

    up = await fake(**FAMILIES["anthropic"], reply=limited)
    gw = await gateway(
        **provider_settings("anthropic", up),
        **{"provider.max_retries": 2, "provider.retry_max_wait": 5},
    )
    resp = await post(gw.url, BODY)
    assert resp.status_code == 200
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 1.0  # waited at least Retry-After


async def test_429_with_long_retry_after_goes_to_the_client(gateway, fake) -> None:
    async def limited(request: web.Request, body: dict) -> web.StreamResponse:
        return web.json_response(
            {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
            status=429,
            headers={"retry-after": "120"},
        )

    up = await fake(**FAMILIES["anthropic"], reply=limited)
    gw = await gateway(**provider_settings("anthropic", up), **FAST_RETRY)
    resp = await post(gw.url, BODY)
    assert resp.status_code == 429 and resp.headers["retry-after"] == "120"
    assert error_of(resp)["type"] == "rate_limit_error"
    assert len(up.seen) == 1


async def test_5xx_retried_then_succeeds(gateway, fake) -> None:
    async def flaky(request: web.Request, body: dict) -> web.StreamResponse:
        if len(up.seen) < 3:
            return web.json_response({"error": {"message": "overloaded"}}, status=529)
        return await fakes.anthropic_text(request, body)

    up = await fake(**FAMILIES["anthropic"], reply=flaky)
    gw = await gateway(**provider_settings("anthropic", up), **FAST_RETRY)
    resp = await post(gw.url, STREAM)
    assert resp.status_code == 200 and "event: message_stop" in resp.text
    assert len(up.seen) == 3
    retries = gw.gw.metrics.value("lynkr_retries", "anthropic")
    assert retries == 2


async def test_rejected_credential_names_the_setting(gateway, fake) -> None:
    up = await fake(**FAMILIES["databricks"])
    settings = provider_settings("databricks", up)
    settings["provider.databricks_api_key"] = "wrong"
    gw = await gateway(**settings, **FAST_RETRY)
    resp = await post(gw.url, BODY)
    assert resp.status_code == 401
    message = error_of(resp)["message"]
    assert "DATABRICKS_API_KEY" in message and "not your client key" in message
    assert resp.headers["x-should-retry"] == "false"
    assert len(up.seen) == 1


async def test_upstream_400_is_the_clients_fault(gateway, fake) -> None:
    async def reject(request: web.Request, body: dict) -> web.StreamResponse:
        err = {"type": "invalid_request_error", "message": "messages: roles must alternate"}
        return web.json_response({"type": "error", "error": err}, status=400)

    up = await fake(**FAMILIES["anthropic"], reply=reject)
    gw = await gateway(**provider_settings("anthropic", up), **FAST_RETRY)
    resp = await post(gw.url, BODY)
    assert resp.status_code == 400
    err = error_of(resp)
    assert err["type"] == "invalid_request_error" and "roles must alternate" in err["message"]
    assert len(up.seen) == 1


async def test_fallback_chain_takes_over_when_primary_is_down(gateway, fake) -> None:
    backup = await fake(**FAMILIES["openai"])
    port = free_port()
    settings = {
        **provider_settings("openai", backup),
        "provider.name": "anthropic",
        "provider.anthropic_api_key": "k",
        "provider.fallback": "openai",
        "provider.anthropic_endpoint": f"http://127.0.0.1:{port}/v1/messages",
    }
    gw = await gateway(**settings)
    resp = await post(gw.url, STREAM)
    assert resp.status_code == 200 and "event: message_stop" in resp.text
    assert '"text":" from upstream"' in resp.text
    assert len(backup.seen) == 1 and backup.bodies[0]["model"] == "gpt-test"
    assert attempts(gw, "anthropic") == 1


async def test_stream_broken_before_first_event_is_retried(gateway, fake) -> None:
    async def flaky(request: web.Request, body: dict) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        if len(up.seen) == 1:
            await resp.write(b"event: message_st")  # half an event, then a reset
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.abort()
            return resp
        await resp.write(b"".join(fakes.sse(e) for e in fakes.text_events("ok", body["model"])))
        await resp.write_eof()
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=flaky)
    gw = await gateway(**provider_settings("anthropic", up), **FAST_RETRY)
    resp = await post(gw.url, STREAM)
    assert resp.status_code == 200 and "event: message_stop" in resp.text
    assert "event: error" not in resp.text
    assert len(up.seen) == 2


async def test_json_answer_to_a_stream_request_is_served_as_sse(gateway, fake) -> None:
    async def json_only(request: web.Request, body: dict) -> web.StreamResponse:
        return web.json_response(fakes.message("plain json", body["model"]))

    up = await fake(**FAMILIES["anthropic"], reply=json_only)
    gw = await gateway(**provider_settings("anthropic", up))
    resp = await post(gw.url, STREAM)
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.text.startswith("event: message_start") and "plain json" in resp.text
    assert resp.text.rstrip().endswith('data: {"type":"message_stop"}')


async def test_json_body_stalling_after_headers_is_a_504(gateway, fake) -> None:
    async def stall(request: web.Request, body: dict) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "application/json"})
        resp.content_length = 500
        await resp.prepare(request)
        await resp.write(b'{"id": "msg_')
        await asyncio.sleep(5)
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=stall)
    gw = await gateway(**provider_settings("anthropic", up), **{"provider.idle_timeout": 0.3})
    resp = await post(gw.url, BODY)
    assert resp.status_code == 504
    assert "idle_timeout" in error_of(resp)["message"]
