"""The low-level server ``lynkr serve`` runs, and the aiohttp Application from create_app:
the same routes, the same answers (keep-alive, HEAD, Anthropic-shaped errors, body limits)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.serve.conftest import provider_settings

MSG = {"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
BOTH = pytest.mark.parametrize("gateway", ["server", "app"], indirect=True)


async def raw_exchange(url: str, requests: list[bytes], *, answers: int) -> list[bytes]:
    """Send raw HTTP/1.1 requests on ONE connection; the raw answers (head and body)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    out: list[bytes] = []
    try:
        for data in requests:
            writer.write(data)
        await writer.drain()
        for _ in range(answers):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            is_head = out_requests_head(requests, len(out))
            body = b"" if is_head else await reader.readexactly(length)
            out.append(head + body)
    finally:
        writer.close()
    return out


def out_requests_head(requests: list[bytes], index: int) -> bool:
    return requests[min(index, len(requests) - 1)].startswith(b"HEAD ")


JSON_CT = {"content-type": "application/json"}


@BOTH
async def test_keep_alive_serves_several_requests_on_one_connection(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    body = json.dumps(MSG).encode()
    post = (
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    answers = await raw_exchange(
        gw.url, [post, b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", post], answers=3
    )
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers)
    assert b"Hello from upstream" in answers[0] and b"Hello from upstream" in answers[2]
    assert answers[1].endswith(b'{"status":"ok"}')


@BOTH
async def test_head_answers_without_a_body(gateway) -> None:
    gw = await gateway()
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        for path in ("/", "/health/live", "/v1/models"):
            resp = await client.head(path)
            assert resp.status_code == 200 and resp.content == b"", path
            assert resp.headers["request-id"].startswith("req_")
    head = b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answers = await raw_exchange(
        gw.url, [head, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"], answers=2
    )
    assert answers[1].endswith(b'{"name":"lynkr","status":"ok"}')  # the HEAD sent no body


@BOTH
async def test_unknown_routes_are_404s_and_wrong_methods_405s(gateway) -> None:
    gw = await gateway()
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        cases = (
            ("GET", "/v2/x", 404, None),
            ("DELETE", "/v1/messages", 405, "POST"),
            ("PUT", "/", 405, "GET, HEAD"),
            ("POST", "/health/live", 405, "GET, HEAD"),
        )
        for method, path, status, allow in cases:
            resp = await client.request(method, path)
            assert resp.status_code == status, (method, path)
            assert resp.headers.get("allow") == allow
            doc = resp.json()
            kind = "not_found_error" if status == 404 else "invalid_request_error"
            assert doc["type"] == "error" and doc["error"]["type"] == kind
            assert doc["request_id"] == resp.headers["request-id"]


@BOTH
async def test_body_limit_is_the_settings_not_aiohttps_default(gateway, fake) -> None:
    """aiohttp's own default is 1 MiB; lynkr's is 32 MB, answered with an Anthropic 413."""
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up), **{"server.max_body_bytes": 3_000_000})
    two_mb = {**MSG, "messages": [{"role": "user", "content": "x" * 2_000_000}]}
    four_mb = {**MSG, "messages": [{"role": "user", "content": "x" * 4_000_000}]}
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as client:
        assert (await client.post("/v1/messages", json=two_mb)).status_code == 200

        async def chunks():  # no content-length: the limit holds while reading
            yield json.dumps(four_mb).encode()

        resp = await client.post("/v1/messages", content=chunks(), headers=JSON_CT)
        assert resp.status_code == 413 and resp.json()["error"]["type"] == "request_too_large"
    assert len(up.seen) == 1


@BOTH
async def test_bug_in_a_handler_is_an_anthropic_500(gateway, fake, monkeypatch) -> None:
    from lynkr_cli.serve import pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "cache_lookup_key", broken)
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        resp = await client.post("/v1/messages", json=MSG)
        assert resp.status_code == 500
        assert resp.json()["error"]["type"] == "api_error" and "boom" in resp.text
        assert (await client.get("/health/live")).status_code == 200  # still serving


async def test_malformed_http_is_a_400(gateway) -> None:
    gw = await gateway()
    answers = await raw_exchange(gw.url, [b"NOT HTTP AT ALL\r\n\r\n"], answers=1)
    assert answers[0].split(b"\r\n")[0].endswith(b" 400 Bad Request")  # aiohttp's own parser


@BOTH
async def test_sse_headers_leave_with_the_first_events(gateway, fake, monkeypatch) -> None:
    """One send for the headers, the events and the end, not one for each."""
    from asyncio import selector_events

    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    port = int(gw.url.rsplit(":", 1)[1])
    sends: list[bytes] = []
    transport_class = selector_events._SelectorSocketTransport
    original = transport_class.write

    def write(self, data) -> None:  # type: ignore[no-untyped-def]
        if self.get_extra_info("sockname")[1] == port:  # the gateway's side only
            sends.append(bytes(data))
        original(self, data)

    monkeypatch.setattr(transport_class, "write", write)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        resp = await client.post("/v1/messages", json={**MSG, "stream": True})
    assert resp.status_code == 200 and "event: message_stop" in resp.text
    assert len(sends) == 1, [s[:60] for s in sends]
    assert sends[0].startswith(b"HTTP/1.1 200 ") and b"event: message_start" in sends[0]
