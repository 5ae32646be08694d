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

The in-memory store's hot path (building a request's checks, deciding and charging them,
settling, and the rate-limit headers) has an optional C accelerator,
``lynkr_cli.team._counters`` (``native/team_counters.c``), built at install when a C
compiler is there. It keeps the same dicts and gives the same tuples as the Python code
below (``tests/team/test_counters_native.py`` runs both on the same random sequences);
without it, or with :func:`set_native` off, the Python code runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from lynkr_cli.team.prices import Price, PriceTable
from lynkr_cli.team.store import Check, Decision, LimitStore
from lynkr_cli.team.times import day_window, minute_window, month_window, rfc3339
from lynkr_cli.team.types import (
    MONTH,
    NANO_MO,
    REQUESTS_M,
    TOKENS_D,
    TOKENS_M,
    TOKENS_MO,
    Plan,
    Principal,
    RateLimited,
    Usage,
)

_TOKEN_COUNTERS = (TOKENS_M, TOKENS_D, TOKENS_MO)
# What each counter is charged in: 0 requests, 1 tokens, 2 nano-USD.
_KIND = {REQUESTS_M: 0, TOKENS_M: 1, TOKENS_D: 1, TOKENS_MO: 1, NANO_MO: 2}
_check = partial(tuple.__new__, Check)  # Check(*fields) without its Python-level __new__
_decision = partial(tuple.__new__, Decision)
Windows = tuple[tuple[float, float], ...]  # (start, end) of the minute, day and month
_LIMIT_NAMES = {
    REQUESTS_M: "rpm",
    TOKENS_M: "tpm",
    TOKENS_D: "tokens_day",
    TOKENS_MO: "tokens_month",
    NANO_MO: "budget_usd",
}


def build_checks(plan: Plan, windows: Windows, amounts: tuple[int, int, int]) -> list[Check]:
    """The checks of ``plan`` in the current ``windows``, each charged its amount by kind."""
    return [
        _check((counter, *windows[window], amounts[_KIND[counter]], limit, counter == TOKENS_M))
        for counter, limit, window in plan
    ]


def changes_of(
    checks: Sequence[Check], amounts: tuple[int, int, int]
) -> list[tuple[str, float, float, int]]:
    """Each check's amount by kind, as a store's ``add`` takes it, without the zeros (the
    request count never changes at settlement)."""
    return [(c[0], c[1], c[2], amount) for c in checks if (amount := amounts[_KIND[c[0]]])]


class MemoryLimitStore:
    """Counters in this process, safe from asyncio tasks and threads: the Python methods
    take one lock; the C accelerator's calls (:meth:`admit_plan`, :meth:`settle_plan`)
    are atomic without it.

    Each key keeps one ``[window start, value]`` per counter: a change for a window
    that has already rolled over is dropped, so nothing needs collecting.
    """

    ADD_IS_SYNC = True  # add() is add_sync() (the limiter calls that directly)

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, list[float]]] = {}
        self._lock = threading.Lock()

    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        return self.acquire_sync(key_id, checks)

    def admit_plan(
        self, key_id: str, plan: Plan, windows: Windows, amounts: tuple[int, int, int]
    ) -> tuple[list[Check], Decision, bytes | None]:
        """:func:`build_checks`, :meth:`acquire_sync` and the rate-limit header lines for the
        result, in one step (in C when built)."""
        if not _native_on or _native is None:
            checks = build_checks(plan, windows, amounts)
            decision = self.acquire_sync(key_id, checks)
            return checks, decision, lines_of(rate_headers_python(checks, decision.values))
        # Atomic by itself (it holds the GIL and runs no Python code while it counts;
        # see native/team_counters.c): a lock would add ~30% to the call.
        return _native.admit(self._keys, key_id, plan, windows, amounts)

    def settle_plan(
        self, key_id: str, checks: Sequence[Check], amounts: tuple[int, int, int]
    ) -> None:
        """Add each check's amount by kind to its counter, skipping zeros (in C when built)."""
        if not _native_on or _native is None:
            changes = changes_of(checks, amounts)
            if changes:
                self.add_sync(key_id, changes)
            return
        _native.settle(self._keys, key_id, checks, amounts)  # atomic, as admit_plan's

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
    price: Price | None = None  # the models' price (None: none, or not looked up)
    settled: bool = False
    cost_nano: int = 0
    _headers: dict[str, str] | None = field(default=None, repr=False)
    _lines: bytes | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """``anthropic-ratelimit-requests-*`` and ``-tokens-*`` (limit, remaining, reset)."""
        if self._headers is None:
            self._headers = rate_headers(self.checks, self.values)
        return self._headers

    def header_lines(self) -> bytes:
        """:meth:`headers` as HTTP/1.1 header lines, ``name: value\r\n`` each (the
        gateway writes them as they are: ``serve.respond``)."""
        if self._lines is None:
            self._lines = lines_of(self.headers())
        return self._lines


