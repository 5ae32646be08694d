"""Scenario routing: which upstream a request goes to, decided from the request itself.

claude-code-router's Router (``default``, ``background``, ``think``, ``longContext``,
``webSearch``) in its priority order, first match wins:

1. ``explicit``: the model field names ``provider,model`` for a provider in use;
2. ``long_context``: the local token estimate is above ``long_context_threshold``;
3. ``background``: the model is a Claude Haiku (Claude Code's side requests);
4. ``web_search``: a ``web_search*`` server tool is offered;
5. ``think``: ``thinking.type`` is ``enabled`` (an explicit budget; ``adaptive``, which
   Claude Code sends on every main request, is not ``think``);
6. ``default``.

A scenario whose target is not set is skipped, as claude-code-router does. With no
target set at all the scenario is ``none`` and nothing changes: ``provider.model_map``
decides, as before. A ``Decision`` without a target (``none``, or ``default`` with
``routing.default`` unset) leaves the choice to the model map.

No aiohttp here: ``lynkr route explain`` uses this module as the gateway does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from lynkr_cli.errors import ConfigError
from lynkr_cli.serve import tokens as counter
from lynkr_cli.settings import RoutingSettings, Settings, provider_name, route_target

if TYPE_CHECKING:
    from lynkr_cli.serve.providers.base import Route
    from lynkr_cli.serve.routing import Router

Scenario = Literal[
    "explicit", "long_context", "background", "web_search", "think", "default", "none"
]
# The settings that hold a target, in the order `lynkr config show` lists them.
TARGETS = ("default", "background", "think", "long_context", "web_search")
# Detection order after the explicit override (claude-code-router's utils/router.ts).
DETECTED = ("long_context", "background", "web_search", "think")

Count = Callable[[dict[str, Any]], int]

# Upper bound of the local estimate per body byte, so small bodies skip the tokenizer.
# Every cl100k token is at least one byte; every text the counter reads appears in the
# body at least as long, except JSON it re-serialises (tool schemas, tool inputs) with a
# space after each ',' and ':', at most 1.5x; the fixed charges per message, block and
# tool (4, 2, 8 tokens) are smaller than the keys and braces of what they are charged
# for. So estimate <= TEXT_CORRECTION * 1.5 * bytes + TOOLS_SYSTEM_PROMPT + 1.
# Images (1,600 tokens) and documents (2,000 a page) cost more than their bytes: a body
# that mentions either is always counted.
TOKENS_PER_BYTE = counter.TEXT_CORRECTION * 1.5
BOUND_CONSTANT = counter.TOOLS_SYSTEM_PROMPT + 1
_COSTLY = (b'"image"', b'"document"')
# Above this size the body is not tokenized (about 140 ms a MB on a cold cache, on the
# event loop) but estimated at 4 bytes a token, the counter's own rough fallback: text
# that large is far above any threshold (base64 images inflate the estimate).
COUNT_LIMIT = 1024 * 1024
BYTES_PER_TOKEN = 4


@dataclass(frozen=True, slots=True)
class Target:
    """An upstream a scenario names: a provider and a model ("" is its default model)."""

    provider: str
    model: str = ""

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}" if self.model else self.provider


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one request goes and why. ``route_target`` None: the model map decides."""

    scenario: Scenario
    route_target: Target | None
    reason: str
    tokens_counted: int | None = None

    @property
    def setting(self) -> str:
        """The setting that chose the target (``routing.background``), or ""."""
        if self.route_target is None or self.scenario in ("explicit", "none"):
            return ""
        return f"routing.{self.scenario}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "target": None if self.route_target is None else str(self.route_target),
            "reason": self.reason,
            "tokens_counted": self.tokens_counted,
        }


@dataclass(frozen=True, slots=True)
class Check:
    """One scenario's verdict on a request, for ``lynkr route explain``."""

    scenario: str
    matched: bool
    target: Target | None
    detail: str
    tokens: int | None = None


NONE = Decision("none", None, "no [routing] target is set: provider.model_map decides")


