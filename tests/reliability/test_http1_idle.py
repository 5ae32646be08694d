"""Idle upstream keep-alive connections are closed by the pool's timer, not only when the
pool is next used: against a real server that counts the connections it has open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from lynkr_cli.serve import http1
from lynkr_cli.serve.http1 import Pool
from tests.serve import fakes
from tests.serve.test_http1 import JSON_ANSWER, Script, Server

IDLE = 0.2  # seconds, for these tests (15 in production)


class Counting(Server):
    """A scripted server that also counts the connections open right now."""

    def __init__(self, script: Script) -> None:
        super().__init__(script)
        self.open = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            await super()._serve(reader, writer)
        finally:
            self.open -= 1


def answering(answer: bytes, *, together: int = 1) -> Callable[[], Awaitable[Counting]]:
    """A server answering every request with ``answer`` until the client hangs up; the
    first answers wait until ``together`` connections are open (so they are distinct)."""

    async def start() -> Counting:
        async def script(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int
        ) -> None:
            await server.request(reader)
            async with asyncio.timeout(10):
                while server.connections < together:
                    await asyncio.sleep(0.01)
            while True:
                writer.write(answer)
                await writer.drain()
                await server.request(reader)  # IncompleteReadError at the client's close

        server = Counting(script)
        return await server.start()

    return start


@pytest.fixture(autouse=True)
def short_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", IDLE)


@pytest.fixture
async def servers() -> AsyncIterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        await server.stop()


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_idle_connections_are_closed_without_the_pool_being_used(servers) -> None:
    server = await answering(JSON_ANSWER, together=3)()
    servers.append(server)
    pool = Pool(5)
    answers = await asyncio.gather(*(pool.request("POST", server.url, {}, b"{}") for _ in "abc"))
    assert [await r.read() for r in answers] == [b"{}"] * 3
    assert server.connections == 3
    await until(lambda: server.open == 0)  # nobody touched the pool: the timer did it
    await until(lambda: not pool._open)
    assert pool._reaper is None  # nothing idle, no timer
    # the pool still works, on a fresh connection
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 4
    await until(lambda: server.open == 0)  # the timer was armed again
    await pool.close()


async def test_close_cancels_the_timer(servers, monkeypatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", 60.0)  # the timer cannot fire during the test
    server = await answering(JSON_ANSWER)()
    servers.append(server)
    pool = Pool(5)
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    timer = pool._reaper
    assert timer is not None
    await pool.close()
    assert timer.cancelled() and pool._reaper is None
    await until(lambda: server.open == 0)


async def test_a_connection_in_use_is_not_reaped(servers) -> None:
    """A body that takes several idle periods to arrive still arrives whole, while the
    idle connection beside it is reaped."""
    release = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        if n == 1:  # the slow one
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst")
            await writer.drain()
            await asyncio.wait_for(release.wait(), 10)
            writer.write(b"-last")
        else:
            writer.write(JSON_ANSWER)
        await writer.drain()
        await reader.read()

    server = Counting(script)
    servers.append(await server.start())
    pool = Pool(5)
    slow = await pool.request("POST", server.url, {}, b"{}")
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    await until(lambda: server.open == 1)  # the idle one is gone, the busy one is not
    release.set()
    assert await slow.read() == b"first-last"
    await until(lambda: server.open == 0)  # and once idle, it goes too
    await pool.close()


async def test_a_connection_used_more_often_than_the_idle_time_is_kept(servers) -> None:
    server = await answering(JSON_ANSWER)()
    servers.append(server)
    pool = Pool(5)
    loop = asyncio.get_running_loop()
    gaps: list[float] = []
    last = loop.time()
    for _ in range(15):  # about four idle periods in all
        assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
        await asyncio.sleep(IDLE / 4)
        gaps.append(loop.time() - last)
        last = loop.time()
    # kept unless this machine stalled for longer than the idle time between two requests
    assert server.connections == 1 or max(gaps) >= IDLE
    await pool.close()


async def test_the_gateways_idle_upstream_sockets_are_reaped(gateway, servers) -> None:
    body = json.dumps(fakes.message("hi", "claude-x")).encode()
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    answer += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    server = await answering(answer)()
    servers.append(server)
    gw = await gateway(
        **{
            "provider.name": "anthropic",
            "provider.anthropic_endpoint": server.url,
            "provider.anthropic_api_key": "up-key",
        }
    )
    request = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=request)
        assert resp.status_code == 200 and resp.json()["content"][0]["text"] == "hi"
        assert server.connections == 1
        await until(lambda: server.open == 0)  # the gateway idles: its socket is closed
        resp = await http.post("/v1/messages", json=request)
        assert resp.status_code == 200 and server.connections == 2  # a fresh connection
