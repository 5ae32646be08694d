"""A real ``lynkr serve`` process for tests: started on a free port, its stderr kept.

``async with GatewayProcess(env) as gw: ...`` gives ``gw.url``, ``gw.pid``,
``gw.fds()`` (its open descriptors) and, after exit, ``gw.stderr`` (everything it
logged), so a test can check that no traceback was written.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

BASE_ENV = {
    "LYNKR_CACHE": "false",
    "LYNKR_ACCESS_LOG": "false",
    "LYNKR_TOOLS_MODE": "never",
    "LYNKR_MAX_RETRIES": "0",
}


class GatewayProcess:
    def __init__(self, env: dict[str, str], *args: str, cwd: Path | None = None) -> None:
        self.env = {**os.environ, **BASE_ENV, **env}
        self.args = args
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self._log = tempfile.NamedTemporaryFile(prefix="lynkr-serve-", suffix=".log")  # noqa: SIM115

    async def __aenter__(self) -> GatewayProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lynkr_cli",
            "serve",
            "--port",
            "0",
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            env=self.env,
            cwd=self.cwd,
        )
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), timeout=60)).decode().strip()
        if not line.startswith("export ANTHROPIC_BASE_URL="):
            await self.stop()
            raise AssertionError(f"gateway did not start: {line!r}\n{self.stderr}")
        self.url = line.split("=", 1)[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def sockets(self) -> int:
        fd_dir = f"/proc/{self.pid}/fd"
        count = 0
        for name in os.listdir(fd_dir):
            try:
                if os.readlink(f"{fd_dir}/{name}").startswith("socket:"):
                    count += 1
            except OSError:
                continue
        return count

    async def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    @property
    def stderr(self) -> str:
        return Path(self._log.name).read_text(errors="replace")


async def settle_to(measure: Any, target: int, *, seconds: float = 10.0) -> int:
    """Poll ``measure()`` until it is at most ``target`` (bounded); return the last value."""
    value = measure()
    for _ in range(int(seconds / 0.1)):
        if value <= target:
            break
        await asyncio.sleep(0.1)
        value = measure()
    return int(value)
