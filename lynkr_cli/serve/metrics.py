"""Prometheus metrics for the gateway, in a registry of its own (one per app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

if TYPE_CHECKING:
    from lynkr_cli.serve.state import Context

# Few buckets on purpose: observe() walks them in Python on every request.
_LATENCY_BUCKETS = (0.005, 0.025, 0.1, 0.5, 2.5, 10, 60, 300)


class Metrics:
    """Requests, latency and TTFB histograms, tokens, cache, upstream errors and retries."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "lynkr_requests", "Requests answered.", ["route", "provider", "status"], registry=r
        )
        self.latency = Histogram(
            "lynkr_request_seconds",
            "Time from request to the last byte of the answer.",
            ["route", "provider"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttfb = Histogram(
            "lynkr_ttfb_seconds",
            "Time from request to the first byte of the answer.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "lynkr_tokens", "Tokens reported by upstreams.", ["provider", "kind"], registry=r
        )
        self.cache = Counter("lynkr_cache", "Prompt cache lookups.", ["result"], registry=r)
        self.upstream_errors = Counter(
            "lynkr_upstream_errors", "Failed upstream attempts.", ["provider", "reason"], registry=r
        )
        self.upstream_attempts = Counter(
            "lynkr_upstream_attempts", "Upstream requests sent.", ["provider"], registry=r
        )
        self.retries = Counter("lynkr_retries", "Upstream retries.", ["provider"], registry=r)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, memoised: the lookup costs more than the increment."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def record(self, route: str, ctx: Context, elapsed: float) -> None:
        """Everything one finished request contributes."""
        provider = ctx.provider
        self.child(self.requests, route, provider, str(ctx.status)).inc()
        self.child(self.latency, route, provider).observe(elapsed)
        if ctx.ttfb is not None and provider:
            self.child(self.ttfb, provider).observe(ctx.ttfb)
        if ctx.input_tokens:
            self.child(self.tokens, provider, "input").inc(ctx.input_tokens)
        if ctx.output_tokens:
            self.child(self.tokens, provider, "output").inc(ctx.output_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
