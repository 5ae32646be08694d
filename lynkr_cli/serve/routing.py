"""The model map: which provider and upstream model serve the model a client names.

``provider.model_map`` maps glob patterns to targets, first match wins::

    claude-haiku-*   = openai:gpt-4o-mini     # provider:model
    claude-opus-*    = databricks-claude-opus # a model on the default provider
    claude-sonnet-*  = databricks             # a provider, with its default model

A client name nothing matches goes to the default provider (``provider.name``)
and its default model. Anthropic-native providers with no default keep the
client's name. ``provider.fallback`` lists the providers (or ``provider:model``)
tried in order when the chosen one is down.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from lynkr_cli.serve.providers.base import Provider, Route
from lynkr_cli.settings import provider_name


class Router:
    """Resolves model names against the configured providers; results are memoised."""

    def __init__(
        self,
        default_provider: str,
        model_map: Mapping[str, str],
        providers: Mapping[str, Provider],
        fallback: list[str],
    ) -> None:
        self.default_provider = default_provider
        self.model_map = dict(model_map)
        self.providers = providers
        self.fallback = list(fallback)
        self._memo: dict[str, list[Route]] = {}

    def routes(self, client_model: str) -> list[Route]:
        """The primary route, then each fallback route, for one client model name."""
        found = self._memo.get(client_model)
        if found is None:
            found = self._with_fallbacks(
                client_model, self._resolve(client_model, self._match(client_model))
            )
            if len(self._memo) < 4096:  # client names are few; bound it anyway
                self._memo[client_model] = found
        return found

    def _match(self, client_model: str) -> str | None:
        if client_model in self.model_map:
            return self.model_map[client_model]
        for pattern, target in self.model_map.items():
            if fnmatch.fnmatchcase(client_model, pattern):
                return target
        return None

    def _resolve(self, client_model: str, target: str | None) -> Route:
        provider, model = self.default_provider, ""
        if target:
            head, _sep, tail = target.partition(":")
            name = provider_name(head)
            if name in self.providers:
                provider, model = name, tail
            else:
                model = target
        if not model:
            impl = self.providers.get(provider)
            model = (impl.default_model() if impl is not None else "") or client_model
        return Route(provider, model, client_model)

    # -- for scenario routing (lynkr_cli.serve.scenarios.routes_for) ---------------------
    def routes_to(self, client_model: str, provider: str, model: str) -> list[Route]:
        """The route to ``provider`` and ``model`` (its default model when ""), then each
        fallback route, as :meth:`routes` orders them."""
        return self._with_fallbacks(
            client_model, self._resolve(client_model, f"{provider}:{model}")
        )

    def _with_fallbacks(self, client_model: str, primary: Route) -> list[Route]:
        found = [primary]
        for target in self.fallback:
            route = self._resolve(client_model, target)
            if route not in found:
                found.append(route)
        return found

    def map_target(self, client_model: str) -> str | None:
        """The ``provider.model_map`` target that matches a client model name, if any."""
        return self._match(client_model)

    def aliases(self) -> list[str]:
        """Client-facing model names that need no glob to match, for ``GET /v1/models``."""
        return [name for name in self.model_map if not any(c in name for c in "*?[")]
