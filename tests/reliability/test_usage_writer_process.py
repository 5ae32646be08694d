"""The usage writer process never outlives the gateway: a gateway killed with SIGKILL
(no clean-up at all) leaves a child that sees its pipe close and exits by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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
