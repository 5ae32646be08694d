"""The upstream HTTP/1.1 client against a scripted raw TCP server: framing, reuse, failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvloop

from lynkr_cli.serve import http1, http1_body
from lynkr_cli.serve.http1 import Pool
from lynkr_cli.serve.transport import (
    LocalProtocolError,
    ReadError,
    RemoteProtocolError,
    TransportError,
)

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class Server:
    """A TCP server that runs ``script(reader, writer, connection_number)`` per connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1/messages"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(reader, writer, self.connections)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        """Read one request (head and Content-Length body); returns the body."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return await reader.readexactly(length)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[Server]]]:
    servers: list[Server] = []

    async def start(script: Script) -> Server:
        server = await Server(script).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def fixed(answer: bytes, *, requests: int = 10) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        for _ in range(requests):
            await server_of[0].request(reader)
            writer.write(answer)
            await writer.drain()

    server_of: list[Server] = []
    script.server_of = server_of  # type: ignore[attr-defined]
    return script


async def start_fixed(serve: Callable[[Script], Awaitable[Server]], answer: bytes) -> Server:
    script = fixed(answer)
    server = await serve(script)
    script.server_of.append(server)  # type: ignore[attr-defined]
    return server


JSON_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


async def test_content_length_answers_reuse_one_connection(serve) -> None:
    server = await start_fixed(serve, JSON_ANSWER)
    pool = Pool(5)
    for _ in range(3):
        resp = await pool.request("POST", server.url, {"x-api-key": "k"}, b'{"a":1}')
        assert resp.status == 200 and resp.content_type == "application/json"
        assert await resp.read() == b"{}"
        resp.release()
    assert server.connections == 1
    head = server.heads[0].decode()
    assert head.startswith("POST /v1/messages HTTP/1.1\r\n")
    assert "x-api-key: k\r\n" in head and "Content-Length: 7\r\n" in head
    assert "Accept-Encoding: identity" in head  # bytes are relayed as they come
    await pool.close()


async def test_chunked_body_split_anywhere(serve) -> None:
    body = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"
    head = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
    )
    data = head + body

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        for _ in range(2):
            await server.request(reader)
            for i in range(len(data)):  # one byte per write: every boundary gets hit
                writer.write(data[i : i + 1])
                await writer.drain()
                await asyncio.sleep(0)

    server = await serve(script)
    pool = Pool(5)
    for _ in range(2):
        resp = await pool.request("POST", server.url, {}, b"{}")
        assert resp.content_type == "text/event-stream"
        assert await resp.read() == b"Wikipedia in\r\n\r\nchunks."
        assert resp.content.at_eof()
    assert server.connections == 1
    await pool.close()


async def test_close_delimited_body_and_no_reuse(serve) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")
        await writer.drain()

    server = await serve(script)
    pool = Pool(5)
    for _ in range(2):
        resp = await pool.request("POST", server.url, {}, b"{}")
        assert await resp.read() == b"part one, part two"
    assert server.connections == 2
    await pool.close()


async def test_interim_answers_are_skipped_and_204_has_no_body(serve) -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
    server = await start_fixed(serve, answer)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert resp.status == 204 and resp.headers["x-a"] == "1"
    assert resp.content.is_eof() and await resp.read() == b""
    resp = await pool.request("POST", server.url, {}, b"{}")  # the connection was reusable
    assert resp.status == 204 and server.connections == 1
    await pool.close()


async def test_upstream_closing_an_idle_connection_is_retried_on_a_fresh_one(serve) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(JSON_ANSWER)
        await writer.drain()
        # then close while idle, as a keep-alive timeout would

    server = await serve(script)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert await resp.read() == b"{}"
    await asyncio.sleep(0.05)  # the close reaches the pool
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert await resp.read() == b"{}"
    assert server.connections == 2
    await pool.close()


