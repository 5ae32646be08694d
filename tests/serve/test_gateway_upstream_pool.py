"""The gateway's upstream connections: reused once an answer ends, closed when one never does."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiohttp import web

from lynkr_cli.serve import respond
from tests.serve import fakes
from tests.serve.conftest import FAMILIES, provider_settings

BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def peer_of(request: web.Request) -> object:
    assert request.transport is not None
    return request.transport.get_extra_info("peername")


@pytest.mark.parametrize("stream", [False, True])
async def test_upstream_connection_is_reused_after_the_answer_ends(gateway, fake, stream) -> None:
    peers: list[object] = []

    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        peers.append(peer_of(request))
        return await fakes.anthropic_text(request, body)

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        for _ in range(3):
            resp = await http.post("/v1/messages", json={**BODY, "stream": stream})
            assert resp.status_code == 200
            assert ("event: message_stop" if stream else "Hello from upstream") in resp.text
            await asyncio.sleep(0.02)  # the end of the body has reached the pool
    assert len(peers) == 3 and len(set(peers)) == 1


async def test_stream_body_that_never_ends_is_closed_not_reused(gateway, fake, monkeypatch) -> None:
    """message_stop arrived but the upstream keeps the body open: the drain timer closes it."""
    monkeypatch.setattr(respond, "DRAIN_SECONDS", 0.05)
    peers: list[object] = []
    hung_up = asyncio.Event()

    async def reply(request: web.Request, body: dict) -> web.StreamResponse:
        peers.append(peer_of(request))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"".join(fakes.sse(e) for e in fakes.text_events("hi", body["model"])))
        try:
            await asyncio.sleep(5)  # never end the chunked body
        except asyncio.CancelledError:
            hung_up.set()  # the gateway closed the connection
            raise
        return resp

    up = await fake(**FAMILIES["anthropic"], reply=reply)
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        for _ in range(2):
            resp = await http.post("/v1/messages", json={**BODY, "stream": True})
            assert resp.status_code == 200 and "event: message_stop" in resp.text
            await asyncio.wait_for(hung_up.wait(), timeout=2)
            hung_up.clear()
    assert len(peers) == 2 and peers[0] != peers[1]
