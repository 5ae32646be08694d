"""One completion through the gateway's own provider code, in process (for ``--llm``).

This builds the same ``Gateway`` that ``lynkr serve`` runs (registered providers,
the model router, the upstream sender with its timeouts and retries) and reads
one streamed answer as Anthropic events. Imported only when ``--llm`` is used,
so the CLI never loads aiohttp otherwise.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lynkr_cli.errors import ConfigError, UpstreamError
from lynkr_cli.settings import Settings

# The client-facing model name when provider.model_default is empty; the router maps it.
DEFAULT_CLIENT_MODEL = "claude-sonnet-4-5"


def complete_text(settings: Settings, system: str, prompt: str, max_tokens: int) -> tuple[str, str]:
    """(text, upstream model) of one answer; ConfigError or UpstreamError on failure."""
    return asyncio.run(_complete(settings, system, prompt, max_tokens))


def gateway_route(settings: Settings) -> tuple[Any, Any]:
    """The in-process ``Gateway`` ``lynkr serve`` would run, and the route of its default model.

    ConfigError when the provider is not configured. ``await gw.start()`` before use and
    ``await gw.stop()`` after; :func:`lynkr_cli.serve.pipeline.upstream_events` sends.
    """
    from lynkr_cli.registry import providers
    from lynkr_cli.serve.state import Gateway

    gw = Gateway(settings, {name: cls(settings.provider) for name, cls in providers().items()})
    problem = gw.configuration_problem()
    if problem is not None:
        raise ConfigError(problem)
    client_model = settings.provider.model_default or DEFAULT_CLIENT_MODEL
    return gw, gw.router.routes(client_model)[0]


async def _complete(
    settings: Settings, system: str, prompt: str, max_tokens: int
) -> tuple[str, str]:
    from lynkr_cli.serve.api import ApiError
    from lynkr_cli.serve.pipeline import upstream_events
    from lynkr_cli.serve.sse import Accumulator

    try:
        gw, route = gateway_route(settings)
    except ConfigError as exc:
        raise ConfigError(f"--llm: {exc.message}") from exc
    body: dict[str, Any] = {
        "model": route.client_model,
        "max_tokens": max_tokens,
        "system": system,
        "messages": [{"role": "user", "content": prompt}],
    }
    acc = Accumulator()
    await gw.start()
    try:
        async for event in upstream_events(gw, body, route):
            acc.add(event)
    except ApiError as exc:
        raise UpstreamError(
            f"--llm: the provider '{route.provider}' failed: {exc.message}",
            hint="Check the provider with `lynkr doctor`.",
        ) from exc
    finally:
        await gw.stop()
    return _text(acc, route.provider), route.upstream_model


def _text(acc: Any, provider: str) -> str:
    if acc.error is not None or acc.message is None:
        detail = (acc.error or {}).get("message", "no answer")
        raise UpstreamError(f"--llm: the provider '{provider}' failed: {detail}")
    blocks = acc.message.get("content") or []
    return "".join(b.get("text", "") for b in blocks if b.get("type") == "text").strip()
