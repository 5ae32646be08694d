"""The usage queue in a real process: SIGTERM loses nothing, SIGKILL at most one batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHILD = r"""
import asyncio, signal, sys, time
from lynkr_cli.settings import Settings, TeamSettings
from lynkr_cli.team.api import Team
from lynkr_cli.team.types import UsageRecord

BATCH, TOTAL = int(sys.argv[1]), int(sys.argv[2])

async def main():
    team = Team.open(Settings(team=TeamSettings(usage_batch_size=BATCH, usage_flush_seconds=60)))
    await team.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    for n in range(TOTAL):
        team.record_usage(UsageRecord(f"req_{n:06d}", time.time(), "k-1", "ci"))
        if n % 50 == 0:
            await asyncio.sleep(0)
    while team.recorder.written < TOTAL - TOTAL % BATCH:  # every full batch is on disk
        await asyncio.sleep(0.01)
    print("recorded", flush=True)
    await stop.wait()  # the gateway's drain: SIGTERM, then stop()
    await team.stop()

asyncio.run(main())
"""


def _spawn(home: Path, batch: int, total: int) -> subprocess.Popen[str]:
    env = {**os.environ, "LYNKR_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(batch), str(total)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the child has queued everything
    assert line.strip() == "recorded", proc.stderr.read() if proc.stderr else ""
    return proc


def _rows(home: Path) -> int:
    with sqlite3.connect(home / "data" / "lynkr.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM team_usage").fetchone()[0])


def test_sigterm_then_stop_writes_every_queued_record(lynkr_home: Path) -> None:
    proc = _spawn(lynkr_home, batch=100, total=1250)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert _rows(lynkr_home) == 1250


@pytest.mark.parametrize(("batch", "total"), [(100, 1250), (25, 5010)])
def test_a_crash_loses_at_most_the_batch_in_the_queue(
    lynkr_home: Path, batch: int, total: int
) -> None:
    proc = _spawn(lynkr_home, batch=batch, total=total)
    proc.kill()  # SIGKILL: no drain, no stop
    proc.wait(timeout=60)
    written = _rows(lynkr_home)
    assert total - batch < written <= total  # only the part-filled batch may be lost
