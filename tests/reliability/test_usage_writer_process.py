"""The usage writer process never outlives the gateway: a gateway killed with SIGKILL
(no clean-up at all) leaves a child that sees its pipe close and exits by itself. At
idle CPU priority it still writes everything on a machine with no idle CPU."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import process_gone

pytestmark = pytest.mark.timeout(60)

_GATEWAY = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    from lynkr_cli.team.sqlite import SqliteStore
    from lynkr_cli.team.writer import ProcessWriter, WriterSpec

    async def main():
        path = Path(sys.argv[1])
        SqliteStore(path)
        writer = ProcessWriter(WriterSpec("sqlite", str(path), "metadata", 1024, ()))
        await writer.write([])
        print(writer.pid, flush=True)
        os.kill(os.getpid(), 9)  # no clean-up: the child's stdin closes with us

    asyncio.run(main())
    """
)


def test_a_killed_gateway_leaves_no_writer_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _GATEWAY, str(tmp_path / "lynkr.db")],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "LYNKR_HOME": str(tmp_path)},
    )
    assert proc.returncode == -9, proc.stderr
    child = int(proc.stdout.split()[0])
    for _ in range(500):  # bounded: 10 s
        if process_gone(child):
            break
        time.sleep(0.02)
    assert process_gone(child), "the writer process outlived the gateway"


RECORDS = 3000
_BUSY = "import time\nend = time.monotonic() + 40\nwhile time.monotonic() < end:\n    pass\n"


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE (Linux only)")
async def test_an_idle_priority_writer_on_a_saturated_machine_catches_up(
    open_team: Any, store: Any
) -> None:
    """Every core busy at normal priority leaves no idle time for the SCHED_IDLE writer
    (the kernel still gives it a sliver): every record is written, once, on an intact
    chain, and if a batch came back later than ``BEHIND_SECONDS`` the writer runs at
    normal priority from then on. (That the switch happens is tested with a threshold
    of zero in tests/team/test_writer_process.py; here the kernel decides.)"""
    from lynkr_cli.team.audit import verify
    from tests.conftest import eventually
    from tests.team.conftest import usage_record
    from tests.team.test_writer_process import _running

    team, writer, _ = await _running(open_team)  # one record written, at idle priority
    assert writer.behind == 0 and writer.spec.idle
    cores = len(os.sched_getaffinity(0))
    busy = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(cores)]
    try:
        await asyncio.sleep(0.2)  # the loops are running
        for n in range(1, RECORDS):
            team.record_usage(usage_record(n))
        assert await eventually(lambda: team.recorder.pending == 0, 40)
        assert writer.spec.idle == (writer.behind == 0)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait(10)
    await team.stop()
    verdict = verify(store.audit_chain(), store.audit_anchor())
    assert verdict.ok and verdict.rows == RECORDS and team.recorder.written == RECORDS
