"""The C accelerator of the in-memory limits (``native/team_counters.c``) against Python.

Both paths run the same random sequences of admissions, settlements, seeds and window
roll-overs on two stores; every answer (checks, decisions, headers) and every counter
must be equal, type for type. Under ``CI=true`` the accelerator must have been built.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lynkr_cli.team import limits
from lynkr_cli.team import types as t
from lynkr_cli.team.limits import MemoryLimitStore, build_checks, lines_of, rate_headers_python
from lynkr_cli.team.store import Check, Decision
from tests.conftest import require

STEPS = (
    (t.REQUESTS_M, t.MINUTE),
    (t.TOKENS_M, t.MINUTE),
    (t.TOKENS_D, t.DAY),
    (t.TOKENS_MO, t.MONTH),
    (t.NANO_MO, t.MONTH),
)


@pytest.fixture
def native() -> Iterator[Any]:
    require(limits._native is not None, "the C accelerator lynkr_cli.team._counters was not built")
    yield limits._native
    limits.set_native(True)


def _run(store: MemoryLimitStore, on: bool, op: tuple[Any, ...]) -> Any:
    limits.set_native(on)
    try:
        kind, *args = op
        if kind == "admit":
            return store.admit_plan(*args)
        if kind == "settle":
            return store.settle_plan(*args)
        if kind == "seed":
            return store.seed(*args)
        raise AssertionError(kind)
    finally:
        limits.set_native(True)


def _plan(rng: random.Random) -> tuple[tuple[str, int, int], ...]:
    steps = [s for s in STEPS if rng.random() < 0.7] or [STEPS[0]]
    return tuple((counter, rng.choice((1, 3, 50, 10**6, 2**70)), w) for counter, w in steps)


def _windows(minute: int) -> tuple[tuple[float, float], ...]:
    start = 1_790_000_000.0 + 60 * minute
    day = start - start % 86400
    return ((start, start + 60), (day, day + 86400), (1_789_000_000.0, 1_792_000_000.0))


def _same(a: Any, b: Any) -> None:
    assert type(a) is type(b), (a, b)
    assert a == b
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b, strict=True):
            _same(x, y)


@pytest.mark.parametrize("seed", range(12))
def test_random_sequences_give_the_same_answers_and_counters(native: Any, seed: int) -> None:
    rng = random.Random(seed)
    python, accelerated = MemoryLimitStore(), MemoryLimitStore()
    plans = {f"k{i}": _plan(rng) for i in range(3)}
    minute = 0
    admitted: list[tuple[str, list[Check]]] = []
    outcomes: set[bool] = set()
    for _ in range(400):
        if rng.random() < 0.05:
            minute += rng.choice((1, 1, 2, -1))  # a late settlement sees an older window
        key = rng.choice(list(plans))
        roll = rng.random()
        if roll < 0.6:
            amounts = (1, rng.choice((0, 1, 2, 7, 49, 10**7)), rng.choice((0, 5, 10**9)))
            op: tuple[Any, ...] = ("admit", key, plans[key], _windows(minute), amounts)
            a, b = _run(python, False, op), _run(accelerated, True, op)
            _same(a, b)
            checks, decision, lines = b
            assert isinstance(decision, Decision) and all(isinstance(c, Check) for c in checks)
            headers = rate_headers_python(checks, decision.values)
            assert lines == lines_of(headers)
            _same(headers, native.headers(checks, decision.values))
            _same(lines, native.lines(checks, decision.values))
            outcomes.add(decision.ok)
            if decision.ok:
                admitted.append((key, checks))
        elif roll < 0.9 and admitted:
            key, checks = admitted.pop(rng.randrange(len(admitted)))
            amounts = (0, rng.choice((-3, 0, 4, 10**6)), rng.choice((-7, 0, 11)))
            op = ("settle", key, checks, amounts)
            _same(_run(python, False, op), _run(accelerated, True, op))
        else:
            counter, w = rng.choice(STEPS)
            window = _windows(minute)[w]
            op = ("seed", key, counter, *window, rng.choice((0, 2, 10**8)))
            _run(python, False, op)
            _run(accelerated, True, op)
        assert python._keys == accelerated._keys
    assert outcomes == {True, False}  # both kinds of answer were compared


def test_an_oversize_estimate_passes_only_in_an_unused_minute(native: Any) -> None:
    plan = ((t.TOKENS_M, 10, t.MINUTE),)
    for on in (False, True):
        limits.set_native(on)
        store = MemoryLimitStore()
        first = store.admit_plan("k", plan, _windows(0), (1, 50, 0))[1]
        second = store.admit_plan("k", plan, _windows(0), (1, 50, 0))[1]
        assert first == Decision(True, (50,), -1)
        assert second == Decision(False, (50,), 0)
    limits.set_native(True)


def test_a_refusal_reports_each_counter_as_it_was_and_charges_nothing(native: Any) -> None:
    plan = ((t.REQUESTS_M, 5, t.MINUTE), (t.TOKENS_D, 100, t.DAY), (t.NANO_MO, 10, t.MONTH))
    for on in (False, True):
        limits.set_native(on)
        store = MemoryLimitStore()
        store.admit_plan("k", plan, _windows(0), (1, 60, 4))
        checks, decision, lines = store.admit_plan("k", plan, _windows(0), (1, 60, 4))
        assert lines == lines_of(rate_headers_python(checks, decision.values))
        assert decision == Decision(False, (1, 60, 4), 1)
        assert rate_headers_python(checks, decision.values) == limits.rate_headers(
            checks, decision.values
        )
        assert store.value("k", t.REQUESTS_M, _windows(0)[t.MINUTE][0]) == 1
    limits.set_native(True)


def test_bad_arguments_raise_python_errors_not_crashes(native: Any) -> None:
    keys: dict[str, Any] = {}
    with pytest.raises(TypeError):
        native.admit(keys, "k", [("req/m", 1, 0)], _windows(0), (1, 0, 0))
    with pytest.raises(TypeError):
        native.admit(keys, "k", (("req/m", 1),), _windows(0), (1, 0, 0))
    with pytest.raises(IndexError):
        native.admit(keys, "k", (("req/m", 1, 7),), _windows(0), (1, 0, 0))
    with pytest.raises(KeyError):
        native.admit(keys, "k", (("nope", 1, 0),), _windows(0), (1, 0, 0))
    with pytest.raises(TypeError):
        native.admit({"k": []}, "k", (("req/m", 1, 0),), _windows(0), (1, 0, 0))
    with pytest.raises(TypeError):
        native.admit({"k": {"req/m": (1.0, 2)}}, "k", (("req/m", 1, 0),), _windows(0), (1, 0, 0))
    with pytest.raises(ValueError):
        native.admit(keys, "k", ((t.REQUESTS_M, 10**9, t.MINUTE),) * 17, _windows(0), (1, 0, 0))
    with pytest.raises(TypeError):
        native.settle(keys, "k", (), (0, 0, 0))
    with pytest.raises(ValueError):
        native.headers([], [1])
    with pytest.raises(TypeError):
        native.headers([("x",)], [1])
    with pytest.raises(ValueError):
        native.lines([], [1])


def test_header_lines_match_the_header_map_and_never_carry_a_line_break(native: Any) -> None:
    """The lines the gateway writes as they are: byte for byte the header map's items,
    any size of integer; a name or value with a CR or LF (none can occur: the names are
    configured, the values integers and times) gives None, so the map is used instead."""
    check = Check(t.REQUESTS_M, 0.0, 1_790_000_060.0, 1, 2**70)
    for used in (0, 3, 2**69, 2**71):
        headers = native.headers([check], [used])
        assert native.lines([check], [used]) == lines_of(headers)
        assert lines_of(headers).count(b"\r\n") == 3
    reset = 1_790_000_120.0
    limits._RESETS[reset] = "2026-09-21T14:15:20Z\r\nx-injected: 1"  # the C side's cache
    try:
        assert native.lines([check._replace(window_end=reset)], [1]) is None
        assert b"x-injected" not in (native.lines([check], [1]) or b"")
    finally:
        limits._RESETS.pop(reset, None)
    huge = check._replace(limit=10**2000)  # longer than the line buffer: None, not a crash
    assert native.lines([huge], [0]) is None
    assert native.headers([huge], [0])["anthropic-ratelimit-requests-limit"] == str(10**2000)


def test_no_reference_leaks_over_many_calls(native: Any) -> None:
    if not hasattr(sys, "gettotalrefcount"):  # a release build: watch the heap instead
        import tracemalloc

        store = MemoryLimitStore()
        plan = tuple((c, 10**9, w) for c, w in STEPS)

        def cycle() -> None:
            checks, decision, _ = store.admit_plan("k", plan, _windows(0), (1, 7, 9))
            store.settle_plan("k", checks, (0, 3, 4))
            limits.rate_headers(checks, decision.values)
            store.admit_plan("k", ((t.REQUESTS_M, 0, t.MINUTE),), _windows(0), (1, 0, 0))

        for _ in range(2000):
            cycle()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20000):
            cycle()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert grown < 64 * 1024, grown


def test_threads_and_tasks_share_the_counters_exactly(native: Any) -> None:
    store = MemoryLimitStore()
    plan = ((t.REQUESTS_M, 1000, t.MINUTE), (t.TOKENS_M, 10**9, t.MINUTE))
    ok = [0]
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(400):
            if store.admit_plan("k", plan, _windows(0), (1, 2, 0))[1].ok:
                with lock:
                    ok[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ok[0] == 1000
    assert store.value("k", t.REQUESTS_M, _windows(0)[t.MINUTE][0]) == 1000


def test_build_checks_matches(native: Any) -> None:
    plan = tuple((c, 9, w) for c, w in STEPS)
    checks, _, _ = native.admit({}, "k", plan, _windows(0), (1, 2, 3))
    _same(checks, build_checks(plan, _windows(0), (1, 2, 3)))


def test_the_reset_text_cache_stays_bounded(native: Any) -> None:
    """Each window end's RFC 3339 text is formatted once and kept, a few dozen at most."""
    for end in range(200):
        check = Check(t.REQUESTS_M, float(end), 1_790_000_000.0 + end * 60, 1, 10)
        headers = native.headers([check], [3])
        assert headers["anthropic-ratelimit-requests-reset"] == limits.rfc3339(check.window_end)
        assert len(limits._RESETS) <= 65
