"""Fixtures for gateway tests: fake upstreams and an in-process gateway on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from tests.serve.fakes import FakeUpstream
from tests.serve.proxy_fake import Proxy


@dataclass
class Running:
    url: str
    gw: Any  # lynkr_cli.serve.state.Gateway


@pytest.fixture
async def fake() -> AsyncIterator[Callable[..., Awaitable[FakeUpstream]]]:
    started: list[FakeUpstream] = []

    async def make(**kwargs: Any) -> FakeUpstream:
        upstream = await FakeUpstream(**kwargs).start()
        started.append(upstream)
        return upstream

    yield make
    for upstream in started:
        await upstream.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[Callable[..., Awaitable[Proxy]]]:
    """``await proxy(credentials="user:password")`` → a running HTTP proxy on 127.0.0.1."""
    started: list[Proxy] = []

    async def start(credentials: str | None = None) -> Proxy:
        p = await Proxy(credentials).start()
        started.append(p)
        return p

    yield start
    for p in started:
        await p.stop()


@pytest.fixture(params=["server"])
async def gateway(request: Any) -> AsyncIterator[Callable[..., Awaitable[Running]]]:
    """``await gateway(**{"provider.name": "openai", ...})`` → a running gateway, served the
    way ``lynkr serve`` serves it (the low-level server); ``app`` runs the aiohttp
    Application from ``create_app`` instead (tests parametrise ``gateway`` indirectly)."""
    from lynkr_cli.serve.app import GATEWAY_KEY, build, create_app, create_server
    from lynkr_cli.settings import get_settings

    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(**overrides: Any) -> Running:
        defaults = {
            "server.access_log": False,
            "provider.max_retries": 0,
            "gateway.tools_mode": "never",  # the server-tool loop has its own tests
            "cache.enabled": False,  # the prompt cache has its own tests
        }
        settings = get_settings({**defaults, **overrides})
        runner: web.BaseRunner
        if request.param == "app":
            app = create_app(settings)
            gw = app[GATEWAY_KEY]
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            cleanups.append(runner.cleanup)
        else:
            built = build(settings)
            await built.start()
            gw = built.gw
            runner = web.ServerRunner(create_server(built))
            cleanups.append(built.stop)
            cleanups.append(runner.cleanup)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        return Running(f"http://127.0.0.1:{port}", gw)

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()


def provider_settings(name: str, upstream: FakeUpstream) -> dict[str, Any]:
    """Gateway settings pointing provider ``name`` at ``upstream`` with key ``up-key``."""
    base = {"provider.name": name}
    if name == "anthropic":
        return {**base, "provider.anthropic_endpoint": upstream.url + "/v1/messages",
                "provider.anthropic_api_key": "up-key"}  # fmt: skip
    if name == "azure-anthropic":
        return {**base, "provider.azure_anthropic_endpoint": upstream.url + "/anthropic",
                "provider.azure_anthropic_api_key": "up-key"}  # fmt: skip
    if name in ("databricks", "databricks-anthropic"):
        mode = "anthropic" if name == "databricks-anthropic" else "chat"
        return {"provider.name": "databricks", "provider.databricks_api_base": upstream.url,
                "provider.databricks_api_key": "up-key", "provider.databricks_mode": mode,
                "provider.model_default": "my-endpoint"}  # fmt: skip
    if name == "openai":
        url = upstream.url + "/v1/chat/completions"
        key, model = "up-key", "gpt-test"
        return {**base, "provider.openai_endpoint": url,
                "provider.openai_api_key": key, "provider.openai_model": model}  # fmt: skip
    if name == "ollama":
        return {
            **base,
            "provider.ollama_endpoint": upstream.url,
            "provider.ollama_model": "llama-t",
        }
    raise ValueError(name)


# Fake upstream arguments per provider family: the path and auth the real service expects.
FAMILIES: dict[str, dict[str, Any]] = {
    "anthropic": {"wire": "anthropic", "path": "/v1/messages"},
    "azure-anthropic": {"wire": "anthropic", "path": "/anthropic/v1/messages"},
    "databricks-anthropic": {
        "wire": "anthropic",
        "path": "/serving-endpoints/anthropic/v1/messages",
        "auth_header": "Authorization",
        "auth_value": "Bearer up-key",
    },
    "databricks": {
        "wire": "openai",
        "path": "/serving-endpoints/my-endpoint/invocations",
        "auth_header": "Authorization",
        "auth_value": "Bearer up-key",
        "extra_fields": {"thinking"},
    },
    "openai": {
        "wire": "openai",
        "path": "/v1/chat/completions",
        "auth_header": "Authorization",
        "auth_value": "Bearer up-key",
    },
    "ollama": {
        "wire": "openai",
        "path": "/v1/chat/completions",
        "auth_header": "x-none",
        "auth_value": None,
    },
}
