"""Shared pieces of the routing tests: settings, the real provider registry, fixtures."""

from __future__ import annotations

import json
from typing import Any

from lynkr_cli.serve.providers.base import Provider
from lynkr_cli.serve.routing import Router
from lynkr_cli.serve.scenarios import ScenarioRouter, providers_in_use
from lynkr_cli.settings import Settings
from tests.conftest import FIXTURES

# Every scenario set, to different upstreams so a test can tell them apart.
FULL = {
    "default": "databricks/databricks-claude-sonnet-4-5",
    "background": "openai/gpt-4o-mini",
    "think": "azure-anthropic/claude-opus-4-1",
    "long_context": "anthropic/claude-sonnet-4-5",
    "web_search": "ollama/qwen3:8b",
}


def known() -> list[str]:
    from lynkr_cli.registry import providers

    return sorted(providers())


def settings(routing: dict[str, Any] | None = None, **provider: Any) -> Settings:
    return Settings(provider=provider or {"name": "databricks"}, routing=routing or {})


def scenario_router(s: Settings, count: Any = None) -> ScenarioRouter:
    names = known()
    return ScenarioRouter(s.routing, providers_in_use(s, names), names, count=count)


def router(s: Settings) -> Router:
    from lynkr_cli.registry import providers

    instances: dict[str, Provider] = {n: c(s.provider) for n, c in providers().items()}
    p = s.provider
    return Router(p.name, p.model_map, instances, p.fallback)


def fixture_body(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    body: dict[str, Any] = doc["body"]
    return body


def body(**fields: Any) -> dict[str, Any]:
    """A small Messages body, with ``fields`` on top."""
    base: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return {**base, **fields}


WEB_SEARCH_TOOL = {"type": "web_search_20250305", "name": "web_search", "max_uses": 8}
