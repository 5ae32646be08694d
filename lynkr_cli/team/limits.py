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
from functools import partial

from lynkr_cli.team.prices import PriceTable
from lynkr_cli.team.store import Check, Decision, LimitStore
from lynkr_cli.team.times import day_window, minute_window, month_window, rfc3339
from lynkr_cli.team.types import (
    MINUTE,
    MONTH,
    NANO_MO,
    REQUESTS_M,
    TOKENS_D,
    TOKENS_M,
    TOKENS_MO,
    Principal,
    RateLimited,
    Usage,
)

_TOKEN_COUNTERS = (TOKENS_M, TOKENS_D, TOKENS_MO)
# What each counter is charged in: 0 requests, 1 tokens, 2 nano-USD.
_KIND = {REQUESTS_M: 0, TOKENS_M: 1, TOKENS_D: 1, TOKENS_MO: 1, NANO_MO: 2}
_check = partial(tuple.__new__, Check)  # Check(*fields) without its Python-level __new__
_decision = partial(tuple.__new__, Decision)
_LIMIT_NAMES = {
    REQUESTS_M: "rpm",
    TOKENS_M: "tpm",
    TOKENS_D: "tokens_day",
    TOKENS_MO: "tokens_month",
    NANO_MO: "budget_usd",
}


