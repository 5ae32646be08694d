"""serve's facade: what other packages may use of the gateway.

- In-process calls (``lynkr git --llm``, ``lynkr doctor --deep``): :func:`open_gateway`
  (``async with open_gateway(settings) as gw``: the ``Gateway`` that ``lynkr serve`` would
  run, registered providers, model router, upstream sender with its timeouts and retries,
  started and stopped; ConfigError when the provider is not configured), whose
  ``gw.stream(body)`` is one upstream call as Anthropic stream events (``model`` defaults
  to the target's; :class:`ProviderFailed`, an UpstreamError with the HTTP status, when
  the provider refuses); :func:`complete` (one whole answer, ``(Message, Target)``) and
  :func:`complete_text`; :class:`Target` (where a request goes).
- The routing decision for ``lynkr route``: ``ScenarioRouter``, ``Decision``, ``Check``,
  ``check_routing``, ``providers_in_use``, ``routes_for``, ``Router``, ``Route``, and the
  request validation the gateway applies (``validate_messages_request``, ``ApiError``).
- What doctor checks the way the gateway does it: the upstream proxy choice (``Proxy``,
  ``Chooser``, ``speakable``) and the token command (``TokenCommand``,
  ``TokenCommandError``, ``RUN_TIMEOUT``).

Everything is imported on first use (``__getattr__``), so importing this module loads
neither aiohttp nor the gateway: ``lynkr git status`` and ``lynkr doctor`` stay quick.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import ConfigError, UpstreamError
from lynkr_cli.settings import Settings

if TYPE_CHECKING:
    from lynkr_cli.serve.errors import ApiError, validate_messages_request
    from lynkr_cli.serve.providers.base import Route
    from lynkr_cli.serve.proxy import Chooser, Proxy, speakable
    from lynkr_cli.serve.routing import Router
    from lynkr_cli.serve.scenarios import (
        Check,
        Decision,
        ScenarioRouter,
        check_routing,
        providers_in_use,
        routes_for,
    )
    from lynkr_cli.serve.token_command import RUN_TIMEOUT, TokenCommand, TokenCommandError

# Where each re-exported name lives, imported on first use.
_LAZY: dict[str, str] = {
    "ApiError": "errors",
    "validate_messages_request": "errors",
    "Route": "providers.base",
    "Chooser": "proxy",
    "Proxy": "proxy",
    "speakable": "proxy",
    "Router": "routing",
    **{
        name: "scenarios"
        for name in (
            "Check",
            "Decision",
            "ScenarioRouter",
            "check_routing",
            "providers_in_use",
            "routes_for",
        )
    },
    **{name: "token_command" for name in ("RUN_TIMEOUT", "TokenCommand", "TokenCommandError")},
}


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"lynkr_cli.serve.{module}"), name)


# The client-facing model name when provider.model_default is empty; the router maps it.
DEFAULT_CLIENT_MODEL = "claude-sonnet-4-5"


@dataclass(frozen=True)
class Target:
    """Where an in-process request goes."""

    provider: str
    client_model: str
    upstream_model: str
    credential_setting: str  # e.g. "provider.api_key (LYNKR_API_KEY)", for fixes


class ProviderFailed(UpstreamError):
    """The provider refused or failed the request: ``status`` (HTTP) and ``detail`` say how."""

    def __init__(self, provider: str, status: int, detail: str) -> None:
        super().__init__(
            f"the provider '{provider}' failed: {detail}",
            hint="Check the provider with `lynkr doctor`.",
        )
        self.status = status
        self.detail = detail


class Session:
    """A started in-process gateway and the route of its default model."""

    def __init__(self, gateway: Any, route: Any, target: Target) -> None:
        self._gateway = gateway
        self._route = route
        self.target = target

    async def stream(self, body: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Anthropic stream events of one upstream call for ``body``."""
        from lynkr_cli.serve.errors import ApiError
        from lynkr_cli.serve.pipeline import upstream_events

        request = {"model": self.target.client_model, **body}
        try:
            async for event in upstream_events(self._gateway, request, self._route):
                yield event
        except ApiError as exc:
            raise ProviderFailed(self.target.provider, exc.status, exc.message) from exc


@asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[Session]:
    """The gateway ``lynkr serve`` would run, started; stopped on leaving the block."""
    from lynkr_cli.registry import providers
    from lynkr_cli.serve.state import Gateway

    gw = Gateway(settings, {name: cls(settings.provider) for name, cls in providers().items()})
    problem = gw.configuration_problem()
    if problem is not None:
        raise ConfigError(problem)
    route = gw.router.routes(settings.provider.model_default or DEFAULT_CLIENT_MODEL)[0]
    provider = gw.providers.get(route.provider)
    setting = provider.credential_setting() if provider is not None else "provider.api_key"
    target = Target(route.provider, route.client_model, route.upstream_model, setting)
    await gw.start()
    try:
        yield Session(gw, route, target)
    finally:
        await gw.stop()


async def complete(settings: Settings, body: Mapping[str, Any]) -> tuple[dict[str, Any], Target]:
    """One whole answer (an Anthropic Message) and where it came from."""
    from lynkr_cli.serve.sse import Accumulator

    acc = Accumulator()
    async with open_gateway(settings) as gw:
        async for event in gw.stream(body):
            acc.add(event)
    if acc.error is not None or acc.message is None:
        detail = (acc.error or {}).get("message", "no answer")
        raise ProviderFailed(gw.target.provider, 502, str(detail))
    return acc.message, gw.target


def complete_text(settings: Settings, system: str, prompt: str, max_tokens: int) -> tuple[str, str]:
    """(text, upstream model) of one answer; ConfigError or UpstreamError on failure."""
    body = {
        "max_tokens": max_tokens,
        "system": system,
        "messages": [{"role": "user", "content": prompt}],
    }
    try:
        message, target = asyncio.run(complete(settings, body))
    except ConfigError as exc:
        raise ConfigError(f"--llm: {exc.message}") from exc
    except UpstreamError as exc:
        raise UpstreamError(f"--llm: {exc.message}", hint=exc.hint) from exc
    blocks = message.get("content") or []
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text").strip()
    return text, target.upstream_model


__all__ = [
    "DEFAULT_CLIENT_MODEL",
    "RUN_TIMEOUT",
    "ApiError",
    "Check",
    "Chooser",
    "Decision",
    "ProviderFailed",
    "Proxy",
    "Route",
    "Router",
    "ScenarioRouter",
    "Session",
    "Target",
    "TokenCommand",
    "TokenCommandError",
    "check_routing",
    "complete",
    "complete_text",
    "open_gateway",
    "providers_in_use",
    "routes_for",
    "speakable",
    "validate_messages_request",
]
