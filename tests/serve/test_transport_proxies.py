"""What the gateway's own client does not speak, aiohttp's does: SOCKS5 and https:// proxies,
real ones on 127.0.0.1 (a small SOCKS5 server here, the HTTP proxy of ``proxy_fake``
behind TLS). ``provider.transport = auto`` sends only those upstreams through aiohttp."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import struct
from typing import Any

import anthropic
import pytest
import uvloop

from lynkr_cli.serve.http1 import Pool
from lynkr_cli.serve.transport import ProxyError
from lynkr_cli.serve.transport_aiohttp import AiohttpTransport
from lynkr_cli.serve.upstream import open_transport
from lynkr_cli.settings import ProviderSettings
from tests.serve.conftest import fake, gateway
from tests.serve.proxy_fake import UPSTREAM, Proxy, _pipe, cert_for_upstream, clean_proxy_env
from tests.serve.test_http1_proxy import _plain_upstream, _tls_upstream

__all__ = ["fake", "gateway"]


class Socks5:
    """A SOCKS5 proxy (RFC 1928; user/password per RFC 1929 when ``credentials``). It
    resolves names itself (UPSTREAM → 127.0.0.1): reaching UPSTREAM proves it was used."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.targets: list[tuple[str, int]] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> Socks5:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not await self._greet(reader, writer):
                writer.close()
                return
            _ver, _cmd, _rsv, atyp = await reader.readexactly(4)
            if atyp == 3:
                host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            elif atyp == 1:
                host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
            else:
                host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
            (port,) = struct.unpack(">H", await reader.readexactly(2))
            self.targets.append((host, port))
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1" if host == UPSTREAM else host, port
            )
        except (OSError, asyncio.IncompleteReadError):
            writer.close()
            return
        writer.write(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _greet(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        _ver, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        if self.credentials is None:
            writer.write(b"\x05\x00")
            return True
        if 2 not in methods:
            writer.write(b"\x05\xff")
            return False
        writer.write(b"\x05\x02")
        _v = await reader.readexactly(1)
        user = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        password = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        ok = (user, password) == self.credentials
        writer.write(b"\x01\x00" if ok else b"\x01\x01")
        return ok


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_socks5_reaches_a_name_only_the_proxy_resolves(loop_kind: str) -> None:
    async def main() -> None:
        upstream = await _plain_upstream()
        port = int(upstream.url.split(":")[2].split("/")[0])
        socks = await Socks5().start()
        transport = AiohttpTransport(5, f"socks5h://127.0.0.1:{socks.port}")
        try:
            for _ in range(2):
                url = f"http://{UPSTREAM}:{port}/v1/messages"
                resp = await transport.request("POST", url, {"x-api-key": "k"}, b"{}")
                assert resp.status == 200 and await resp.read() == b"{}"
                resp.release()
            assert socks.targets[0] == (UPSTREAM, port)
        finally:
            await transport.close()
            await socks.stop()
            await upstream.stop()

    run = asyncio.run if loop_kind == "asyncio" else uvloop.run
    run(main())


async def test_socks5_credentials_and_a_refusal() -> None:
    upstream = await _plain_upstream()
    port = int(upstream.url.split(":")[2].split("/")[0])
    socks = await Socks5(credentials=("ann", "s3cret-pass")).start()
    url = f"http://{UPSTREAM}:{port}/v1/messages"
    good = AiohttpTransport(5, f"socks5h://ann:s3cret-pass@127.0.0.1:{socks.port}")
    bad = AiohttpTransport(5, f"socks5h://ann:wrong-pass@127.0.0.1:{socks.port}")
    try:
        resp = await good.request("POST", url, {}, b"{}")
        assert resp.status == 200
        resp.release()
        with pytest.raises(ProxyError) as info:
            await bad.request("POST", url, {}, b"{}")
        assert info.value.stage == "connect"
        assert "wrong-pass" not in str(info.value)  # the proxy named without credentials
        assert info.value.proxy == f"socks5h://127.0.0.1:{socks.port}"
    finally:
        await good.close()
        await bad.close()
        await socks.stop()
        await upstream.stop()


class TlsProxy(Proxy):
    """``proxy_fake``'s HTTP proxy, spoken to over TLS: an ``https://`` proxy."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__()
        self.context = context

    async def start(self) -> TlsProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.context)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        return self


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
@pytest.mark.parametrize("upstream_tls", [False, True])
def test_an_https_proxy(tmp_path: Any, upstream_tls: bool, loop_kind: str) -> None:
    """TLS to the proxy; then the absolute form for http, a tunnel (TLS in TLS) for https."""
    cert, key = cert_for_upstream(tmp_path)
    run = asyncio.run if loop_kind == "asyncio" else uvloop.run
    run(_through_an_https_proxy(cert, key, upstream_tls))


async def _through_an_https_proxy(cert: str, key: str, upstream_tls: bool) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    proxy = await TlsProxy(server_ctx).start()
    if upstream_tls:
        upstream, port = await _tls_upstream(cert, key)
        url = f"https://{UPSTREAM}:{port}/v1/messages"
    else:
        upstream = await _plain_upstream()
        port = int(upstream.url.split(":")[2].split("/")[0])
        url = f"http://{UPSTREAM}:{port}/v1/messages"
    trusted = ssl.create_default_context(cafile=cert)
    transport = AiohttpTransport(5, proxy.url, ssl_context=trusted)
    try:
        resp = await transport.request("POST", url, {"x-api-key": "k"}, b"{}")
        assert resp.status == 200 and await resp.read() == b"{}"
        assert proxy.targets == [(UPSTREAM, port)]
    finally:
        await transport.close()
        await proxy.stop()
        await upstream.stop()


async def test_auto_sends_only_what_http1_cannot_speak_through_aiohttp(monkeypatch) -> None:
    socks = await Socks5().start()
    upstream = await _plain_upstream()
    port = int(upstream.url.split(":")[2].split("/")[0])
    monkeypatch.setenv("ALL_PROXY", f"socks5h://127.0.0.1:{socks.port}")
    auto = open_transport(ProviderSettings())
    assert isinstance(auto, Pool)
    try:
        resp = await auto.request("POST", f"http://{UPSTREAM}:{port}/v1/messages", {}, b"{}")
        assert resp.status == 200 and await resp.read() == b"{}"
        assert socks.targets == [(UPSTREAM, port)]
        # loopback stays direct, on the gateway's own client
        resp = await auto.request("POST", upstream.url, {}, b"{}")
        assert await resp.read() == b"{}" and len(socks.targets) == 1
        http1_only = open_transport(ProviderSettings(transport="http1"))
        with pytest.raises(ProxyError, match=r"provider\.transport"):
            await http1_only.request("POST", f"http://{UPSTREAM}:{port}/v1/messages", {}, b"{}")
        await http1_only.close()
    finally:
        await auto.close()
        await socks.stop()
        await upstream.stop()


async def test_the_gateway_through_a_socks_proxy(gateway, fake, monkeypatch) -> None:
    up = await fake(wire="anthropic", path="/v1/messages")
    socks = await Socks5(credentials=("gw", "proxy-password-1")).start()
    port = int(up.url.rsplit(":", 1)[1])
    try:
        gw = await gateway(
            **{
                "provider.name": "anthropic",
                "provider.anthropic_endpoint": f"http://{UPSTREAM}:{port}/v1/messages",
                "provider.anthropic_api_key": "up-key",
                "provider.proxy": f"socks5h://gw:proxy-password-1@127.0.0.1:{socks.port}",
            }
        )
        async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="c", max_retries=0) as sdk:
            async with sdk.messages.stream(
                model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            ) as stream:
                text = "".join([t async for t in stream.text_stream])
        assert text == "Hello from upstream" and up.problems == []
        assert socks.targets and socks.targets[0] == (UPSTREAM, port)
    finally:
        await socks.stop()
