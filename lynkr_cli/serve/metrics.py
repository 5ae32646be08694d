"""Prometheus metrics for the gateway, in a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
