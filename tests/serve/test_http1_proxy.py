"""The upstream client through a real (small) HTTP proxy on 127.0.0.1: CONNECT tunnels for
https upstreams, the absolute form for http ones, the environment and the setting."""

from __future__ import annotations

import asyncio
import base64
import ssl
from typing import Any

import pytest
import uvloop

from lynkr_cli.serve import http1
from lynkr_cli.serve.http1 import Pool
from lynkr_cli.serve.proxy import Chooser
from lynkr_cli.serve.transport import TransportError
from tests.serve.proxy_fake import UPSTREAM, Proxy, cert_for_upstream, clean_proxy_env
from tests.serve.test_http1 import JSON_ANSWER, Server, fixed


async def _tls_upstream(cert: str, key: str) -> tuple[Server, int]:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server = Server(fixed(JSON_ANSWER))
    server.script.server_of.append(server)  # type: ignore[attr-defined]
    server.server = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=server_ctx)
    return server, server.server.sockets[0].getsockname()[1]


async def _plain_upstream() -> Server:
    server = Server(fixed(JSON_ANSWER))
    server.script.server_of.append(server)  # type: ignore[attr-defined]
    return await server.start()


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


# -- https through CONNECT ----------------------------------------------------------------


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_https_upstream_through_connect_tunnel_is_reused(tmp_path, monkeypatch, loop_kind) -> None:
    cert, key = cert_for_upstream(tmp_path)

    async def main() -> None:
        upstream, port = await _tls_upstream(cert, key)
        p = await Proxy().start()
        monkeypatch.setenv("HTTPS_PROXY", p.url)
        pool = Pool(5)
        pool._ssl = ssl.create_default_context(cafile=cert)
        url = f"https://{UPSTREAM}:{port}/v1/messages"
        for _ in range(2):
            resp = await pool.request("POST", url, {"x-api-key": "k"}, b"{}")
            assert resp.status == 200 and await resp.read() == b"{}"
        # one CONNECT, one tunnel, one TLS connection to the upstream: reused
        assert len(p.heads) == 1 and upstream.connections == 1
        connect = p.heads[0].decode()
        assert connect.startswith(f"CONNECT {UPSTREAM}:{port} HTTP/1.1\r\n")
        assert f"Host: {UPSTREAM}:{port}\r\n" in connect
        assert "Proxy-Authorization" not in connect
        # inside the tunnel: an ordinary origin-form request to the upstream
        assert upstream.heads[0].startswith(b"POST /v1/messages HTTP/1.1\r\n")
        assert f"Host: {UPSTREAM}:{port}\r\n".encode() in upstream.heads[0]
        await pool.close()
        await p.stop()
        await upstream.stop()

    (uvloop.run if loop_kind == "uvloop" else asyncio.run)(main())


async def test_proxy_credentials_are_sent_and_407_is_a_clear_error(tmp_path, monkeypatch) -> None:
    cert, key = cert_for_upstream(tmp_path)
    upstream, port = await _tls_upstream(cert, key)
    p = await Proxy(credentials="alice:s3cr#t").start()
    url = f"https://{UPSTREAM}:{port}/v1/messages"
    try:
        monkeypatch.setenv("HTTPS_PROXY", f"http://alice:s3cr%23t@127.0.0.1:{p.port}")
        pool = Pool(5)
        pool._ssl = ssl.create_default_context(cafile=cert)
        assert await (await pool.request("POST", url, {}, b"{}")).read() == b"{}"
        want = base64.b64encode(b"alice:s3cr#t").decode()
        assert f"Proxy-Authorization: Basic {want}\r\n".encode() in p.heads[0]
        await pool.close()

        for proxy_url, hint in [
            (p.url, "it wants credentials"),
            (f"http://alice:wrong-pw@127.0.0.1:{p.port}", "did not accept the credentials"),
        ]:
            monkeypatch.setenv("HTTPS_PROXY", proxy_url)
            pool = Pool(5)
            with pytest.raises(http1.ProxyError) as info:
                await pool.request("POST", url, {}, b"{}")
            assert info.value.stage == "refused" and info.value.status == 407
            message = str(info.value)
            assert "HTTP 407" in message and hint in message
            assert f"http://127.0.0.1:{p.port}" in message
            assert "wrong-pw" not in message and "alice" not in message
            assert not pool._open
            await pool.close()
    finally:
        await p.stop()
        await upstream.stop()


async def test_proxy_down_is_a_clear_error(monkeypatch) -> None:
    from tests.serve.test_gateway_faults import free_port

    port = free_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:hunter2@127.0.0.1:{port}")
    pool = Pool(5)
    with pytest.raises(http1.ProxyError) as info:
        await pool.request("POST", f"https://{UPSTREAM}/v1/messages", {}, b"{}")
    assert info.value.stage == "connect"
    assert f"through the proxy http://127.0.0.1:{port}: cannot connect to the proxy" in str(
        info.value
    )
    assert "hunter2" not in str(info.value)


async def test_tls_failure_through_the_tunnel_names_the_tunnel(tmp_path, monkeypatch) -> None:
    cert, key = cert_for_upstream(tmp_path)
    upstream, port = await _tls_upstream(cert, key)
    p = await Proxy().start()
    try:
        monkeypatch.setenv("HTTPS_PROXY", p.url)
        pool = Pool(5)  # the system's roots do not know the upstream's certificate
        with pytest.raises(http1.ProxyError) as info:
            await pool.request("POST", f"https://{UPSTREAM}:{port}/v1/messages", {}, b"{}")
        assert info.value.stage == "tls"
        assert "through the tunnel failed" in str(info.value)
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        assert not pool._open
    finally:
        await p.stop()
        await upstream.stop()


