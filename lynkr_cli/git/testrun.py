"""Running the policy's test command before a commit, with its output streamed.

Each output line goes to ``on_output`` as it arrives (the CLI writes it to
stderr; the gateway can forward it). Nothing here touches the git index: a
failing run simply means the commit never starts, so the staged changes stay
exactly as they were.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from lynkr_cli.git.models import TestRun
from lynkr_cli.git.policy import TestCommand
from lynkr_cli.procenv import child_env

OutputCallback = Callable[[str], None]
_TAIL_LINES = 40


def run_tests(
    command: TestCommand, root: Path, timeout: float, on_output: OutputCallback | None = None
) -> TestRun:
    """Run ``command`` in ``root``; never raises for a failing or missing program."""
    tail: deque[str] = deque(maxlen=_TAIL_LINES)

    def emit(line: str) -> None:
        tail.append(line)
        if on_output is not None:
            on_output(line)

    try:
        proc = subprocess.Popen(
            command.argv,
            cwd=root,
            # The user's environment for `lynkr git commit`; the allow-listed one for a tool.
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Its own process group, so a timeout can stop the children it started too.
            start_new_session=True,
        )
    except OSError as exc:
        emit(f"cannot run {command.argv[0]!r}: {exc.strerror or exc}")
        return _result(command, None, False, tail)
    reader = threading.Thread(target=_pump, args=(proc, emit), daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        emit(f"test command timed out after {timeout:g}s (POLICY_TEST_TIMEOUT)")
    except BaseException:
        # Ctrl-C reaches only us (the tests run in their own session): stop them too.
        _kill_group(proc)
        raise
    reader.join(timeout=5)
    code = None if timed_out else proc.returncode
    return _result(command, code, timed_out, tail)


def _pump(proc: subprocess.Popen[str], emit: OutputCallback) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        emit(line.rstrip("\n"))
    proc.stdout.close()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait(timeout=10)


def _result(command: TestCommand, code: int | None, timed_out: bool, tail: deque[str]) -> TestRun:
    return TestRun(
        command=list(command.argv),
        source=command.source,
        returncode=code,
        passed=code == 0,
        timed_out=timed_out,
        output_tail="\n".join(tail),
    )
