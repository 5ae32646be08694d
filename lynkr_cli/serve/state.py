"""The gateway's long-lived state and the per-request context."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from lynkr_cli.serve.context import Context, end_stream, error_frame_for
from lynkr_cli.serve.errors import ApiError, register_secrets
from lynkr_cli.serve.metrics import Metrics
from lynkr_cli.serve.providers.base import Provider, Route
from lynkr_cli.serve.routing import Router
from lynkr_cli.serve.streams import Timing
from lynkr_cli.settings import Settings, secret_values

if TYPE_CHECKING:
    from lynkr_cli.cache import PromptCache
    from lynkr_cli.serve.upstream import Sender
    from lynkr_cli.team.api import Team


class Gateway:
    """Settings, providers, router, upstream sender, cache and metrics for one app."""

    def __init__(self, settings: Settings, providers: dict[str, Provider]) -> None:
        self.settings = settings
        self.providers = providers
        p = settings.provider
        self.router = Router(p.name, p.model_map, providers, p.fallback)
        from lynkr_cli.serve.scenarios import ScenarioRouter, providers_in_use

        known = set(providers)
        self.scenarios = ScenarioRouter(settings.routing, providers_in_use(settings, known), known)
        self.metrics = Metrics()
        self.hop_id = secrets.token_hex(8)
        # Settings do not change while serving: decide once what each provider lacks.
        self.problems = {name: self.provider_problem(p) for name, p in providers.items()}
        self.sender: Sender = None  # type: ignore[assignment]  # set by start()
        self.cache: PromptCache | None = None
        self.hot = HotCache(0, 0)
        self.loop: ModuleType | None = _tool_loop()
        # Run by stop(): what the parts that started something need to stop it.
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        if self.loop is not None:
            self.on_stop.append(self.loop.shutdown)  # the MCP servers the tools started
        self.background: set[asyncio.Future[Any]] = set()
        self.dumps = orjson.dumps
        # In-flight requests (their handler tasks), for a drain that ends each on time.
        self.inflight: dict[asyncio.Task[Any] | None, Context] = {}
        self.draining = False
        self.idle = asyncio.Event()
        self._cut: set[asyncio.Task[Any]] = set()
        self.team: Team | None = None  # keys, limits, usage and audit (started by start())
        self.audit_full = settings.team.audit == "full"
        register_secrets(secret_values(settings))

    async def start(self) -> None:
        from lynkr_cli.serve.upstream import Sender, new_pool

        self.sender = Sender(new_pool(self.settings.provider), self.settings.provider,
                             self.metrics, self.hop_id)  # fmt: skip
        from lynkr_cli.team.api import Team

        self.team = Team.open(self.settings)
        await self.team.start()
        if self.settings.guard.mode != "off":
            from lynkr_cli.guard.api import warm

            warm(self.settings.guard.kinds)  # compile the detectors now, not on a request
        if self.settings.cache.enabled:
            from lynkr_cli.cache import PromptCache

            self.cache = PromptCache(self.settings.cache)
            self.hot = HotCache(min(512, self.settings.cache.max_entries), self.cache.ttl)
        self.metrics.registry.register(self.team.collector(self.cache))  # backends, on scrape

    async def stop(self) -> None:
        for callback in self.on_stop:
            await callback()
        if self.background:
            await asyncio.wait(self.background, timeout=5)
        if self.sender is not None:
            await self.sender.pool.close()
        if self.cache is not None:
            self.cache.close()
        if self.team is not None:
            await self.team.stop()  # every queued usage and audit record is written

    # -- shutdown -----------------------------------------------------------------------
    async def drain(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for in-flight requests, then end the rest: a stream
        gets an ``overloaded_error`` event and its end, a pending answer a 529."""
        self.draining = True
        if self.inflight:
            self.idle.clear()
            try:
                await asyncio.wait_for(self.idle.wait(), grace)
            except TimeoutError:
                pass
        remaining = [t for t in self.inflight if t is not None and not t.done()]
        if not remaining:
            return
        shutting_down = ApiError(
            529, "gateway shutting down: retry the request", error_type="overloaded_error"
        )
        for task in remaining:
            ctx = self.inflight.get(task)
            if ctx is not None and ctx.sse is not None:
                await end_stream(ctx.sse, error_frame_for(ctx, shutting_down))
            self._cut.add(task)
            task.cancel()
        await asyncio.wait(remaining, timeout=1.0)

    def cut_at_shutdown(self, task: asyncio.Task[Any]) -> bool:
        """True (once) when ``task`` was cancelled by :meth:`drain`, not by its client."""
        if task not in self._cut:
            return False
        self._cut.discard(task)
        task.uncancel()
        return True

    # -- providers ----------------------------------------------------------------------
    def configuration_problem(self) -> str | None:
        """Why no request can be served, naming what to set; None when the default works."""
        name = self.settings.provider.name
        default = self.scenarios.targets.get("default")
        if not name and default is not None:  # [routing] default names the provider
            name = default.provider
        if not name:
            return (
                "lynkr has no upstream provider configured. Set LYNKR_PROVIDER (or PROVIDER) "
                f"to one of: {', '.join(sorted(self.providers))}, plus its credentials, e.g. "
                "DATABRICKS_API_BASE and DATABRICKS_API_KEY for databricks, or "
                "ANTHROPIC_API_KEY for anthropic; then restart `lynkr serve`."
            )
        if name not in self.providers:
            return (
                f"unknown provider '{name}' (LYNKR_PROVIDER). "
                f"Known providers: {', '.join(sorted(self.providers))}."
            )
        return self.provider_problem(self.providers[name])

    def provider_problem(self, provider: Provider) -> str | None:
        missing = provider.missing()
        if not missing:
            return None
        hint = (
            " (or, instead of the key, LYNKR_TOKEN_COMMAND: a command printing a bearer token)"
            if provider.bearer_token
            else ""
        )
        return (
            f"provider '{provider.name}' is not configured: set {' and '.join(missing)}{hint} "
            "in lynkr's environment (or lynkr.toml) and restart `lynkr serve`."
        )

    def routes_for(self, body: dict[str, Any], raw: bytes | None, ctx: Context) -> list[Route]:
        """Where the request goes: the ``[routing]`` scenario's target when one is set
        (noted in ``x-lynkr-route`` and the logs), else the model map, then the fallbacks."""
        scenarios = self.scenarios
        if not scenarios.active:
            return self.router.routes(ctx.client_model)
        from lynkr_cli.serve.scenarios import routes_for

        decision = scenarios.decide(body, raw=raw)
        ctx.scenario = decision.scenario
        ctx.add_header("x-lynkr-route", decision.scenario)
        return routes_for(decision, self.router, ctx.client_model)

    def require_provider(self, route: Route) -> Provider:
        """The provider for ``route``, or a 503 telling the operator what to set."""
        provider = self.providers.get(route.provider)
        if provider is not None:
            problem = self.problems.get(route.provider)
        elif route.provider == self.settings.provider.name:
            problem = self.configuration_problem()
        else:
            problem = f"unknown provider '{route.provider}' in provider.model_map or fallback"
        if problem is not None:
            raise ApiError(503, problem or "no provider", retry=False)
        assert provider is not None
        return provider

    # -- helpers ------------------------------------------------------------------------
    def timing(self, ctx: Context | None) -> Timing:
        """Stream timing; the total deadline counts from when the request arrived."""
        p = self.settings.provider
        now = asyncio.get_running_loop().time()
        spent = time.perf_counter() - ctx.started if ctx is not None else 0.0
        return Timing(
            self.settings.server.ping_interval, p.idle_timeout, now + p.total_timeout - spent
        )

    def cache_get(self, key: str) -> Any:
        """A stored Message: from the in-memory front if recent, else from the shared disk store."""
        assert self.cache is not None
        value = self.hot.get(key)
        if value is None:
            value = self.cache.get(key)
            if value is not None:
                self.hot.put(key, value)
        self.metrics.inc("lynkr_cache", "hit" if value is not None else "miss")
        return value

    def cache_put(self, key: str, message: dict[str, Any]) -> None:
        """Store off the event loop: a disk write must not delay the next request."""
        cache = self.cache
        if cache is None:
            return
        self.hot.put(key, message)
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(loop.run_in_executor(None, cache.set, key, message))
        self.background.add(task)
        task.add_done_callback(self.background.discard)


