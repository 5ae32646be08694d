"""The usage writer process (the gateway's default): rows written by a child process
with its own store connection, the same rows, the same redaction and the same audit
chain as the thread writer; the child's start, stop and failures."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from lynkr_cli import paths
from lynkr_cli.team import writer as writer_mod
from lynkr_cli.team.api import SPILL_NAME, Team
from lynkr_cli.team.audit import verify
from lynkr_cli.team.batches import Wire, usage_fields
from lynkr_cli.team.recorder import Recorder
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.writer import ProcessWriter, WriterSpec
from tests.conftest import eventually, process_gone
from tests.team.conftest import usage_record

pytestmark = pytest.mark.timeout(60)


def _rows(table: str = "team_usage") -> list[tuple[object, ...]]:
    with sqlite3.connect(paths.app_db_path()) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def _chain_ok(store: SqliteStore) -> tuple[bool, int]:
    verdict = verify(store.audit_chain(), store.audit_anchor())
    return verdict.ok, verdict.rows


async def _running(open_team: Callable[..., Team]) -> tuple[Team, ProcessWriter, int]:
    """A started team whose writer process has written one record: (team, writer, pid)."""
    team = open_team(usage_flush_seconds=0.05)
    await team.start()
    writer = team.recorder.writer
    assert isinstance(writer, ProcessWriter)
    team.record_usage(usage_record(0))
    assert await eventually(lambda: team.recorder.pending == 0)
    assert writer.pid is not None
    return team, writer, writer.pid


def _spec(path: Path, audit: str = "metadata", known: tuple[str, ...] = ()) -> WriterSpec:
    return WriterSpec("sqlite", str(path), audit, 256 * 1024, known)


async def test_the_gateway_writes_through_a_child_process_by_default(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    team = open_team(usage_flush_seconds=0.05)
    writer = team.recorder.writer
    assert isinstance(writer, ProcessWriter)
    await team.start()
    for n in range(250):
        team.record_usage(usage_record(n))
    assert await eventually(lambda: team.recorder.pending == 0)
    pid = writer.pid
    assert pid is not None and pid != os.getpid() and not process_gone(pid)
    assert len(_rows()) == 250
    await team.stop()
    assert writer.pid is None and process_gone(pid)  # stop ends the child
    assert _chain_ok(store) == (True, 250)
    assert team.recorder.written == 250 and writer.starts == 1


async def test_process_and_thread_writers_write_the_same_rows(
    open_team: Callable[..., Team],
) -> None:
    """Every column of every usage row and audit entry, the ids and times apart."""
    tables: dict[str, list[tuple[object, ...]]] = {}
    for mode in ("thread", "process"):
        team = open_team(usage_writer=mode, audit="full")
        await team.start()
        for n in range(30):
            rec = usage_record(n, route="r", guard_findings={"AWS key": 1})
            rec.error = "upstream said: bad key sk-ant-" + "x" * 30 if n % 3 == 0 else ""
            team.record_usage(rec, request={"messages": [{"content": f"hi {n}"}]}, response={})
        await team.stop()
        with sqlite3.connect(paths.app_db_path()) as conn:
            usage = conn.execute(
                "SELECT request_id, input_tokens, route, guard_findings, error FROM team_usage"
                " ORDER BY id DESC LIMIT 30"
            ).fetchall()
            audit = conn.execute(
                "SELECT request_id, event, input_tokens, detail FROM team_audit"
                " ORDER BY seq DESC LIMIT 30"
            ).fetchall()
        tables[mode] = sorted(usage) + sorted(audit)
    assert tables["process"] == tables["thread"]
    assert not any("x" * 30 in str(row) for row in tables["process"])  # redacted


async def test_full_audit_bodies_are_redacted_in_the_child_with_the_gateways_secrets(
    open_team: Callable[..., Team],
) -> None:
    upstream_key = "gateway-admin-" + "k" * 24  # any configured secret value is masked
    team = open_team(upstream_key, audit="full", usage_flush_seconds=0.05)
    assert isinstance(team.recorder.writer, ProcessWriter)
    await team.start()
    aws = "AKIA" + "Z" * 16
    body = {"messages": [{"content": f"my key {aws} and {upstream_key}"}]}
    team.record_usage(usage_record(1), request=body, response={"content": upstream_key})
    await team.stop()
    text = str(_rows("team_audit"))
    assert "my key" in text and aws not in text and upstream_key not in text


async def test_a_killed_child_is_started_again_and_nothing_is_lost(
    open_team: Callable[..., Team], store: SqliteStore
) -> None:
    team, writer, first = await _running(open_team)
    os.kill(first, 9)
    assert await eventually(lambda: process_gone(first))
    for n in range(1, 40):
        team.record_usage(usage_record(n))
    assert await eventually(lambda: team.recorder.pending == 0 and len(_rows()) == 40)
    assert writer.starts == 2 and writer.pid not in (None, first)
    await team.stop()
    assert _chain_ok(store) == (True, 40)


async def test_a_stuck_child_is_killed_after_the_answer_timeout(
    open_team: Callable[..., Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_mod, "ACK_SECONDS", 0.5)
    team, writer, stuck = await _running(open_team)
    os.kill(stuck, 19)  # SIGSTOP: it reads nothing and answers nothing
    for n in range(1, 11):
        team.record_usage(usage_record(n))
    assert await eventually(lambda: len(_rows()) == 11 and team.recorder.pending == 0)
    assert process_gone(stuck) and writer.starts == 2
    await team.stop()


async def test_a_child_ignores_sigint_and_sigterm(
    open_team: Callable[..., Team],
) -> None:
    """A Ctrl-C reaches the whole process group: the gateway drains, the child writes."""
    team, writer, pid = await _running(open_team)
    os.kill(pid, 2)
    os.kill(pid, 15)
    for n in range(1, 5):
        team.record_usage(usage_record(n))
    await team.stop()
    assert len(_rows()) == 5 and writer.starts == 1


async def test_a_child_that_cannot_open_the_store_keeps_then_spills_the_records(
    store: SqliteStore, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    spill = paths.state_dir() / SPILL_NAME
    aws = "AKIA" + "Y" * 16
    bad = Recorder(
        store,
        audit="full",
        interval=0.05,
        spill=spill,
        writer=ProcessWriter(_spec(blocker / "lynkr.db", "full")),
    )
    await bad.start()
    for n in range(12):
        bad.record(usage_record(n), request={"messages": [{"content": aws}]})
    assert await eventually(lambda: bad._failing)
    assert bad.pending == 12 and not _rows()
    await bad.stop()
    assert spill.exists() and stat.S_IMODE(spill.stat().st_mode) == 0o600
    assert aws not in spill.read_text() and bad.spilled == 12

    good = Recorder(store, interval=0.05, spill=spill, writer=ProcessWriter(_spec(store.path)))
    await good.start()  # the spill file is written first
    await good.stop()
    assert len(_rows()) == 12 and not spill.exists()
    assert _chain_ok(store) == (True, 12)


def _policy(pid: int) -> int:
    return os.sched_getscheduler(pid)


needs_sched_idle = pytest.mark.skipif(
    not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE on this platform (Linux only)"
)


@needs_sched_idle
async def test_the_writer_process_runs_at_idle_priority_by_default(
    open_team: Callable[..., Team],
) -> None:
    """It writes on CPU time nothing else wants; ``usage_writer_priority = normal``
    keeps it at normal priority."""
    team, writer, pid = await _running(open_team)
    assert writer.spec.idle and _policy(pid) == os.SCHED_IDLE
    await team.stop()
    team = open_team(usage_flush_seconds=0.05, usage_writer_priority="normal")
    await team.start()
    team.record_usage(usage_record(1))
    assert await eventually(lambda: team.recorder.pending == 0)
    writer = team.recorder.writer
    assert isinstance(writer, ProcessWriter) and writer.pid is not None
    assert not writer.spec.idle and _policy(writer.pid) == os.SCHED_OTHER
    await team.stop()


@needs_sched_idle
async def test_a_writer_that_falls_behind_goes_back_to_normal_priority(
    open_team: Callable[..., Team], store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch answered later than ``BEHIND_SECONDS`` (here: any) means no idle CPU is
    left for it: the next batch goes to a new child at normal priority, and every record
    is written once, on an intact chain."""
    team, writer, first = await _running(open_team)
    assert writer.behind == 0 and _policy(first) == os.SCHED_IDLE
    monkeypatch.setattr(writer_mod, "BEHIND_SECONDS", 0.0)
    team.record_usage(usage_record(1))
    assert await eventually(lambda: team.recorder.pending == 0)
    assert writer.behind == 1 and writer.pid is None and not writer.spec.idle
    for n in range(2, 120):
        team.record_usage(usage_record(n))
    assert await eventually(lambda: team.recorder.pending == 0)
    second = writer.pid
    assert second is not None and second != first and _policy(second) == os.SCHED_OTHER
    assert writer.behind == 1 and writer.starts == 2  # once back to normal, it stays
    await team.stop()
    assert process_gone(first) and process_gone(second)
    assert len(_rows()) == 120 and _chain_ok(store) == (True, 120)


