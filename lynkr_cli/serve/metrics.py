"""Prometheus metrics for the gateway: plain counters on the hot path, exported on scrape.

prometheus-client's own metric objects take a lock and walk Python checks on
every ``inc``/``observe`` (about 20 µs a request for our set). Here a request only
bumps dict entries; a custom collector turns them into Prometheus families when
``/metrics`` is scraped. Each app has its own registry.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context

# Few buckets on purpose: the answer's latency spans ms (cache) to minutes (long streams).
BUCKETS = (0.005, 0.025, 0.1, 0.5, 2.5, 10.0, 60.0, 300.0)

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lynkr_requests": ("Requests answered.", ("route", "provider", "status")),
    "lynkr_tokens": ("Tokens reported by upstreams.", ("provider", "kind")),
    "lynkr_cache": ("Prompt cache lookups.", ("result",)),
    "lynkr_upstream_errors": ("Failed upstream attempts.", ("provider", "reason")),
    "lynkr_upstream_attempts": ("Upstream requests sent.", ("provider",)),
    "lynkr_retries": ("Upstream retries.", ("provider",)),
    "lynkr_guard_findings": (
        "Secrets and personal data found in requests (docs/guard.md).",
        ("kind", "mode"),
    ),
}
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lynkr_request_seconds": ("Time from request to the last byte.", ("route", "provider")),
    "lynkr_ttfb_seconds": ("Time from request to the first byte.", ("provider",)),
}


class Metrics:
    """Requests, latency and TTFB histograms, tokens, cache, upstream errors and retries."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, tuple[str, ...]], float] = {}
        # per label set: one count per bucket (+Inf last), then the sum
        self.hists: dict[tuple[str, tuple[str, ...]], list[float]] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    def inc(self, name: str, *labels: str, value: float = 1.0) -> None:
        key = (name, labels)
        self.counts[key] = self.counts.get(key, 0.0) + value

    def observe(self, name: str, value: float, *labels: str) -> None:
        key = (name, labels)
        hist = self.hists.get(key)
        if hist is None:
            hist = self.hists[key] = [0.0] * (len(BUCKETS) + 2)
        hist[bisect_left(BUCKETS, value)] += 1
        hist[-1] += value

    def value(self, name: str, *labels: str) -> float:
        """A counter's current value (tests, doctor)."""
        return self.counts.get((name, labels), 0.0)

    def record(self, route: str, ctx: Context, elapsed: float) -> None:
        """Everything one finished request contributes."""
        provider = ctx.provider
        self.inc("lynkr_requests", route, provider, str(ctx.status))
        self.observe("lynkr_request_seconds", elapsed, route, provider)
        if ctx.ttfb is not None and provider:
            self.observe("lynkr_ttfb_seconds", ctx.ttfb, provider)
        if ctx.input_tokens:
            self.inc("lynkr_tokens", provider, "input", value=ctx.input_tokens)
        if ctx.output_tokens:
            self.inc("lynkr_tokens", provider, "output", value=ctx.output_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        for name, (doc, labels) in COUNTERS.items():
            family = CounterMetricFamily(name, doc, labels=list(labels))
            for (metric, values), count in list(self.metrics.counts.items()):
                if metric == name:
                    family.add_metric(list(values), count)
            yield family
        for name, (doc, labels) in HISTOGRAMS.items():
            hist_family = HistogramMetricFamily(name, doc, labels=list(labels))
            for (metric, values), hist in list(self.metrics.hists.items()):
                if metric == name:
                    hist_family.add_metric(list(values), _cumulative(hist), hist[-1])
            yield hist_family


def _cumulative(hist: list[float]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0.0
    for bound, count in zip((*BUCKETS, float("inf")), hist[:-1], strict=True):
        running += count
        out.append(("+Inf" if bound == float("inf") else repr(bound), running))
    return out


__all__: list[Any] = ["Metrics"]