class HotCache:
    """A small in-memory LRU in front of the disk store.

    A disk hit costs two SQLite writes (diskcache's LRU access time and hit
    statistics); recent answers are served from memory instead, with their
    rendered bytes (:meth:`renders`). Entries expire with the store's TTL, so the
    front never outlives what the disk would serve.
    """

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[str, tuple[float, Any, dict[tuple[str, bool], bytes]]] = (
            OrderedDict()
        )

    def get(self, key: str) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        if self.ttl and time.monotonic() > item[0]:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def renders(self, key: str) -> dict[tuple[str, bool], bytes] | None:
        """The entry's rendered answers by (client model, stream); None if not held here."""
        item = self._items.get(key)
        return item[2] if item is not None else None

    def put(self, key: str, value: Any) -> None:
        self._items[key] = (time.monotonic() + self.ttl, value, {})
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def cacheable(message: dict[str, Any]) -> bool:
    """Only complete answers without tool calls are replayed."""
    if message.get("stop_reason") in (None, "tool_use", "pause_turn"):
        return False
    content = message.get("content")
    if not isinstance(content, list):
        return False
    return not any(
        isinstance(b, dict) and b.get("type") in ("tool_use", "server_tool_use") for b in content
    )


def _tool_loop() -> ModuleType | None:
    """The server-side tool loop module, when the tools package provides one."""
    try:
        from lynkr_cli.serve.tools import loop
    except ImportError:
        return None
    except Exception as exc:  # a broken tools package must not take the gateway down
        from lynkr_cli.logs import get_logger

        get_logger("lynkr.serve").warning("tool loop unavailable", error=repr(exc))
        return None
    return loop