def test_idle_priority_is_set_or_reported_as_not_available() -> None:
    """In a child (the test process keeps its own policy): True and SCHED_IDLE where the
    platform has it, False and nothing changed where it does not."""
    import subprocess
    import sys

    code = (
        "import os; from lynkr_cli.team.writer import idle_priority; ok = idle_priority(); "
        "print(ok, os.sched_getscheduler(0) == getattr(os, 'SCHED_IDLE', -1))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = "True True" if hasattr(os, "SCHED_IDLE") else "False False"
    assert out.stdout.strip() == expected


def _wire(first: int, count: int) -> list[Wire]:
    return [(usage_fields(usage_record(n)), None, None, None) for n in range(first, first + count)]


async def test_a_late_idle_child_stops_at_a_chunk_and_a_normal_one_writes_the_rest(
    store: SqliteStore,
) -> None:
    """Past its deadline (here: at once) an idle-priority child stops after its first
    chunk and says so; the rest of the same batch goes to a child at normal priority.
    Every item is written once, in order, on an intact chain."""
    spec = replace(_spec(store.path), idle=True, behind=0.0)
    writer = ProcessWriter(spec)
    await writer.write(_wire(0, 2 * writer_mod.CHUNK + 100))
    assert writer.behind == 1 and writer.starts == 2 and not writer.spec.idle
    await writer.write(_wire(1000, 10))  # from now on at normal priority, in one piece
    assert writer.starts == 2
    await writer.close()
    ids = [row[2] for row in _rows()]
    assert ids == [f"req_test_{n:06d}" for n in [*range(600), *range(1000, 1010)]]
    assert _chain_ok(store) == (True, 610)


async def test_a_batch_that_fails_part_way_is_retried_from_where_it_stopped(
    store: SqliteStore,
) -> None:
    """Chunks already committed stay written; the error says how many, and the
    recorder retries only the rest: no record is written twice."""
    chunk = writer_mod.CHUNK
    bad = _wire(chunk + 10, 1)
    row = list(bad[0][0] or ())
    row[0] = ["not", "text"]  # a request id SQLite cannot bind: the second chunk fails
    wire = [*_wire(0, chunk + 10), (tuple(row), None, None, None)]
    writer = ProcessWriter(replace(_spec(store.path), idle=True, behind=3600.0))
    recorder = Recorder(store, writer=writer)
    items = list(wire)
    assert not await recorder._write(items)
    assert recorder.written == chunk and len(_rows()) == chunk
    assert items == wire[chunk:]  # only the rest waits for a retry
    items[-1] = bad[0]  # the retry, once the cause is gone
    assert await recorder._write(items)
    await writer.close()
    ids = [r[2] for r in _rows()]
    assert ids == [f"req_test_{n:06d}" for n in range(chunk + 11)]
    assert _chain_ok(store) == (True, chunk + 11)
