"""The usage/audit writer process: batches written outside the gateway's interpreter.

Writing a batch (building audit entries, sealing the hash chain, the SQL) costs tens
of microseconds of Python per record. On the gateway's worker thread that time is
taken from the event loop, which shares the interpreter lock. So by default
(``LYNKR_USAGE_WRITER=process``) the recorder hands each batch, as plain tuples, to
one child process, ``python -m lynkr_cli.team.writer``, which opens its own
connection to the same store and answers each batch with an acknowledgement.

- The protocol is length-prefixed pickle frames on the child's stdin/stdout: the
  first frame is the :class:`WriterSpec` (the store's URL and the secret values to
  mask travel this way, never in the command line; the child's environment is the
  gateway's without any variable a lynkr setting reads), then one
  frame per batch, each answered by ``(written, error)``: how many of its items are
  written (in order), and ``None`` or the error that stopped the rest. Only the
  gateway writes to the child: nothing else can reach that pipe.
- A failed batch stays with the recorder, which retries and spills exactly as with
  the thread writer. A child that exits or stops answering (``ACK_SECONDS``) is
  killed and started again at the next attempt. A batch the child committed but
  could not acknowledge is written again (at-least-once, as a commit whose answer
  is lost always is).
- The child ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole process group):
  it ends when the gateway closes its stdin, after the last batch, or when the
  gateway dies.
- **Priority** (``team.usage_writer_priority``, default ``idle``): on Linux the child
  runs under ``SCHED_IDLE``, so it writes on CPU time no other process wants and never
  takes a core from the gateway, its clients or its upstream (on a 2-core machine at
  full load that is worth ~3 points of throughput: docs/team-gateway.md). It cannot
  starve unnoticed: it writes a batch in chunks of ``CHUNK`` items (a transaction
  each), and past ``BEHIND_SECONDS`` it stops at the next chunk boundary and answers
  how far it got. That means the machine has no idle time for it: the gateway sends
  the rest at once to a new child at normal priority, where the writer stays (an
  unprivileged process cannot leave ``SCHED_IDLE`` by itself). Elsewhere the child
  runs at normal priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import struct
import sys
import time
from dataclasses import astuple, dataclass, replace
from typing import IO, TYPE_CHECKING, Any

from lynkr_cli.logs import get_logger
from lynkr_cli.team.batches import BatchBuilder, Wire, decode
from lynkr_cli.team.types import AuditMode

if TYPE_CHECKING:
    from lynkr_cli.settings import Settings

ACK_SECONDS = 120.0  # a batch unanswered this long means a stuck child: kill it
START_SECONDS = 30.0  # the child's answer to its spec (imports, opening the store)
# An idle-priority child whose batch (~10-40 ms of work) takes this long is not getting
# idle CPU time: it stops at the next chunk boundary (each chunk is a transaction of
# CHUNK items), and the writer goes back to normal priority for the rest.
BEHIND_SECONDS = 1.0
CHUNK = 250
_LEN = struct.Struct(">I")


class WriterError(Exception):
    """The batch was not written (the text says why; it may name the store), or only
    its first ``written`` items were."""

    def __init__(self, message: str, written: int = 0) -> None:
        super().__init__(message)
        self.written = written


@dataclass(frozen=True, slots=True)
class WriterSpec:
    kind: str  # sqlite | postgresql
    where: str  # a SQLite path or a PostgreSQL URL (with its password)
    audit: AuditMode
    max_body_chars: int
    known: tuple[str, ...]  # secret values to mask in stored bodies and errors
    idle: bool = False  # run the child at idle CPU priority (SCHED_IDLE) where there is one
    behind: float = BEHIND_SECONDS  # an idle child stops a batch this late (chunk boundary)


def writer_spec(settings: Settings) -> WriterSpec:
    """What the writer process needs to open the gateway's store and redact alike."""
    from lynkr_cli.settings import secret_values
    from lynkr_cli.team.backends import database_url, store_kind

    kind, where = store_kind(database_url(settings))
    team = settings.team
    known = tuple(secret_values(settings))
    idle = team.usage_writer_priority == "idle"
    return WriterSpec(
        kind, where, team.audit, team.audit_max_body_kb * 1024, known, idle, BEHIND_SECONDS
    )


