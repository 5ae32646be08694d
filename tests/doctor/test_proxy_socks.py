"""`lynkr doctor --only upstream` with a SOCKS proxy in the way: doctor's own HTTP client
(httpx, without SOCKS support) does not probe through it. Without --deep the check warns
and points to --deep; with --deep a real 1-token request goes the way the gateway sends
it (aiohttp-socks), through a real SOCKS5 proxy on 127.0.0.1 that alone resolves the
upstream's name."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest

from tests.doctor.test_deep import GOOD_KEY, upstream
from tests.doctor.test_proxy import running
from tests.serve.proxy_fake import UPSTREAM, clean_proxy_env
from tests.serve.test_transport_proxies import Socks5
from tests.switch.helpers import serve

PASSWORD = "socks-secret-pass-1"


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_proxy_env(monkeypatch)


def running_socks() -> AbstractContextManager[Socks5]:
    return running(Socks5(credentials=("doc", PASSWORD)))


def _configure(monkeypatch: pytest.MonkeyPatch, port: int, socks: Socks5) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", f"http://{UPSTREAM}:{port}/v1/messages")
    monkeypatch.setenv("ANTHROPIC_API_KEY", GOOD_KEY)
    proxy = f"socks5h://doc:{PASSWORD}@127.0.0.1:{socks.port}"
    monkeypatch.setenv("LYNKR_UPSTREAM_PROXY", proxy)


def test_without_deep_a_socks_proxy_is_a_warning_naming_deep(doctor, monkeypatch) -> None:
    with serve({("POST", "/v1/messages"): upstream}) as up, running_socks() as socks:
        _configure(monkeypatch, up["port"], socks)
        code, checks, out = doctor("--only", "upstream")
        targets = list(socks.targets)
    result = checks["upstream"]
    assert code == 0 and result["status"] == "warn", result
    assert "SOCKS" in result["summary"] and "not probed" in result["summary"]
    assert "--deep" in result["fix"]
    assert result["details"]["proxy"] == f"socks5h://127.0.0.1:{socks.port}"
    assert targets == [] and up["seen"] == []  # nothing sent
    assert PASSWORD not in out


def test_with_deep_the_request_goes_through_the_socks_proxy(doctor, monkeypatch) -> None:
    with serve({("POST", "/v1/messages"): upstream}) as up, running_socks() as socks:
        _configure(monkeypatch, up["port"], socks)
        code, checks, out = doctor("--deep", "--only", "upstream")
        targets = list(socks.targets)
    result = checks["upstream"]
    assert code == 0 and result["status"] == "ok", result
    assert "1-token request" in result["summary"]
    assert targets and targets[0] == (UPSTREAM, up["port"])  # the proxy resolved the name
    assert len(up["seen"]) == 1 and up["seen"][0]["headers"]["x-api-key"] == GOOD_KEY
    assert PASSWORD not in out and GOOD_KEY not in out