class ScenarioRouter:
    """The ``[routing]`` settings, parsed once; :meth:`decide` runs per request.

    ``providers`` are the names a client may pick with ``provider,model`` (see
    :func:`providers_in_use`); ``known`` adds the other registered names, so that
    naming one of those is explained rather than silently taken as a model name.
    """

    def __init__(
        self,
        routing: RoutingSettings,
        providers: Collection[str],
        known: Collection[str] = (),
        count: Count | None = None,
    ) -> None:
        self.targets = {
            name: Target(*route_target(value))
            for name in TARGETS
            if (value := getattr(routing, name))
        }
        self.threshold = routing.long_context_threshold
        self.allowed = frozenset(providers)
        self.known = frozenset(known) | self.allowed
        self._count = count

    @property
    def active(self) -> bool:
        return bool(self.targets)

    def decide(self, body: Mapping[str, Any], *, raw: bytes | None = None) -> Decision:
        """The scenario for a Messages (or count_tokens) body; never raises.

        ``raw`` is the body as received, when at hand: its length bounds the token
        estimate without serialising the body again.
        """
        if not self.targets:
            return NONE
        explicit = self.explicit(body)
        if explicit is not None:
            return explicit
        counted: int | None = None
        for scenario in DETECTED:
            target = self.targets.get(scenario)
            if target is None:
                continue  # as claude-code-router: an unset scenario is not detected
            if scenario == "long_context":
                matched, detail, counted = self.long_context(body, raw)
            else:
                matched, detail = DETECTORS[scenario](body)
            if matched:
                return Decision(scenario, target, detail, counted)  # type: ignore[arg-type]
        return self._default(counted)

    def _default(self, counted: int | None) -> Decision:
        target = self.targets.get("default")
        if target is None:
            reason = (
                "no scenario matched and routing.default is not set: provider.model_map decides"
            )
        else:
            reason = "no scenario matched: routing.default"
        return Decision("default", target, reason, counted)

    def checks(self, body: Mapping[str, Any], *, raw: bytes | None = None) -> list[Check]:
        """Every scenario's verdict, set or not, tokens counted: for ``route explain``."""
        explicit = self.explicit(body)
        found = [
            Check(
                "explicit",
                explicit is not None,
                None if explicit is None else explicit.route_target,
                self._explicit_detail(body) if explicit is None else explicit.reason,
            )
        ]
        for scenario in DETECTED:
            tokens = None
            if scenario == "long_context":
                matched, detail, tokens = self.long_context(body, raw, measure=True)
            else:
                matched, detail = DETECTORS[scenario](body)
            found.append(Check(scenario, matched, self.targets.get(scenario), detail, tokens))
        return found

    # -- the explicit override ---------------------------------------------------------
    def explicit(self, body: Mapping[str, Any]) -> Decision | None:
        model = body.get("model")
        if not isinstance(model, str) or "," not in model:
            return None
        head, _sep, tail = model.partition(",")
        provider, name = provider_name(head), tail.strip()
        if provider not in self.allowed or not name:
            return None
        reason = f"model {shown(model)} names provider {provider} and its model {shown(name)}"
        return Decision("explicit", Target(provider, name), reason)

    def _explicit_detail(self, body: Mapping[str, Any]) -> str:
        model = body.get("model")
        if not isinstance(model, str) or "," not in model:
            return "the model field names no provider,model"
        head = model.partition(",")[0]
        provider = provider_name(head)
        if provider in self.allowed:
            return f"{shown(model)} names provider {provider} but no model after the comma"
        if provider in self.known:
            return (
                f"{provider} is a provider this gateway does not route to (not provider.name, "
                "provider.fallback, a provider.model_map target or a [routing] target): "
                f"{shown(model)} is taken as a model name"
            )
        return f"{shown(head.strip())} is not a provider: {shown(model)} is taken as a model name"

    # -- long context ------------------------------------------------------------------
    def long_context(
        self, body: Mapping[str, Any], raw: bytes | None, *, measure: bool = False
    ) -> tuple[bool, str, int | None]:
        """(matched, why, tokens counted or None when the size alone settled it)."""
        th = self.threshold
        data = raw if raw is not None else _dumps(body)
        bound = None if data is None else token_bound(data)
        if bound is not None and bound <= th and not measure:
            size = len(data or b"")
            why = f"at most ~{bound:,} input tokens in {size:,} bytes: not counted"
            return False, f"{why}, not above long_context_threshold {th}", None
        if data is not None and len(data) > COUNT_LIMIT:
            tokens = len(data) // BYTES_PER_TOKEN
            how = f"input tokens (estimated from {len(data):,} bytes)"
        else:
            tokens, how = self.count(body), "input tokens"
        if tokens > th:
            return True, f"~{tokens:,} {how} > long_context_threshold {th}", tokens
        return False, f"~{tokens:,} {how} <= long_context_threshold {th}", tokens

    def count(self, body: Mapping[str, Any]) -> int:
        count = self._count or counter.count_request_tokens
        return count(body if isinstance(body, dict) else dict(body))


