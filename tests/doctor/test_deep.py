"""`lynkr doctor --deep` sends real requests: a 1-token call through the provider (a rejected
key is a fail with the fix, where a bare GET called any answer ok), and a short stream
through the path Claude Code uses, which fails when a proxy delivers it all at once.

The upstream is a real aiohttp server on 127.0.0.1 that streams its events 25 ms apart;
the buffering proxy is a real reverse proxy that reads the whole answer before sending it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from lynkr_cli.doctor.checks_deep import bursts
from tests.serve.proxy_fake import clean_proxy_env
from tests.switch.helpers import serve

GOOD_KEY = "sk-good-key-for-the-fake"


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


async def upstream(request: web.Request) -> web.StreamResponse:
    """Anthropic's /v1/messages: 401 for a wrong key, else a stream of 12 spaced deltas."""
    if request.headers.get("x-api-key") != GOOD_KEY:
        error = {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}
        return web.json_response(error, status=401)
    body = await request.json()
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": 5, "output_tokens": 1}}  # fmt: skip
    await resp.write(_sse({"type": "message_start", "message": message}))
    block = {"type": "text", "text": ""}
    await resp.write(_sse({"type": "content_block_start", "index": 0, "content_block": block}))
    for number in range(1, 13 if body["max_tokens"] > 1 else 2):
        await asyncio.sleep(0.025)
        delta = {"type": "text_delta", "text": f"{number}\n"}
        await resp.write(_sse({"type": "content_block_delta", "index": 0, "delta": delta}))
    await resp.write(_sse({"type": "content_block_stop", "index": 0}))
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    usage = {"output_tokens": 12}
    await resp.write(_sse({"type": "message_delta", "delta": stop, "usage": usage}))
    await resp.write(_sse({"type": "message_stop"}))
    await resp.write_eof()
    return resp


def buffering_proxy(target: str) -> Any:
    """A reverse proxy that, like nginx with proxy_buffering on, sends nothing until the end."""

    async def handle(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("x-", "a"))}
        headers["content-type"] = "application/json"
        async with (
            aiohttp.ClientSession() as session,
            session.post(target + request.path, data=await request.read(), headers=headers) as up,
        ):
            whole = await up.read()
            kind = up.headers.get("content-type", "text/event-stream")
            return web.Response(body=whole, status=up.status, headers={"content-type": kind})

    return handle


@contextmanager
def path_with_proxy() -> Iterator[tuple[str, str]]:
    """(upstream URL, buffering proxy URL) on 127.0.0.1."""
    with serve({("POST", "/v1/messages"): upstream}) as up:
        with serve({("POST", "/v1/messages"): buffering_proxy(up["url"])}) as proxy:
            yield up["url"], proxy["url"]


@pytest.fixture(autouse=True)
def _direct(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


def _provider(monkeypatch: pytest.MonkeyPatch, base: str, key: str = GOOD_KEY) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"{base}/v1/messages")
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)


def test_bursts() -> None:
    assert bursts([0.0, 0.0001, 0.0002]) == [3]
    assert bursts([0.0, 0.025, 0.05, 0.0501]) == [1, 1, 2]
    assert bursts([]) == []


def test_a_rejected_key_fails_with_deep_and_names_the_setting(doctor, monkeypatch) -> None:
    with path_with_proxy() as (up, _):
        _provider(monkeypatch, up, key="sk-wrong-key-1234")
        code, checks, out = doctor("--deep", "--only", "upstream")
        shallow_code, shallow, _ = doctor("--only", "upstream")
    result = checks["upstream"]
    assert code == 1 and result["status"] == "fail", result
    assert "401" in result["summary"] and "ANTHROPIC_API_KEY" in result["fix"]
    assert result["details"]["http_status"] == 401
    assert "sk-wrong-key-1234" not in out  # never the key
    # Without --deep only reachability is known, and the summary says how to check the key.
    assert shallow_code == 0 and "--deep" in shallow["upstream"]["summary"]


def test_an_accepted_key_is_ok_with_deep(doctor, monkeypatch) -> None:
    with path_with_proxy() as (up, _):
        _provider(monkeypatch, up)
        code, checks, _ = doctor("--deep", "--only", "upstream")
    result = checks["upstream"]
    assert code == 0 and result["status"] == "ok", result
    assert "1-token request" in result["summary"]


def test_claude_codes_path_streams_or_buffers(doctor, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", GOOD_KEY)
    with path_with_proxy() as (up, proxy):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", up)
        code, direct, _ = doctor("--deep", "--only", "stream-buffering")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", proxy)
        proxied_code, proxied, _ = doctor("--deep", "--only", "stream-buffering")
    ok = direct["stream-buffering"]
    assert code == 0 and ok["status"] == "ok", ok
    assert ok["details"]["deltas"] == 12 and ok["details"]["bursts"] >= 6
    bad = proxied["stream-buffering"]
    assert proxied_code == 1 and bad["status"] == "fail", bad
    assert "all at once" in bad["summary"] and proxy in bad["summary"]
    assert "proxy_buffering off" in bad["fix"]
    assert bad["details"]["bursts"] <= 3


def test_lynkrs_provider_path_when_claude_code_points_nowhere(doctor, monkeypatch) -> None:
    with path_with_proxy() as (up, proxy):
        _provider(monkeypatch, up)
        code, direct, _ = doctor("--deep", "--only", "stream-buffering")
        _provider(monkeypatch, proxy)
        proxied_code, proxied, _ = doctor("--deep", "--only", "stream-buffering")
    assert code == 0 and direct["stream-buffering"]["status"] == "ok", direct
    assert "lynkr's provider anthropic" in direct["stream-buffering"]["summary"]
    assert proxied_code == 1 and proxied["stream-buffering"]["status"] == "fail", proxied


def test_a_refused_claude_key_is_a_fail_with_the_fix(doctor, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-not-this-one")
    with path_with_proxy() as (up, _):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", up)
        code, checks, _ = doctor("--deep", "--only", "stream-buffering")
    result = checks["stream-buffering"]
    assert code == 1 and result["details"]["http_status"] == 401, result
    assert "ANTHROPIC_API_KEY" in result["fix"]


def test_without_deep_nothing_is_sent(doctor, monkeypatch) -> None:
    with path_with_proxy() as (up, _):
        monkeypatch.setenv("ANTHROPIC_BASE_URL", up)
        code, checks, _ = doctor("--only", "stream-buffering")
    assert code == 0 and checks["stream-buffering"]["status"] == "skip"
