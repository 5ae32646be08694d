"""Usage records: totals add up, nothing is lost on stop, batches bound a crash's loss."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from typing import Any

import pytest

from lynkr_cli import paths
from lynkr_cli.team.api import SPILL_NAME, Team
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.store import UsageQuery
from tests.team.conftest import issue, usage_record


def _count(table: str = "team_usage") -> int:
    with sqlite3.connect(paths.app_db_path()) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def test_totals_equal_the_sum_of_recorded_usage(
    store: SqliteStore, started: Callable[..., Any]
) -> None:
    issue(store, "alice")
    issue(store, "bob")
    ids = {k.name: k.id for k in store.list_keys()}
    team = await started(usage_batch_size=7)
    records = [
        usage_record(
            n,
            ids["alice" if n % 3 else "bob"],
            key_name="alice" if n % 3 else "bob",
            client_model=("claude-haiku-4-5" if n % 2 else "claude-sonnet-4-5"),
            status=429 if n % 11 == 0 else 200,
        )
        for n in range(1, 101)
    ]
    for rec in records:
        team.record_usage(rec)
    await team.recorder.flush()
    by_key = {t.extra["key_name"]: t for t in store.usage_totals(UsageQuery("key"))}
    for name in ("alice", "bob"):
        mine = [r for r in records if r.key_name == name]
        total = by_key[name]
        assert total.requests == len(mine)
        assert total.input_tokens == sum(r.input_tokens for r in mine)
        assert total.output_tokens == sum(r.output_tokens for r in mine)
        assert total.cache_creation_tokens == sum(r.cache_creation_tokens for r in mine)
        assert total.cache_read_tokens == sum(r.cache_read_tokens for r in mine)
        assert total.cost_nano == sum(r.cost_nano for r in mine)
        assert total.errors == sum(r.status >= 400 for r in mine)
    by_model = store.usage_totals(UsageQuery("model"))
    assert sum(t.requests for t in by_model) == 100
    assert {t.group for t in by_model} == {"claude-haiku-4-5", "claude-sonnet-4-5"}
    by_day = store.usage_totals(UsageQuery("day"))
    assert sum(t.cost_nano for t in by_day) == sum(r.cost_nano for r in records)
    assert store.list_keys()[0].last_used_at is not None


async def test_stop_writes_every_queued_record(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    team = open_team(usage_batch_size=10_000, usage_flush_seconds=60)
    await team.start()
    for n in range(3000):
        team.record_usage(usage_record(n))
    assert _count() == 0  # nothing due yet: a full batch or the interval triggers a write
    await team.stop()
    assert _count() == 3000


async def test_nothing_is_lost_with_many_records_in_flight_from_threads_and_tasks(
    open_team: Callable[..., Team],
) -> None:
    team = open_team(usage_batch_size=50, usage_flush_seconds=0.05)
    await team.start()

    def produce(offset: int) -> None:
        for n in range(2000):
            team.record_usage(usage_record(offset + n))

    threads = [threading.Thread(target=produce, args=(i * 100_000,)) for i in range(4)]
    for t in threads:
        t.start()
    for n in range(2000):  # and the event loop itself, interleaved with the flusher
        team.record_usage(usage_record(900_000 + n))
        if n % 100 == 0:
            await asyncio.sleep(0)
    for t in threads:
        t.join(timeout=60)
    await team.stop()
    assert _count() == 10_000


async def test_a_full_batch_is_written_without_waiting_for_the_interval(
    open_team: Callable[..., Team],
) -> None:
    team = open_team(usage_batch_size=25, usage_flush_seconds=60)
    await team.start()
    try:
        for n in range(25):
            team.record_usage(usage_record(n))
        for _ in range(500):  # bounded: a crash now would lose nothing
            if _count() == 25:
                break
            await asyncio.sleep(0.01)
        assert _count() == 25
    finally:
        await team.stop()


async def test_a_full_batch_wakes_the_writer_for_whole_batches_only(
    open_team: Callable[..., Team],
) -> None:
    """Records past the last whole batch wait for the next batch or the timer: a busy
    gateway writes batches of ``usage_batch_size``, not a stream of small ones."""
    team = open_team(usage_batch_size=25, usage_flush_seconds=60)
    await team.start()
    try:
        for n in range(60):
            team.record_usage(usage_record(n))
        for _ in range(500):  # bounded
            if _count() == 50:
                break
            await asyncio.sleep(0.01)
        assert _count() == 50
        await asyncio.sleep(0.2)
        assert _count() == 50  # the last 10 are not a batch: the timer (60 s) is not due
        assert team.recorder.pending == 10
    finally:
        await team.stop()
    assert _count() == 60  # and stop writes them


async def test_a_record_after_stop_is_still_written(open_team: Callable[..., Team]) -> None:
    team = open_team()
    await team.start()
    await team.stop()
    team.record_usage(usage_record(1))
    assert _count() == 1


async def test_route_and_guard_findings_are_kept(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    team = open_team()
    await team.start()
    team.record_usage(usage_record(1, route="cheap-first", guard_findings={"AWS key": 2}))
    await team.stop()
    with sqlite3.connect(paths.app_db_path()) as conn:
        row = conn.execute("SELECT route, guard_findings FROM team_usage").fetchone()
    assert row[0] == "cheap-first" and json.loads(row[1]) == {"AWS key": 2}


async def test_a_store_that_fails_keeps_records_and_spills_them_at_stop(
    open_team: Callable[..., Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The thread writer: this test breaks the store object the gateway holds.
    team = open_team(audit="full", usage_flush_seconds=0.05, usage_writer="thread")
    await team.start()
    original = team.store.write_batch
    calls: list[int] = []

    def failing(*args: Any) -> None:
        calls.append(1)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(team.store, "write_batch", failing)
    secret = "AKIA" + "Q" * 16
    for n in range(20):
        team.record_usage(usage_record(n), request={"messages": [{"content": secret}]})
    for _ in range(500):
        if calls:
            break
        await asyncio.sleep(0.01)
    await team.stop()
    spill = paths.state_dir() / SPILL_NAME
    assert spill.exists() and stat.S_IMODE(os.stat(spill).st_mode) == 0o600
    assert secret not in spill.read_text()  # redacted before it was ever written
    assert _count() == 0

    monkeypatch.setattr(team.store, "write_batch", original)
    again = open_team()
    await again.start()  # the next start writes the spill first
    await again.stop()
    assert _count() == 20 and _count("team_audit") == 20 and not spill.exists()


async def test_record_usage_never_writes_on_the_callers_thread(
    open_team: Callable[..., Team],
) -> None:
    team = open_team(usage_batch_size=10)
    await team.start()
    try:
        for n in range(1000):  # a hundred full batches, and not one await in between
            team.record_usage(usage_record(n))
        assert _count() == 0 and team.recorder.pending == 1000
    finally:
        await team.stop()
    assert _count() == 1000