async def test_unsupported_proxy_scheme_is_said(monkeypatch) -> None:
    """Without a fallback transport (provider.transport = http1) a SOCKS proxy is refused,
    naming the setting that lets aiohttp's client speak it."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    pool = Pool(5)
    with pytest.raises(http1.ProxyError) as info:
        await pool.request("POST", f"https://{UPSTREAM}/v1/messages", {}, b"{}")
    assert info.value.stage == "unsupported" and "socks5" in str(info.value)
    assert "provider.transport" in str(info.value)
    monkeypatch.setenv("ALL_PROXY", "ftp://127.0.0.1:21")
    with pytest.raises(http1.ProxyError) as info:
        await Pool(5).request("POST", f"https://{UPSTREAM}/v1/messages", {}, b"{}")
    assert "'ftp' is not supported" in str(info.value)


# -- http through the absolute form -------------------------------------------------------


async def test_http_upstream_through_explicit_proxy_uses_absolute_form(proxy) -> None:
    """An explicit proxy applies to every upstream, loopback included."""
    upstream = await _plain_upstream()
    p = await proxy(credentials="u:pw")
    try:
        pool = Pool(5, f"http://u:pw@127.0.0.1:{p.port}")
        for _ in range(2):
            assert await (await pool.request("POST", upstream.url, {}, b"{}")).read() == b"{}"
        assert len(p.heads) == 1  # one connection to the proxy, kept alive
        head = p.heads[0].decode()
        assert head.startswith(f"POST {upstream.url} HTTP/1.1\r\n")
        assert "Proxy-Authorization: Basic dTpwdw==\r\n" in head
        assert upstream.connections == 1
        assert upstream.heads[0].startswith(b"POST /v1/messages HTTP/1.1\r\n")
        await pool.close()
    finally:
        await upstream.stop()


# -- when no proxy is used ----------------------------------------------------------------


async def test_loopback_upstreams_bypass_environment_proxies(proxy, monkeypatch) -> None:
    upstream = await _plain_upstream()
    p = await proxy()
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, p.url)
        pool = Pool(5)
        for url in (upstream.url, upstream.url.replace("127.0.0.1", "localhost")):
            assert await (await pool.request("POST", url, {}, b"{}")).read() == b"{}"
        assert p.heads == []
        chooser = Chooser()
        for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost", "a.localhost"):
            assert chooser.choose("https", host, 443) is None
        await pool.close()
    finally:
        await upstream.stop()


def test_environment_decision_follows_curl(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://secure-proxy:3128")
    monkeypatch.setenv("http_proxy", "plain-proxy:8080")  # no scheme: http
    monkeypatch.setenv("NO_PROXY", ".corp.example, internal.test,10.1.2.3")
    chooser = Chooser()
    https = chooser.choose("https", "api.anthropic.com", 443)
    assert https is not None and https.display == "http://secure-proxy:3128"
    plain = chooser.choose("http", "api.other.com", 80)
    assert plain is not None and plain.display == "http://plain-proxy:8080"
    for host in ("llm.corp.example", "internal.test", "10.1.2.3"):
        assert chooser.choose("https", host, 443) is None
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("ALL_PROXY", "http://every:1")
    fallback = Chooser().choose("https", "api.anthropic.com", 443)
    assert fallback is not None and fallback.display == "http://every:1"


async def test_no_proxy_host_goes_direct(proxy, monkeypatch) -> None:
    p = await proxy()
    monkeypatch.setenv("HTTPS_PROXY", p.url)
    monkeypatch.setenv("NO_PROXY", UPSTREAM)
    pool = Pool(5)
    with pytest.raises(TransportError) as info:  # direct: the name does not resolve
        await pool.request("POST", f"https://{UPSTREAM}/v1/messages", {}, b"{}")
    assert not isinstance(info.value, http1.ProxyError)
    assert p.heads == []


async def test_setting_none_disables_environment_proxies(proxy, monkeypatch) -> None:
    p = await proxy()
    monkeypatch.setenv("HTTPS_PROXY", p.url)
    monkeypatch.setenv("ALL_PROXY", p.url)
    pool = Pool(5, "none")
    with pytest.raises(TransportError) as info:
        await pool.request("POST", f"https://{UPSTREAM}/v1/messages", {}, b"{}")
    assert not isinstance(info.value, http1.ProxyError)
    assert p.heads == []
    assert Chooser("none").choose("https", "api.anthropic.com", 443) is None


async def test_decision_is_made_once_per_origin(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://p:1")
    pool = Pool(5)
    calls: list[str] = []
    choose = pool._chooser.choose

    def counting(scheme: str, host: str, port: int) -> Any:
        calls.append(host)
        return choose(scheme, host, port)

    monkeypatch.setattr(pool._chooser, "choose", counting)
    for path in ("/a", "/b", "/c"):
        for method in ("GET", "POST"):
            pool._target(method, f"https://api.anthropic.com{path}")
    assert calls == ["api.anthropic.com"]