async def test_close_racing_the_request_is_retried_once(serve) -> None:
    """A pooled connection that dies with the request unanswered: sent again, once."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(JSON_ANSWER)
        await writer.drain()
        if n == 1:
            await server.request(reader)  # read the second request, answer nothing
            return
        await server.request(reader)

    server = await serve(script)
    pool = Pool(5)
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert await resp.read() == b"{}"
    assert server.connections == 2
    await pool.close()


async def test_reset_mid_body_delivers_what_came_then_raises(serve) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst bytes")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.transport.abort()

    server = await serve(script)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert await resp.content.readany() == b"first bytes"
    with pytest.raises(ReadError):
        await resp.content.readany()
    await pool.close()


async def test_closing_an_unfinished_answer_drops_its_connection(serve) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
        await writer.drain()
        await reader.read()  # until the client closes

    server = await serve(script)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert await resp.content.readany() == b"some"
    resp.close()
    await asyncio.sleep(0.05)
    assert not pool._open  # closed, not pooled
    await pool.close()


async def test_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = Pool(5)
    with pytest.raises(http1.ConnectError) as info:
        await pool.request("POST", f"http://127.0.0.1:{port}/v1/messages", {}, b"{}")
    assert isinstance(info.value, TransportError)
    assert isinstance(info.value.os_error, OSError)


async def test_malformed_answer_is_a_remote_protocol_error(serve) -> None:
    server = await start_fixed(serve, b"SPDY/9 nonsense\r\n\r\n")
    pool = Pool(5)
    with pytest.raises(RemoteProtocolError):
        await pool.request("POST", server.url, {}, b"{}")
    await pool.close()


async def test_header_line_breaks_are_refused(serve) -> None:
    server = await start_fixed(serve, JSON_ANSWER)
    pool = Pool(5)
    with pytest.raises(LocalProtocolError):
        await pool.request("POST", server.url, {"x-a": "1\r\nx-injected: 2"}, b"{}")
    assert server.connections == 0
    await pool.close()


async def test_large_body_with_back_pressure(serve, monkeypatch) -> None:
    monkeypatch.setattr(http1_body, "READ_LIMIT", 4096)
    payload = bytes(range(256)) * 4096  # 1 MiB

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload))
        writer.write(payload)
        await writer.drain()
        await server.request(reader)
        writer.write(JSON_ANSWER)
        await writer.drain()

    server = await serve(script)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    got = b""
    while chunk := await resp.content.readany():
        got += chunk
        await asyncio.sleep(0)  # a slow reader
    assert got == payload
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 1
    await pool.close()


def test_works_on_uvloop() -> None:
    """The gateway runs on uvloop, whose transports are not asyncio.Transport subclasses."""

    async def main() -> None:
        server = await Server(fixed(JSON_ANSWER)).start()
        server.script.server_of.append(server)  # type: ignore[attr-defined]
        pool = Pool(5)
        for _ in range(2):
            resp = await pool.request("POST", server.url, {}, b"{}")
            assert await resp.read() == b"{}"
        assert server.connections == 1
        await pool.close()
        await server.stop()

    uvloop.run(main())


def _self_signed(tmp_path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_https_upstream_with_verification(tmp_path, loop_kind) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)

    async def main() -> None:
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert, key)
        server = Server(fixed(JSON_ANSWER))
        server.script.server_of.append(server)  # type: ignore[attr-defined]
        server.server = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=server_ctx)
        port = server.server.sockets[0].getsockname()[1]
        url = f"https://127.0.0.1:{port}/v1/messages"

        untrusted = Pool(5)  # the system's roots do not know this certificate
        with pytest.raises(http1.ConnectError):
            await untrusted.request("POST", url, {}, b"{}")

        pool = Pool(5)
        pool._ssl = ssl.create_default_context(cafile=cert)
        for _ in range(2):
            resp = await pool.request("POST", url, {}, b"{}")
            assert await resp.read() == b"{}"
        assert (
            server.connections == 1
        )  # one connection, reused (the refused handshake never got one)
        await pool.close()
        await server.stop()

    (uvloop.run if loop_kind == "uvloop" else asyncio.run)(main())


async def test_connection_idle_too_long_is_not_reused(serve, monkeypatch) -> None:
    monkeypatch.setattr(http1, "IDLE_SECONDS", 0.01)
    server = await start_fixed(serve, JSON_ANSWER)
    pool = Pool(5)
    for _ in range(2):
        assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
        await asyncio.sleep(0.05)
    assert server.connections == 2
    await pool.close()