class ProcessWriter:
    """The gateway's end, driven by its event loop: one child, started on first use and
    again after a failure. Batches are written one at a time (the recorder's flusher is
    the only caller), so no thread and no lock is involved."""

    def __init__(self, spec: WriterSpec) -> None:
        self.spec = spec
        self._proc: asyncio.subprocess.Process | None = None
        self._retired: list[asyncio.subprocess.Process] = []  # ending after a priority change
        self.starts = 0  # children started so far (tests, metrics)
        self.behind = 0  # times an idle-priority child fell behind (0 or 1)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def write(self, wire: list[Wire]) -> None:
        """Write one batch through the child; WriterError when it was not written."""
        proc = self._proc if self._proc is not None else await self._start()
        if self.spec.audit == "full":  # bodies: megabytes to pickle, off the event loop
            data = await asyncio.get_running_loop().run_in_executor(None, _dumps, wire)
        else:  # a few hundred bytes a record: cheaper here than a thread hop
            data = _dumps(wire)
        started = time.monotonic()
        try:
            written, error = await _call(proc, data, ACK_SECONDS)
        except (OSError, EOFError, TimeoutError, pickle.PickleError) as exc:
            await self._kill()
            raise WriterError(f"usage writer process failed: {exc!r}") from None
        took = time.monotonic() - started
        stopped = error is None and written < len(wire)  # an idle child past its deadline
        if self.spec.idle and (stopped or took > BEHIND_SECONDS):
            self._normal_priority(took)
        if error is not None:
            raise WriterError(str(error), written)
        if stopped:  # the rest at once, through a child at normal priority
            try:
                await self.write(wire[written:])
            except WriterError as exc:
                raise WriterError(str(exc), written + exc.written) from None

    def _normal_priority(self, took: float) -> None:
        """The idle-priority child fell behind: the next batch goes to a new child at
        normal priority (this one ends when it reads the end of its input)."""
        self.spec = replace(self.spec, idle=False)
        self.behind += 1
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
            self._retired.append(proc)
        get_logger("lynkr.team").warning(
            "usage writer fell behind at idle CPU priority; it runs at normal priority from now on",
            batch_seconds=round(took, 2),
        )

    async def close(self) -> None:
        """Close the child's stdin and wait for it to end (kill it after 10 s)."""
        for old in self._retired:
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(old.wait(), 10)
            await _end(old)
        self._retired.clear()
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), 10)
        except (OSError, TimeoutError):
            await _end(proc)

    async def _start(self) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lynkr_cli.team.writer",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=_child_environment(),
        )
        self.starts += 1
        try:
            answer = await _call(proc, _dumps(astuple(self.spec)), START_SECONDS)
        except (OSError, EOFError, TimeoutError) as exc:
            await _end(proc)
            raise WriterError(f"usage writer process did not start: {exc!r}") from None
        if answer is not None:
            await _end(proc)
            raise WriterError(f"usage writer process could not open the store: {answer}")
        self._proc = proc
        return proc

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            await _end(proc)


def _child_environment() -> dict[str, str]:
    """The gateway's environment without every variable a lynkr setting reads (its
    upstream keys, ``LYNKR_DATABASE_URL``, ``LYNKR_API_KEY``…): the child gets what it
    needs in the pipe. What libpq or Python read (``PG*``, ``PYTHONPATH``) stays."""
    from lynkr_cli.settings import field_env_names, iter_fields

    names = {name for section, field in iter_fields() for name in field_env_names(section, field)}
    return {name: value for name, value in os.environ.items() if name not in names}


def _dumps(message: Any) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


async def _call(proc: asyncio.subprocess.Process, data: bytes, timeout: float) -> Any:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(_LEN.pack(len(data)) + data)
    try:
        async with asyncio.timeout(timeout):
            await proc.stdin.drain()
            head = await proc.stdout.readexactly(_LEN.size)
            body = await proc.stdout.readexactly(_LEN.unpack(head)[0])
    except asyncio.IncompleteReadError:
        raise EOFError("the writer process closed its pipe") from None
    return pickle.loads(body)


async def _end(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


def _send(out: IO[bytes], message: Any) -> None:
    data = _dumps(message)
    view = memoryview(_LEN.pack(len(data)) + data)
    while view:  # an unbuffered pipe may take part of a frame
        view = view[out.write(view) or 0 :]
    out.flush()


def _receive(src: IO[bytes]) -> Any:
    head = _read_exactly(src, _LEN.size)
    return pickle.loads(_read_exactly(src, _LEN.unpack(head)[0]))


def _read_exactly(src: IO[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:  # a pipe may return part of a frame
        chunk = src.read(size - len(data))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        data += chunk
    return data


# ---------------------------------------------------------------------- the child
def _error_text(exc: BaseException, known: Any) -> str:
    from lynkr_cli.logs import redact_text
    from lynkr_cli.team.redact import redact_error

    return redact_error(redact_text(repr(exc)), known)


def idle_priority() -> bool:
    """Run this process under ``SCHED_IDLE`` (Linux): only on CPU time nothing else
    wants. False where there is no such policy or it is refused (then nothing changes)."""
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None:
        return False
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:
        return False
    return True


def serve(src: IO[bytes], out: IO[bytes]) -> int:
    """The child's loop: the spec, then batches until stdin closes."""
    from lynkr_cli.team.redact import Redactor

    try:
        spec = WriterSpec(*_receive(src))
    except EOFError:
        return 0
    idle = spec.idle and idle_priority()  # chunks and a deadline only when really idle
    from lynkr_cli.team.backends import open_store_at

    redactor = Redactor(spec.max_body_chars, spec.known)
    try:
        store = open_store_at(spec.kind, spec.where, check_schema=False)
    except Exception as exc:
        _send(out, _error_text(exc, redactor.known) or "cannot open the store")
        return 1
    builder = BatchBuilder(spec.audit, redactor)
    _send(out, None)
    try:
        while True:
            try:
                wire = _receive(src)
            except EOFError:
                return 0
            # At idle priority, in chunks (each its own transaction) with a deadline: a
            # starved child stops at a chunk boundary and says how far it got.
            deadline = time.monotonic() + spec.behind if idle else None
            step = CHUNK if deadline is not None else max(len(wire), 1)
            done = 0
            try:
                while done < len(wire):
                    chunk = wire[done : done + step]
                    store.write_batch(*builder.build(decode(chunk)))
                    done += len(chunk)
                    if deadline is not None and time.monotonic() > deadline:
                        break
            except Exception as exc:
                _send(out, (done, _error_text(exc, redactor.known) or "write failed"))
            else:
                _send(out, (done, None))
    finally:
        store.close()


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stdin, stdout = os.fdopen(0, "rb"), os.fdopen(1, "wb")
    sys.stdout = sys.stderr  # nothing else may write frames
    try:
        return serve(stdin, stdout)
    except (BrokenPipeError, EOFError):
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