def rate_headers(checks: Sequence[Check], values: Sequence[int]) -> dict[str, str]:
    """Anthropic's headers: ``tokens-*`` report the most restrictive token limit in force."""
    if _native_on and _native is not None:
        return _native.headers(checks, values)
    return rate_headers_python(checks, values)


def lines_of(headers: dict[str, str]) -> bytes:
    """``headers`` as HTTP/1.1 header lines (``name: value\r\n`` each). Rate-limit
    headers only: integers and RFC 3339 times, which hold no CR or LF (checked)."""
    text = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise ValueError("a rate-limit header holds a line break")
    return text.encode()


def rate_headers_python(checks: Sequence[Check], values: Sequence[int]) -> dict[str, str]:
    """:func:`rate_headers` in Python (the accelerator's reference)."""
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


_NAMES: dict[str, tuple[str, str, str]] = {
    kind: (
        f"anthropic-ratelimit-{kind}-limit",
        f"anthropic-ratelimit-{kind}-remaining",
        f"anthropic-ratelimit-{kind}-reset",
    )
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
        self._minute_start = self._minute_end = 0.0
        # The in-memory store answers at once: no coroutine per call on the hot path
        # (exactly this class: a subclass may well make acquire() really wait). A class
        # whose add() only wraps add_sync (memory; Redis, which queues) says so itself,
        # in its own namespace: a subclass that overrides add() is awaited.
        self._memory = store if type(store) is MemoryLimitStore else None
        # Whether admit_sync() and settle_sync() may be used (the in-memory store: they
        # never wait); otherwise await admit() and settle().
        self.sync = self._memory is not None
        self._add_sync: Callable[[str, Sequence[tuple[str, float, float, int]]], None] | None = (
            getattr(store, "add_sync", None) if vars(type(store)).get("ADD_IS_SYNC") else None
        )

    def windows(self, now: float) -> tuple[tuple[float, float], ...]:
        """The current (start, end) of the minute, day and month windows, cached."""
        if self._minute_start <= now < self._minute_end:
            return self._windows
        windows = self._windows
        month = windows[MONTH]
        if not month[0] <= now < month[1]:
            month = month_window(now)
        minute = minute_window(now)
        self._windows = windows = (minute, day_window(now), month)
        self._minute_start, self._minute_end = minute
        return windows

    def month(self, now: float) -> tuple[float, float]:
        return self.windows(now)[MONTH]

    def _estimate(
        self, plan: Plan, models: tuple[str, ...], tokens: int
    ) -> tuple[int, Price | None]:
        """The estimate's nano-USD (only a budget needs it) and the models' price."""
        price = self.prices.lookup_models(models)
        if price is None or plan[-1][0] != NANO_MO:  # a budget is checked last
            return 0, price
        return price.input_nano(tokens), price

    def admit_sync(
        self, principal: Principal, models: tuple[str, ...], estimated_input_tokens: int
    ) -> Admission:
        """:meth:`admit` on the in-memory store, without a coroutine."""
        tokens = estimated_input_tokens if estimated_input_tokens > 0 else 0
        plan = principal.plan
        memory = self._memory
        if not plan or memory is None:
            if plan:
                raise RuntimeError("admit_sync needs the in-memory store; await admit()")
            return Admission(principal, models, tokens)
        nano, price = self._estimate(plan, models, tokens)
        amounts = (1, tokens, nano)  # by _KIND: requests, tokens, nano-USD
        checks, decision, lines = memory.admit_plan(
            principal.key_id, plan, self.windows(self.clock()), amounts
        )
        if not decision.ok:
            raise self._refusal(principal, tokens, checks, decision)
        return Admission(
            principal, models, tokens, nano, checks, decision.values, price, _lines=lines
        )

    async def admit(
        self, principal: Principal, models: tuple[str, ...], estimated_input_tokens: int
    ) -> Admission:
        """Charge one request (and its estimate) to the key's counters, or raise
        :class:`RateLimited`."""
        if self._memory is not None or not principal.plan:
            return self.admit_sync(principal, models, estimated_input_tokens)
        tokens = estimated_input_tokens if estimated_input_tokens > 0 else 0
        plan = principal.plan
        nano, price = self._estimate(plan, models, tokens)
        checks = build_checks(plan, self.windows(self.clock()), (1, tokens, nano))
        decision = await self.store.acquire(principal.key_id, checks)
        if not decision.ok:
            raise self._refusal(principal, tokens, checks, decision)
        return Admission(principal, models, tokens, nano, checks, decision.values, price)

    def settle_sync(self, admission: Admission, usage: Usage) -> int:
        """:meth:`settle` on the in-memory store, without a coroutine."""
        if admission.settled:
            return admission.cost_nano
        memory = self._memory
        if memory is None and admission.checks:
            raise RuntimeError("settle_sync needs the in-memory store; await settle()")
        cost, amounts = self._settled(admission, usage)
        if memory is not None and admission.checks:
            memory.settle_plan(admission.principal.key_id, admission.checks, amounts)
        return cost

    async def settle(self, admission: Admission, usage: Usage) -> int:
        """Count what the answer really used; returns its cost in nano-USD. Idempotent."""
        if self._memory is not None or not admission.checks or admission.settled:
            return self.settle_sync(admission, usage)
        cost, amounts = self._settled(admission, usage)
        changes = changes_of(admission.checks, amounts)
        if changes:
            if self._add_sync is not None:
                self._add_sync(admission.principal.key_id, changes)
            else:
                await self.store.add(admission.principal.key_id, changes)
        return cost

    def _settled(self, admission: Admission, usage: Usage) -> tuple[int, tuple[int, int, int]]:
        """Mark ``admission`` settled with its real cost; the cost, and what each kind of
        counter must still be charged (requests, tokens, nano-USD) beyond the estimate."""
        admission.settled = True
        price = admission.price
        if price is None:  # not looked up at admission (or no price: a cached miss)
            price = self.prices.lookup_models(admission.models)
        admission.cost_nano = cost = price.nano(usage) if price is not None else 0
        tokens = usage.total_tokens - admission.estimate_tokens
        return cost, (0, tokens, cost - admission.estimate_nano)

    def _refusal(
        self,
        principal: Principal,
        estimate: int,
        checks: Sequence[Check],
        decision: Decision,
    ) -> RateLimited:
        check = checks[decision.failed]
        used = decision.values[decision.failed]
        retry = max(1, math.ceil(check.window_end - self.clock()))
        message = _message(principal.name, check, used, estimate)
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


def set_native(on: bool) -> None:
    """Use the C accelerator when it is built (the default) or the Python code: for the
    tests comparing both, and the benchmark."""
    global _native_on
    _native_on = on


def native_status() -> str:
    """``native`` or ``python``: which code counts the in-memory limits (``lynkr doctor``)."""
    return "native" if _native_on and _native is not None else "python"


_native_on = True
try:
    from lynkr_cli.team import _counters as _native
except ImportError:  # not built (no C compiler at install): the Python code above runs
    _native = None  # type: ignore[assignment]
else:
    _native.configure(
        Check,
        Decision,
        _KIND,
        TOKENS_M,
        REQUESTS_M,
        frozenset(_TOKEN_COUNTERS),
        (_NAMES["requests"], _NAMES["tokens"]),
        _RESETS,
        rfc3339,
    )