def _dumps(body: Mapping[str, Any]) -> bytes | None:
    import orjson

    try:
        return orjson.dumps(body)
    except (TypeError, orjson.JSONEncodeError):  # too deep, or not JSON data: count it
        return None


def shown(text: str, limit: int = 120) -> str:
    """Client text fit for a reason, a log line or a terminal: short, no control
    characters (a model name could carry CR/LF or terminal escapes)."""
    if len(text) <= limit and text.isprintable():
        return text
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def token_bound(raw: bytes) -> int | None:
    """The most the local estimate can be for this body, or None when it may hold
    images or documents (whose cost is not bounded by their bytes)."""
    if any(marker in raw for marker in _COSTLY):
        return None
    return math.ceil(len(raw) * TOKENS_PER_BYTE) + BOUND_CONSTANT


# -- the detectors: (matched, why) -------------------------------------------------------
def background(body: Mapping[str, Any]) -> tuple[bool, str]:
    model = body.get("model")
    if not isinstance(model, str):
        return False, "the model field is not a string"
    lowered = model.lower()
    if "claude" in lowered and "haiku" in lowered:
        return True, f"model {shown(model)} is in the haiku family"
    return False, f"model {shown(model)} is not in the haiku family"


def web_search(body: Mapping[str, Any]) -> tuple[bool, str]:
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind.startswith("web_search"):
            return True, f"tools include the {shown(kind)} server tool"
    return False, "no web_search* server tool in tools"


def think(body: Mapping[str, Any]) -> tuple[bool, str]:
    thinking = body.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "enabled":
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        return True, f"thinking is enabled (budget_tokens {shown(repr(budget), 20)})"
    if kind == "adaptive":
        return False, "thinking is adaptive (Claude Code's default on every main request)"
    if thinking is None:
        return False, "no thinking field"
    return False, f"thinking type is {shown(repr(kind), 40)}, not 'enabled'"


DETECTORS: dict[str, Callable[[Mapping[str, Any]], tuple[bool, str]]] = {
    "background": background,
    "web_search": web_search,
    "think": think,
}


# -- wiring --------------------------------------------------------------------------------
def decide(
    body: Mapping[str, Any],
    settings: Settings,
    *,
    providers: Collection[str],
    raw: bytes | None = None,
    count: Count | None = None,
) -> Decision:
    """One decision without keeping a :class:`ScenarioRouter` (tests, one-off use)."""
    return ScenarioRouter(settings.routing, providers, count=count).decide(body, raw=raw)


def routes_for(decision: Decision, router: Router, client_model: str) -> list[Route]:
    """The primary route for a decision, then the fallbacks: the model map's when the
    decision has no target, exactly as without ``[routing]``."""
    target = decision.route_target
    if target is None:
        return router.routes(client_model)
    return router.routes_to(client_model, target.provider, target.model)


def providers_in_use(settings: Settings, known: Iterable[str]) -> set[str]:
    """Providers this gateway routes to: ``provider.name``, ``provider.fallback``, the
    providers of ``provider.model_map`` targets and of ``[routing]`` targets. A client's
    ``provider,model`` may name only these."""
    names = set(known)
    p = settings.provider
    used = {p.name, *p.fallback}
    used |= {provider_name(target.partition(":")[0]) for target in p.model_map.values()}
    used |= {route_target(v)[0] for v in _set_targets(settings.routing).values()}
    return {name for name in used if name in names}


def _set_targets(routing: RoutingSettings) -> dict[str, str]:
    return {name: value for name in TARGETS if (value := getattr(routing, name))}


def check_routing(
    settings: Settings, known: Collection[str], sources: Mapping[str, str] | None = None
) -> None:
    """Raise ConfigError (exit 3) naming the first ``[routing]`` target whose provider is
    not registered, and where it was set. ``lynkr serve`` calls it at start."""
    for name, value in _set_targets(settings.routing).items():
        provider, _model = route_target(value)
        if provider in known:
            continue
        key = f"routing.{name}"
        origin = (sources or {}).get(key, "")
        where = f" (from {origin})" if origin and origin != "default" else ""
        raise ConfigError(
            f"{key} = {value!r}{where} names an unknown provider {provider!r}",
            hint=f"Write provider/model with one of: {', '.join(sorted(known))}.",
        )
