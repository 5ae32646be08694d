"""Which scenario and upstream a saved request would take, and why.

The gateway's own pieces decide: :mod:`lynkr_cli.serve.scenarios` for the scenario and
:class:`lynkr_cli.serve.routing.Router` for the upstream and its fallbacks, built from
the same settings and registered providers as ``lynkr serve``. No aiohttp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.serve.api import (
    Check,
    Decision,
    Route,
    ScenarioRouter,
    check_routing,
    providers_in_use,
    routes_for,
)
from lynkr_cli.settings import LoadedSettings


@dataclass
class Explanation:
    """A decision, the upstreams it leads to, and every scenario's verdict."""

    source: str
    client_model: str
    decision: Decision
    via: str
    routes: list[Route]
    checks: list[Check]
    threshold: int
    tokens: int | None
    unconfigured: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        primary, *fallbacks = self.routes
        return {
            "source": self.source,
            "model": self.client_model,
            **self.decision.as_dict(),
            "via": self.via,
            "upstream": _route(primary),
            "fallbacks": [_route(r) for r in fallbacks],
            "input_tokens": self.tokens,
            "long_context_threshold": self.threshold,
            "checks": [
                {
                    "scenario": c.scenario,
                    "matched": c.matched,
                    "target": None if c.target is None else str(c.target),
                    "detail": c.detail,
                }
                for c in self.checks
            ],
            "unconfigured": self.unconfigured,
        }


def _route(route: Route) -> dict[str, str]:
    return {"provider": route.provider, "model": route.upstream_model}


# -- input -----------------------------------------------------------------------------
def read_input(name: str, stdin: IO[bytes]) -> tuple[str, bytes]:
    """The bytes of FILE, or of stdin for ``-``; (shown name, data)."""
    if name == "-":
        return "stdin", stdin.read()
    path = Path(name)
    try:
        return name, path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            f"no such file: {name}", hint="Give the path of a saved request body (JSON)."
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{name} is a directory, not a request file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror}") from None


def parse_request(shown: str, data: bytes) -> dict[str, Any]:
    """The Messages body in ``data``: the body itself, or a captured request holding it
    under ``body`` (as in tests/fixtures/claude-code). UsageError when it is neither."""
    import orjson

    from lynkr_cli.serve.api import ApiError, validate_messages_request

    if not data.strip():
        raise UsageError(f"{shown} is empty", hint="Save a request body, e.g. from curl -d.")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{shown} is not JSON: {exc}") from None
    body = doc.get("body") if isinstance(doc, dict) and "messages" not in doc else doc
    if not isinstance(body, dict) or "model" not in body or "messages" not in body:
        raise UsageError(
            f"{shown} is not a Messages request: expected a JSON object with 'model' and "
            "'messages' (or a captured request with them under 'body')",
            hint="Save the JSON body Claude Code sends to POST /v1/messages.",
        )
    try:
        validate_messages_request(body, need_max_tokens=False)
    except ApiError as exc:
        raise UsageError(
            f"{shown} is not a valid Messages request; the gateway would answer 400: {exc.message}"
        ) from None
    return body


# -- the decision ----------------------------------------------------------------------
def explain(
    source: str,
    body: dict[str, Any],
    loaded: LoadedSettings,
    provider_classes: dict[str, type[Any]],
) -> Explanation:
    """Decide as ``lynkr serve`` would with these settings and providers."""
    from lynkr_cli.serve.api import Router

    settings = loaded.settings
    known = set(provider_classes)
    check_routing(settings, known, loaded.sources)
    instances = {name: cls(settings.provider) for name, cls in provider_classes.items()}
    p = settings.provider
    router = Router(p.name, p.model_map, instances, p.fallback)
    scenarios = ScenarioRouter(settings.routing, providers_in_use(settings, known), known)
    decision = scenarios.decide(body)
    model = str(body["model"])
    routes = routes_for(decision, router, model)
    checks = scenarios.checks(body)
    tokens = next((c.tokens for c in checks if c.scenario == "long_context"), None)
    unconfigured = {
        r.provider: instances[r.provider].missing()
        for r in routes
        if r.provider in instances and instances[r.provider].missing()
    }
    return Explanation(
        source,
        model,
        decision,
        _via(decision, router, model),
        routes,
        checks,
        settings.routing.long_context_threshold,
        tokens,
        unconfigured,
    )


def _via(decision: Decision, router: Any, model: str) -> str:
    """Which setting chose the primary upstream."""
    if decision.scenario == "explicit":
        return "the model field (provider,model)"
    if decision.setting:
        return decision.setting
    target = router.map_target(model)
    if target is not None:
        return f"provider.model_map ({model} -> {target})"
    if router.default_provider:
        return f"provider.name ({router.default_provider}, its default model)"
    return "nothing: no provider is configured (provider.name)"
