"""`lynkr doctor --only upstream` takes the gateway's proxy decision: it probes the
upstream through the proxy the gateway would use (a real proxy on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.serve.proxy_fake import UPSTREAM, Proxy, clean_proxy_env
from tests.switch.helpers import serve

Server = TypeVar("Server", bound=Any)


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """A test server (``start()``/``stop()`` coroutines) on its own loop in a thread
    (doctor's probe is synchronous)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def running_proxy(credentials: str | None = None) -> AbstractContextManager[Proxy]:
    return running(Proxy(credentials))


async def _root(request: web.Request) -> web.Response:
    return web.Response(status=405)


def test_upstream_probed_through_the_environment_proxy(doctor, monkeypatch) -> None:
    with serve({("GET", "/v1/messages"): _root}) as up, running_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
        monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"http://{UPSTREAM}:{up['port']}/v1/messages")
        _, checks, _ = doctor("--only", "upstream")
    result = checks["upstream"]
    assert result["status"] == "ok", result
    assert result["details"]["http_status"] == 405  # the name resolved only at the proxy
    assert result["details"]["proxy"] == proxy.url and proxy.url in result["summary"]
    assert proxy.targets == [(UPSTREAM, up["port"])]


def test_proxy_refusing_connect_is_a_proxy_failure(doctor, monkeypatch) -> None:
    with running_proxy(credentials="u:right") as proxy:
        monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
        monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"https://{UPSTREAM}/v1/messages")
        monkeypatch.setenv("LYNKR_UPSTREAM_PROXY", f"http://u:wrong-secret@127.0.0.1:{proxy.port}")
        code, checks, out = doctor("--only", "upstream")
    result = checks["upstream"]
    assert code == 1 and result["details"]["stage"] == "proxy", result
    assert "407" in result["summary"] and "provider.proxy" in result["fix"]
    assert "wrong-secret" not in out


def test_none_probes_directly(doctor, monkeypatch) -> None:
    with serve({("GET", "/v1/messages"): _root}) as up, running_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("LYNKR_UPSTREAM_PROXY", "none")
        monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
        monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"http://{UPSTREAM}:{up['port']}/v1/messages")
        code, checks, _ = doctor("--only", "upstream")
    assert code == 1 and "proxy" not in checks["upstream"]["details"]
    assert proxy.heads == []
