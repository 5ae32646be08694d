"""The in-memory limit counters stay exact while another thread reseeds them.

The C accelerator (``native/team_counters.c``) takes no lock: each call is atomic
because it holds the GIL and runs no Python code. The key reader thread's ``seed()``
(Python, under the store's lock) runs meanwhile; neither may lose the other's writes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from lynkr_cli.team import limits
from lynkr_cli.team.limits import MemoryLimitStore
from lynkr_cli.team.types import DAY, MINUTE, REQUESTS_M, TOKENS_D, TOKENS_M

WINDOWS = ((600.0, 660.0), (0.0, 86400.0), (0.0, 2_678_400.0))


@pytest.fixture(params=["native", "python"])
def counters(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "native" and limits._native is None:
        from tests.conftest import require

        require(False, "lynkr_cli.team._counters was not built")
    limits.set_native(request.param == "native")
    yield request.param
    limits.set_native(True)


def test_admissions_stay_exact_while_another_thread_seeds(counters: str) -> None:
    store = MemoryLimitStore()
    plan = ((REQUESTS_M, 5000, MINUTE), (TOKENS_M, 10**12, MINUTE), (TOKENS_D, 10**12, DAY))
    stop = threading.Event()
    seeds = [0]

    def seeder() -> None:  # what Team._seed does on the key reader thread
        while not stop.is_set() and seeds[0] < 200_000:
            store.seed("k", TOKENS_D, *WINDOWS[DAY], 7)
            store.seed("other", TOKENS_D, *WINDOWS[DAY], seeds[0])
            seeds[0] += 1

    admitted = 0
    thread = threading.Thread(target=seeder)
    thread.start()
    try:
        for _ in range(6000):
            checks, decision, lines = store.admit_plan("k", plan, WINDOWS, (1, 3, 0))
            if decision.ok:
                store.settle_plan("k", checks, (0, 1, 0))
                admitted += 1
                remaining = f"anthropic-ratelimit-requests-remaining: {5000 - admitted}\r\n"
                assert lines is not None and remaining.encode() in lines
    finally:
        stop.set()
        thread.join(30)
    assert seeds[0] > 0
    assert admitted == 5000  # exactly the limit, none lost to the other thread
    assert store.value("k", REQUESTS_M, WINDOWS[MINUTE][0]) == 5000
    assert store.value("k", TOKENS_M, WINDOWS[MINUTE][0]) == 5000 * 4
