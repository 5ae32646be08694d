"""What ``/metrics`` says about the shared backends: read on scrape, nothing on the hot path.

- ``lynkr_limits_shared``: 1 while rate limits are counted in Redis, 0 while this
  instance counts alone because Redis is unreachable (absent without Redis).
- ``lynkr_limits_fallback_total``: admissions and settlements counted here instead of
  in Redis; ``lynkr_limits_outages_total``: times Redis was lost.
- ``lynkr_team_records_pending``: usage/audit records waiting in memory (the store is
  slow or down); ``lynkr_team_records_written_total``; ``lynkr_team_records_spilled_total``:
  records sent to the local spill file (written to the store when it returns).
- ``lynkr_cache_backend_errors_total{backend}``: prompt-cache calls that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric


class BackendCollector:
    """A prometheus-client collector over the team's and the cache's backend counters."""

    def __init__(
        self,
        limits: Callable[[], dict[str, Any] | None],
        records: Callable[[], dict[str, int]],
        cache: Callable[[], dict[str, Any] | None],
    ) -> None:
        self.limits = limits
        self.records = records
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        limits = self.limits()
        if limits is not None:
            shared = GaugeMetricFamily(
                "lynkr_limits_shared", "1 while rate limits are counted in Redis, else 0."
            )
            shared.add_metric([], 1.0 if limits["shared"] else 0.0)
            yield shared
            yield _counter(
                "lynkr_limits_fallback",
                "Admissions and settlements counted in this instance while Redis was away.",
                limits["fallbacks"],
            )
            yield _counter("lynkr_limits_outages", "Times Redis was lost.", limits["outages"])
        records = self.records()
        pending = GaugeMetricFamily(
            "lynkr_team_records_pending", "Usage and audit records waiting to be written."
        )
        pending.add_metric([], float(records["pending"]))
        yield pending
        yield _counter(
            "lynkr_team_records_written", "Usage and audit records written.", records["written"]
        )
        yield _counter(
            "lynkr_team_records_spilled",
            "Usage and audit records sent to the local spill file.",
            records["spilled"],
        )
        cache = self.cache()
        if cache is not None:
            errors = CounterMetricFamily(
                "lynkr_cache_backend_errors",
                "Prompt-cache calls that failed.",
                labels=["backend"],
            )
            errors.add_metric([cache["backend"]], float(cache["errors"]))
            yield errors


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc)
    family.add_metric([], float(value))
    return family
