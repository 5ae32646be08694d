"""Clients that hold connections: idle or slow heads, stalled bodies, too many sockets."""

from __future__ import annotations

import asyncio

import pytest

from tests.serve.conftest import FAMILIES, provider_settings

pytestmark = pytest.mark.timeout(60)


async def connect(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def closed_by_server(reader: asyncio.StreamReader, within: float = 20) -> bytes:
    """Everything the server sent until it closed the connection (bounded wait)."""
    return await asyncio.wait_for(reader.read(), within)


async def test_idle_and_slow_heads_are_closed(gateway) -> None:
    gw = await gateway(**{"server.head_timeout": 0.5})
    idle_r, idle_w = await connect(gw.url)  # connects, never sends anything
    slow_r, slow_w = await connect(gw.url)
    slow_w.write(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # half a head
    await slow_w.drain()
    assert await closed_by_server(idle_r) == b""
    assert await closed_by_server(slow_r) == b""
    for w in (idle_w, slow_w):
        w.close()


async def test_hundred_half_bodies_are_timed_out_with_408(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **{"server.body_timeout": 0.5})
    head = (
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"model":'
    )
    conns = [await connect(gw.url) for _ in range(100)]
    for _r, w in conns:
        w.write(head)
        await w.drain()
    answers = await asyncio.gather(*(closed_by_server(r) for r, _w in conns))
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b'"body_timeout' not in answer  # the setting is named in prose, not a field
        assert b'"type":"error"' in answer and b"LYNKR_BODY_TIMEOUT" in answer
    for _r, w in conns:
        w.close()
    assert up.seen == []


async def test_connection_cap_answers_503_overloaded(gateway) -> None:
    gw = await gateway(**{"server.max_connections": 3})
    held = [await connect(gw.url) for _ in range(3)]
    for r, w in held:  # each is a live keep-alive connection
        w.write(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await w.drain()
        assert (await asyncio.wait_for(r.readuntil(b'{"status":"ok"}'), 10)).startswith(
            b"HTTP/1.1 200"
        )
    r4, w4 = await connect(gw.url)
    answer = await closed_by_server(r4)
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b'"overloaded_error"' in answer and b"LYNKR_MAX_CONNECTIONS" in answer
    for _r, w in [*held, (r4, w4)]:
        w.close()
    await asyncio.sleep(0.2)
    r5, w5 = await connect(gw.url)  # room again once the others left
    w5.write(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert (await closed_by_server(r5)).startswith(b"HTTP/1.1 200")
    w5.close()
