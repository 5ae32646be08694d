"""End to end through a proxy: client -> lynkr gateway -> HTTP proxy -> fake upstream.

The fake upstream is named ``upstream.test``, a name only the test proxy resolves, so
an answer proves the gateway went through the proxy (a loopback upstream would bypass
the environment's proxy, as curl and httpx do)."""

from __future__ import annotations

import asyncio
import io
import ssl
from typing import Any

import httpx
import pytest
from aiohttp import web

from lynkr_cli import logs
from tests.serve.conftest import FAMILIES
from tests.serve.fakes import FakeUpstream
from tests.serve.proxy_fake import UPSTREAM, cert_for_upstream, clean_proxy_env

BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


async def _tls_site(up: FakeUpstream, cert: str, key: str) -> int:
    """Serve ``up`` over TLS too; returns the port."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    assert up._runner is not None
    site = web.TCPSite(up._runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]


def _anthropic(endpoint: str, **more: Any) -> dict[str, Any]:
    return {
        "provider.name": "anthropic",
        "provider.anthropic_endpoint": endpoint,
        "provider.anthropic_api_key": "up-key",
        **more,
    }


async def test_anthropic_sdk_through_gateway_and_https_proxy_from_environment(
    gateway, fake, proxy, tmp_path, monkeypatch
) -> None:
    from anthropic import AsyncAnthropic

    cert, key = cert_for_upstream(tmp_path)
    up = await fake(**FAMILIES["anthropic"])
    port = await _tls_site(up, cert, key)
    p = await proxy(credentials="alice:pa55-word")
    monkeypatch.setenv("HTTPS_PROXY", f"http://alice:pa55-word@127.0.0.1:{p.port}")
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the corporate CA, as operators set it
    gw = await gateway(**_anthropic(f"https://{UPSTREAM}:{port}/v1/messages"))

    client = AsyncAnthropic(base_url=gw.url, api_key="client", max_retries=0, timeout=20)
    try:
        message = await client.messages.create(**BODY)  # type: ignore[call-overload]
        async with client.messages.stream(**BODY) as stream:  # type: ignore[arg-type]
            final = await stream.get_final_message()
    finally:
        await client.close()
    assert message.content[0].text and final.content[0].text  # type: ignore[union-attr]
    assert len(up.seen) == 2 and up.seen[0].headers["x-api-key"] == "up-key"
    # both requests rode one CONNECT tunnel: the pooled connection was reused
    assert [h.split(b"\r\n")[0] for h in p.heads] == [
        f"CONNECT {UPSTREAM}:{port} HTTP/1.1".encode()
    ]


async def test_explicit_proxy_applies_to_a_loopback_upstream(gateway, fake, proxy) -> None:
    up = await fake(**FAMILIES["anthropic"])
    p = await proxy()
    gw = await gateway(**_anthropic(up.url + "/v1/messages", **{"provider.proxy": p.url}))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20, trust_env=False) as http:
        for _ in range(2):
            assert (await http.post("/v1/messages", json=BODY)).status_code == 200
    assert len(p.heads) == 1
    assert p.heads[0].startswith(f"POST {up.url}/v1/messages HTTP/1.1\r\n".encode())


async def test_http_proxy_from_environment_and_none_disables_it(
    gateway, fake, proxy, monkeypatch
) -> None:
    up = await fake(**FAMILIES["anthropic"])
    p = await proxy()
    monkeypatch.setenv("HTTP_PROXY", p.url)
    port = up.url.rsplit(":", 1)[1]
    endpoint = f"http://{UPSTREAM}:{port}/v1/messages"
    gw = await gateway(**_anthropic(endpoint))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20, trust_env=False) as http:
        assert (await http.post("/v1/messages", json=BODY)).status_code == 200
    assert p.targets == [(UPSTREAM, int(port))]

    off = await gateway(**_anthropic(endpoint, **{"provider.proxy": "none"}))
    async with httpx.AsyncClient(base_url=off.url, timeout=20, trust_env=False) as http:
        resp = await http.post("/v1/messages", json=BODY)
    assert resp.status_code == 502  # direct: upstream.test does not resolve
    assert len(p.heads) == 1 and "proxy" not in resp.json()["error"]["message"]


async def test_proxy_refusing_credentials_is_a_clear_502_and_no_password_is_logged(
    gateway, fake, proxy, tmp_path
) -> None:
    stream = io.StringIO()
    logs.configure("info", stream)
    up = await fake(**FAMILIES["anthropic"])
    p = await proxy(credentials="alice:right-password")
    settings = _anthropic(
        f"https://{UPSTREAM}:{up.url.rsplit(':', 1)[1]}/v1/messages",
        **{
            "provider.proxy": f"http://alice:wrong-Pa55word@127.0.0.1:{p.port}",
            "provider.max_retries": 2,
            "provider.retry_max_wait": 0.05,
            "server.access_log": True,
        },
    )
    gw = await gateway(**settings)
    async with httpx.AsyncClient(base_url=gw.url, timeout=20, trust_env=False) as http:
        resp = await http.post("/v1/messages", json=BODY)
    await asyncio.sleep(0.2)  # access-log lines are written in batches
    assert resp.status_code == 502 and resp.headers["x-should-retry"] == "false"
    message = resp.json()["error"]["message"]
    assert f"through the proxy http://127.0.0.1:{p.port}" in message
    assert "HTTP 407" in message and "did not accept the credentials" in message
    assert "LYNKR_UPSTREAM_PROXY" in message
    assert gw.gw.metrics.value("lynkr_upstream_attempts", "anthropic") == 1  # not retried
    text = stream.getvalue()
    assert '"status":502' in text.replace(" ", "")  # the failure was logged...
    for leak in ("wrong-Pa55word", "alice"):  # ...without the proxy's credentials
        assert leak not in text and leak not in resp.text


async def test_proxy_down_is_a_502_naming_the_proxy(gateway, monkeypatch) -> None:
    from tests.serve.test_gateway_faults import free_port

    port = free_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:hunter2@127.0.0.1:{port}")
    gw = await gateway(**_anthropic(f"https://{UPSTREAM}/v1/messages"))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20, trust_env=False) as http:
        resp = await http.post("/v1/messages", json=BODY)
    assert resp.status_code == 502
    message = resp.json()["error"]["message"]
    assert f"through the proxy http://127.0.0.1:{port}: cannot connect to the proxy" in message
    assert "hunter2" not in resp.text


def test_log_redaction_masks_url_credentials() -> None:
    assert "pa55" not in logs.redact_text("via http://alice:pa55@proxy.corp:3128")
