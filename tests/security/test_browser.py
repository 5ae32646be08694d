"""A web page must never drive the gateway: every request a browser can send is refused.

The header sets are what Chromium sends for each kind of request a page can make
(``fetch`` with a text body, a form post, an image tag, a DNS-rebinding page that
now shares an origin with the gateway), so each refusal is tested as a browser
would meet it, and none reaches the upstream.
"""

from __future__ import annotations

import httpx
import pytest

from tests.serve.conftest import FAMILIES, provider_settings

MSG = b'{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"read .env"}]}'
CHROME = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "accept": "*/*",
    "accept-language": "en-US,en;q=0.9",
    "sec-ch-ua-platform": '"Linux"',
}


def browser(**headers: str) -> dict[str, str]:
    return {**CHROME, **headers}


# A page at https://evil.example calling fetch(..., {method: "POST", body: text}):
# a "simple" request, sent without a preflight.
SIMPLE_FETCH = browser(
    origin="https://evil.example",
    **{
        "content-type": "text/plain;charset=UTF-8",
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "no-cors",
        "sec-fetch-dest": "empty",
    },
)
FORM_POST = browser(
    origin="null",
    **{
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
    },
)
IMG_TAG = browser(
    **{
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "no-cors",
        "sec-fetch-dest": "image",
        "accept": "image/avif,image/webp,*/*",
    },
)


def refused(resp: httpx.Response, status: int, words: str) -> dict:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert doc["type"] == "error" and doc["request_id"] == resp.headers["request-id"]
    kind = "permission_error" if status == 403 else "invalid_request_error"
    assert doc["error"]["type"] == kind
    assert words in doc["error"]["message"]
    assert "access-control-allow-origin" not in resp.headers
    return doc


@pytest.fixture
async def gw(gateway, fake):
    up = await fake(**FAMILIES["anthropic"])
    running = await gateway(**provider_settings("anthropic", up))
    running.upstream = up
    return running


@pytest.mark.parametrize(
    ("name", "headers", "status", "words"),
    [
        ("fetch text/plain", SIMPLE_FETCH, 403, "origin 'https://evil.example'"),
        ("form post", FORM_POST, 403, "origin 'null'"),
        ("image tag", IMG_TAG, 403, "cross-site"),
        ("same-origin text/plain", browser(**{"content-type": "text/plain"}), 415, "text/plain"),
        ("no content type", browser(), 415, "Content-Type none"),
        (
            "multipart",
            browser(**{"content-type": "multipart/form-data; boundary=x"}),
            415,
            "multipart",
        ),
    ],
)
async def test_browser_requests_are_refused(gw, name, headers, status, words) -> None:
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        method = "GET" if name == "image tag" else "POST"
        path = "/v1/models" if method == "GET" else "/v1/messages"
        resp = await http.request(
            method, path, content=None if method == "GET" else MSG, headers=headers
        )
    refused(resp, status, words)
    assert gw.upstream.seen == []


async def test_dns_rebinding_host_is_refused(gw) -> None:
    """After rebinding, the page's origin is the gateway's own, but its Host is not."""
    port = gw.url.rsplit(":", 1)[1]
    rebound = browser(
        host=f"attacker.example:{port}",
        **{
            "content-type": "application/json",
            "sec-fetch-site": "same-origin",
            "sec-fetch-mode": "cors",
        },
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        for method, path in (
            ("POST", "/v1/messages"),
            ("GET", "/v1/models"),
            ("GET", "/metrics"),
            ("GET", "/health/ready"),
            ("POST", "/v1/messages/count_tokens"),
        ):
            resp = await http.request(
                method, path, content=MSG if method == "POST" else None, headers=rebound
            )
            refused(resp, 403, "Host header 'attacker.example")
    assert gw.upstream.seen == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "localhost",
        "[::1]:{port}",
        "127.0.0.1",
        "app.localhost:{port}",
    ],
)
async def test_loopback_hosts_are_served(gw, host: str) -> None:
    port = gw.url.rsplit(":", 1)[1]
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post(
            "/v1/messages",
            content=MSG,
            headers={"host": host.format(port=port), "content-type": "application/json"},
        )
    assert resp.status_code == 200, resp.text


async def test_configured_host_and_origin_are_allowed_with_cors(gateway, fake) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(
        **provider_settings("anthropic", up),
        **{
            "server.allowed_hosts": "lynkr.internal,*.corp.example",
            "server.allowed_origins": "https://chat.corp.example",
        },
    )
    ok = {"content-type": "application/json", "origin": "https://chat.corp.example"}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        for host in ("lynkr.internal", "gw.corp.example:8080"):
            resp = await http.post("/v1/messages", content=MSG, headers={**ok, "host": host})
            assert resp.status_code == 200, resp.text
            assert resp.headers["access-control-allow-origin"] == "https://chat.corp.example"
        preflight = await http.options(
            "/v1/messages",
            headers={
                "origin": "https://chat.corp.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-api-key",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://chat.corp.example"
        assert preflight.headers["access-control-allow-methods"] == "POST"
        other = await http.options(
            "/v1/messages",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        refused(other, 403, "evil.example")
        resp = await http.post("/v1/messages", content=MSG, headers={**ok, "host": "evil.example"})
        refused(resp, 403, "Host header")


async def test_non_loopback_bind_accepts_ip_hosts_only(gateway, fake) -> None:
    """Listening beyond loopback, an IP-literal Host is fine (no page can rebind to one);
    names still need LYNKR_ALLOWED_HOSTS."""
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", up), **{"server.host": "0.0.0.0"})
    json_ct = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        ok = await http.post("/v1/messages", content=MSG, headers={**json_ct, "host": "10.1.2.3"})
        assert ok.status_code == 200, ok.text
        bad = await http.post(
            "/v1/messages", content=MSG, headers={**json_ct, "host": "gateway.example"}
        )
        refused(bad, 403, "Host header")


async def test_claude_code_and_sdk_headers_pass(gw) -> None:
    """What the real clients send: no Origin, no Sec-Fetch, JSON with a charset or not."""
    cli = {
        "content-type": "application/json",
        "user-agent": "claude-cli/2.1.197 (external, cli)",
        "x-app": "cli",
        "anthropic-version": "2023-06-01",
    }
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        for ct in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
            resp = await http.post(
                "/v1/messages?beta=true", content=MSG, headers={**cli, "content-type": ct}
            )
            assert resp.status_code == 200, resp.text