class MemoryLimitStore:
    """Counters in this process, behind one lock (safe from asyncio tasks and threads).

    Each key keeps one ``[window start, value]`` per counter: a change for a window
    that has already rolled over is dropped, so nothing needs collecting.
    """

    ADD_IS_SYNC = True  # add() is add_sync() (the limiter calls that directly)

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, list[float]]] = {}
        self._lock = threading.Lock()

    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        return self.acquire_sync(key_id, checks)

    def acquire_sync(self, key_id: str, checks: Sequence[Check]) -> Decision:
        with self._lock:
            slots = self._keys.get(key_id)
            if slots is None:
                slots = self._keys[key_id] = {}
            found: list[int] = []
            for counter, window, _end, amount, limit, when_empty in checks:
                entry = slots.get(counter)
                current = int(entry[1]) if entry is not None and entry[0] == window else 0
                if current + amount > limit and not (when_empty and current == 0):
                    before = [v - c[3] for c, v in zip(checks, found, strict=False)]
                    rest = [self._value(slots, c.counter, c.window) for c in checks[len(found) :]]
                    return Decision(False, (*before, *rest), len(found))
                found.append(current + amount)
            # Every check passed: charge them all (still under the lock).
            for check, value in zip(checks, found, strict=True):
                slots[check[0]] = [check[1], value]
            return _decision((True, tuple(found), -1))

    async def add(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None:
        self.add_sync(key_id, changes)

    def add_sync(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None:
        with self._lock:
            slots = self._keys.setdefault(key_id, {})
            for counter, window, _, amount in changes:
                entry = slots.get(counter)
                if entry is not None and entry[0] == window:
                    entry[1] += amount
                elif entry is None or entry[0] < window:
                    slots[counter] = [window, amount]

    def seed(self, key_id: str, counter: str, window: float, window_end: float, value: int) -> None:
        with self._lock:
            self._keys.setdefault(key_id, {})[counter] = [window, value]

    def value(self, key_id: str, counter: str, window: float) -> int:
        return self._value(self._keys.get(key_id, {}), counter, window)

    @staticmethod
    def _value(slots: dict[str, list[float]], counter: str, window: float) -> int:
        entry = slots.get(counter)
        return int(entry[1]) if entry is not None and entry[0] == window else 0


@dataclass(slots=True)
class Admission:
    """One admitted request: what was charged, and the rate-limit headers to answer with."""

    principal: Principal
    models: tuple[str, ...]
    estimate_tokens: int = 0
    estimate_nano: int = 0
    checks: Sequence[Check] = ()  # what was charged with the estimate …
    values: tuple[int, ...] = ()  # … and each counter right after
    settled: bool = False
    cost_nano: int = 0
    _headers: dict[str, str] | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """``anthropic-ratelimit-requests-*`` and ``-tokens-*`` (limit, remaining, reset)."""
        if self._headers is None:
            self._headers = rate_headers(self.checks, self.values)
        return self._headers


def rate_headers(checks: Sequence[Check], values: Sequence[int]) -> dict[str, str]:
    """Anthropic's headers: ``tokens-*`` report the most restrictive token limit in force."""
    headers: dict[str, str] = {}
    tightest: tuple[int, int, float] | None = None
    for check, used in zip(checks, values, strict=True):
        counter, limit = check.counter, check.limit
        remaining = limit - used if used < limit else 0
        if counter == REQUESTS_M:
            _put(headers, "requests", limit, remaining, check.window_end)
        elif counter in _TOKEN_COUNTERS and (tightest is None or remaining < tightest[1]):
            tightest = (limit, remaining, check.window_end)
    if tightest is not None:
        _put(headers, "tokens", *tightest)
    return headers


_RESETS: dict[float, str] = {}


_NAMES = {
    kind: tuple(f"anthropic-ratelimit-{kind}-{part}" for part in ("limit", "remaining", "reset"))
    for kind in ("requests", "tokens")
}


def _put(headers: dict[str, str], kind: str, limit: int, remaining: int, reset: float) -> None:
    text = _RESETS.get(reset)
    if text is None:  # a few window ends are live at a time: format each once
        if len(_RESETS) > 64:
            _RESETS.clear()
        text = _RESETS[reset] = rfc3339(reset)
    limit_name, remaining_name, reset_name = _NAMES[kind]
    headers[limit_name] = str(limit)
    headers[remaining_name] = str(remaining)
    headers[reset_name] = text


class Limiter:
    """Admits requests against a key's limits and settles their real usage."""

    def __init__(
        self, store: LimitStore, prices: PriceTable, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.prices = prices
        self.clock = clock
        self._windows: tuple[tuple[float, float], ...] = ((0.0, 0.0),) * 3
        # The in-memory store answers at once: no coroutine per call on the hot path
        # (exactly this class: a subclass may well make acquire() really wait). A class
        # whose add() only wraps add_sync (memory; Redis, which queues) says so itself,
        # in its own namespace: a subclass that overrides add() is awaited.
        memory = store if type(store) is MemoryLimitStore else None
        self._acquire_sync = memory.acquire_sync if memory is not None else None
        self._add_sync: Callable[[str, Sequence[tuple[str, float, float, int]]], None] | None = (
            getattr(store, "add_sync", None) if vars(type(store)).get("ADD_IS_SYNC") else None
        )

    def windows(self, now: float) -> tuple[tuple[float, float], ...]:
        """The current (start, end) of the minute, day and month windows, cached."""
        windows = self._windows
        if not windows[MINUTE][0] <= now < windows[MINUTE][1]:
            month = windows[MONTH]
            if not month[0] <= now < month[1]:
                month = month_window(now)
            self._windows = windows = (minute_window(now), day_window(now), month)
        return windows

    def month(self, now: float) -> tuple[float, float]:
        return self.windows(now)[MONTH]

    async def admit(
        self, principal: Principal, models: tuple[str, ...], estimated_input_tokens: int
    ) -> Admission:
        tokens = estimated_input_tokens if estimated_input_tokens > 0 else 0
        plan = principal.plan
        if not plan:
            return Admission(principal, models, tokens)
        nano = 0
        if plan[-1][0] == NANO_MO:  # a budget: price the estimate as input tokens
            price = self.prices.lookup(*models)
            nano = price.input_nano(tokens) if price is not None else 0
        admission = Admission(principal, models, tokens, nano)
        windows = self.windows(self.clock())
        amounts = (1, tokens, nano)  # by _KIND: requests, tokens, nano-USD
        checks = [
            _check((counter, *windows[window], amounts[_KIND[counter]], limit,
                    counter == TOKENS_M))
            for counter, limit, window in plan
        ]  # fmt: skip
        sync = self._acquire_sync
        if sync is not None:
            decision = sync(principal.key_id, checks)
        else:
            decision = await self.store.acquire(principal.key_id, checks)
        if not decision.ok:
            raise self._refusal(principal, admission, checks, decision)
        admission.checks, admission.values = checks, decision.values
        return admission

    async def settle(self, admission: Admission, usage: Usage) -> int:
        """Count what the answer really used; returns its cost in nano-USD. Idempotent."""
        if admission.settled:
            return admission.cost_nano
        admission.settled = True
        admission.cost_nano = cost = self.prices.cost_nano(usage, *admission.models)
        if not admission.checks:
            return cost
        tokens = usage.total_tokens - admission.estimate_tokens
        amounts = (0, tokens, cost - admission.estimate_nano)
        changes = [
            (c[0], c[1], c[2], amount)
            for c in admission.checks
            if (amount := amounts[_KIND[c[0]]])  # the request count never changes
        ]
        if changes:
            if self._add_sync is not None:
                self._add_sync(admission.principal.key_id, changes)
            else:
                await self.store.add(admission.principal.key_id, changes)
        return cost

    def _refusal(
        self, principal: Principal, admission: Admission, checks: list[Check], decision: Decision
    ) -> RateLimited:
        check = checks[decision.failed]
        used = decision.values[decision.failed]
        retry = max(1, math.ceil(check.window_end - self.clock()))
        message = _message(principal.name, check, used, admission.estimate_tokens)
        headers = rate_headers(checks, decision.values)
        return RateLimited(_LIMIT_NAMES[check.counter], message, retry, headers)


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
