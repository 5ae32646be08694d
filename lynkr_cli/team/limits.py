"""Admission and settlement: requests per minute, tokens per minute/day/month, monthly USD.

:meth:`Limiter.admit` charges a request to its key's counters *before* the upstream
call: one request, its estimated input tokens, and their estimated input cost. Every
check and every increment happen in one atomic :meth:`LimitStore.acquire`, so limits
are exact under any concurrency. :meth:`Limiter.settle` later replaces the estimate
with what the upstream reported (input, cache writes, cache reads and output).

Windows are fixed UTC calendar windows (see :mod:`lynkr_cli.team.times`): a minute
limit of 10 lets 10 requests through in each clock minute. An estimate larger than the
whole per-minute token limit passes only in a minute the key has not used yet, so a
big prompt is slow rather than impossible; day, month and budget limits are hard.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lynkr_cli.team.prices import PriceTable
from lynkr_cli.team.store import Check, Decision, LimitStore
from lynkr_cli.team.times import day_window, minute_window, month_window, rfc3339
from lynkr_cli.team.types import NANO, Principal, RateLimited, Usage

REQUESTS_M, TOKENS_M, TOKENS_D, TOKENS_MO, NANO_MO = "req/m", "tok/m", "tok/d", "tok/mo", "usd/mo"
_TOKEN_COUNTERS = (TOKENS_M, TOKENS_D, TOKENS_MO)
_LIMIT_NAMES = {
    REQUESTS_M: "rpm",
    TOKENS_M: "tpm",
    TOKENS_D: "tokens_day",
    TOKENS_MO: "tokens_month",
    NANO_MO: "budget_usd",
}


class MemoryLimitStore:
    """Counters in this process, behind one lock (safe from asyncio tasks and threads)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counts: dict[tuple[str, str, float], int] = {}
        self._ends: dict[tuple[str, str, float], float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._next_gc = 0.0

    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        return self.acquire_sync(key_id, checks)

    def acquire_sync(self, key_id: str, checks: Sequence[Check]) -> Decision:
        counts = self._counts
        with self._lock:
            found = tuple(counts.get((key_id, c.counter, c.window), 0) for c in checks)
            for i, (check, current) in enumerate(zip(checks, found, strict=True)):
                if current + check.amount > check.limit and not (
                    check.allow_when_empty and current == 0
                ):
                    return Decision(False, found, i)
            for check, current in zip(checks, found, strict=True):
                key = (key_id, check.counter, check.window)
                counts[key] = current + check.amount
                self._ends[key] = check.window_end
            self._collect()
            return Decision(True, tuple(f + c.amount for f, c in zip(found, checks, strict=True)))

    async def add(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None:
        self.add_sync(key_id, changes)

    def add_sync(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None:
        with self._lock:
            for counter, window, window_end, amount in changes:
                key = (key_id, counter, window)
                self._counts[key] = self._counts.get(key, 0) + amount
                self._ends[key] = window_end

    def seed(self, key_id: str, counter: str, window: float, window_end: float, value: int) -> None:
        with self._lock:
            key = (key_id, counter, window)
            self._counts[key] = value
            self._ends[key] = window_end

    def value(self, key_id: str, counter: str, window: float) -> int:
        return self._counts.get((key_id, counter, window), 0)

    def _collect(self) -> None:
        now = self._clock()
        if now < self._next_gc:
            return
        self._next_gc = now + 60
        for key in [k for k, end in self._ends.items() if end <= now]:
            self._counts.pop(key, None)
            self._ends.pop(key, None)


@dataclass(slots=True)
class Admission:
    """One admitted request: what was charged, and the rate-limit headers to answer with."""

    principal: Principal
    models: tuple[str, ...]
    estimate_tokens: int = 0
    estimate_nano: int = 0
    charged: tuple[tuple[str, float, float], ...] = ()  # (counter, window, end) charged
    limits: tuple[tuple[str, int, int, float], ...] = ()  # (counter, limit, used, reset)
    settled: bool = False
    cost_nano: int = 0
    _headers: dict[str, str] | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """``anthropic-ratelimit-requests-*`` and ``-tokens-*`` (limit, remaining, reset)."""
        if self._headers is None:
            self._headers = rate_headers(self.limits)
        return self._headers


def rate_headers(limits: Sequence[tuple[str, int, int, float]]) -> dict[str, str]:
    """Anthropic's headers: ``tokens-*`` report the most restrictive token limit in force."""
    headers: dict[str, str] = {}
    tightest: tuple[int, int, float] | None = None
    for counter, limit, used, reset in limits:
        remaining = max(limit - used, 0)
        if counter == REQUESTS_M:
            _put(headers, "requests", limit, remaining, reset)
        elif counter in _TOKEN_COUNTERS and (tightest is None or remaining < tightest[1]):
            tightest = (limit, remaining, reset)
    if tightest is not None:
        _put(headers, "tokens", *tightest)
    return headers


def _put(headers: dict[str, str], kind: str, limit: int, remaining: int, reset: float) -> None:
    headers[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
    headers[f"anthropic-ratelimit-{kind}-remaining"] = str(remaining)
    headers[f"anthropic-ratelimit-{kind}-reset"] = rfc3339(reset)


class Limiter:
    """Admits requests against a key's limits and settles their real usage."""

    def __init__(
        self, store: LimitStore, prices: PriceTable, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.prices = prices
        self.clock = clock
        self._months: tuple[float, float] = (0.0, 0.0)

    def month(self, now: float) -> tuple[float, float]:
        start, end = self._months
        if not start <= now < end:
            self._months = start, end = month_window(now)
        return start, end

    async def admit(
        self, principal: Principal, models: tuple[str, ...], estimated_input_tokens: int
    ) -> Admission:
        limits = principal.limits
        admission = Admission(principal, models, max(int(estimated_input_tokens), 0))
        if principal.admin or not limits.any():
            return admission
        if limits.budget_usd is not None:
            price = self.prices.lookup(*models)
            admission.estimate_nano = (
                price.nano(Usage(input_tokens=admission.estimate_tokens)) if price else 0
            )
        checks = self._checks(principal, admission, self.clock())
        decision = await self.store.acquire(principal.key_id, checks)
        if not decision.ok:
            raise self._refusal(principal, admission, checks, decision)
        admission.charged = tuple((c.counter, c.window, c.window_end) for c in checks)
        admission.limits = tuple(
            (c.counter, c.limit, v, c.window_end)
            for c, v in zip(checks, decision.values, strict=True)
        )
        return admission

    def _checks(self, principal: Principal, admission: Admission, now: float) -> list[Check]:
        limits = principal.limits
        tokens = admission.estimate_tokens
        checks = []
        if limits.rpm is not None:
            checks.append(Check(REQUESTS_M, *minute_window(now), 1, limits.rpm))
        if limits.tpm is not None:
            checks.append(Check(TOKENS_M, *minute_window(now), tokens, limits.tpm, True))
        if limits.tokens_day is not None:
            checks.append(Check(TOKENS_D, *day_window(now), tokens, limits.tokens_day))
        if limits.tokens_month is not None:
            checks.append(Check(TOKENS_MO, *self.month(now), tokens, limits.tokens_month))
        if limits.budget_usd is not None:
            budget = int(limits.budget_usd * NANO)
            checks.append(Check(NANO_MO, *self.month(now), admission.estimate_nano, budget))
        return checks

    async def settle(self, admission: Admission, usage: Usage) -> int:
        """Count what the answer really used; returns its cost in nano-USD. Idempotent."""
        if admission.settled:
            return admission.cost_nano
        admission.settled = True
        admission.cost_nano = self.prices.cost_nano(usage, *admission.models)
        if not admission.charged:
            return admission.cost_nano
        tokens = usage.total_tokens - admission.estimate_tokens
        nano = admission.cost_nano - admission.estimate_nano
        changes = [
            (counter, window, end, tokens if counter in _TOKEN_COUNTERS else nano)
            for counter, window, end in admission.charged
            if counter != REQUESTS_M
        ]
        changes = [c for c in changes if c[3]]
        if changes:
            await self.store.add(admission.principal.key_id, changes)
        return admission.cost_nano

    def _refusal(
        self, principal: Principal, admission: Admission, checks: list[Check], decision: Decision
    ) -> RateLimited:
        now = self.clock()
        check = checks[decision.failed]
        used = decision.values[decision.failed]
        limits = [
            (c.counter, c.limit, v, c.window_end)
            for c, v in zip(checks, decision.values, strict=True)
        ]
        retry = max(1, math.ceil(check.window_end - now))
        message = _message(principal.name, check, used, admission.estimate_tokens)
        return RateLimited(_LIMIT_NAMES[check.counter], message, retry, rate_headers(limits))


def _message(name: str, check: Check, used: int, estimate: int) -> str:
    reset = rfc3339(check.window_end)
    who = f"this API key ('{name}')"
    if check.counter == REQUESTS_M:
        return (
            f"rate limit: {who} may send {check.limit} requests per minute; try again "
            f"after {reset} (Claude Code retries by itself)."
        )
    if check.counter == NANO_MO:
        return (
            f"monthly budget spent: {who} may spend ${_usd(check.limit)} per month and has "
            f"spent ${_usd(used)}; it resets at {reset}. Ask your gateway admin to raise "
            f"it (lynkr keys update {name} --budget-usd N)."
        )
    period = {TOKENS_M: "per minute", TOKENS_D: "per day (UTC)", TOKENS_MO: "per month (UTC)"}
    need = f"this request needs about {estimate:,} tokens and {used:,} are used"
    if estimate > check.limit:
        need = f"this request alone needs about {estimate:,} tokens, more than the whole limit"
    return (
        f"token limit: {who} may use {check.limit:,} tokens {period[check.counter]}; "
        f"{need}. It resets at {reset}. Shorten the conversation (/compact in Claude "
        "Code) or ask your gateway admin to raise the limit."
    )


def _usd(nano: int) -> str:
    return f"{nano / 1e9:,.2f}"
