"""Usage and audit records, written off the event loop in batches.

:meth:`Recorder.record` appends to an in-memory queue (a deque append: safe from any
thread, never blocks). A flusher task writes the queue in one transaction per batch,
one batch at a time, as soon as ``batch_size`` records wait or every ``interval``
seconds, whichever comes first. With a :class:`~lynkr_cli.team.writer.
ProcessWriter` (the gateway's default), the event loop itself hands each batch, as
plain tuples, to the writer process and awaits its answer: building and writing the
rows costs the gateway's interpreter nothing, and no thread competes with the loop
for its lock. Without one, the batch is built (:mod:`lynkr_cli.team.batches`) and
written on the worker thread. A crash loses at most the records not yet written: one
batch, or ``interval`` seconds of traffic. :meth:`Recorder.stop` writes everything
still queued.

Bodies (full audit mode) are redacted where the batch is built, never on the event
loop, and before anything is written anywhere. If the store cannot be written (a
database server that went away), batches are kept in memory and retried with a
backoff, up to ``max_pending`` records; past that bound, and at stop, they go to a
spill file (JSON lines, mode 0600, redacted). The spill file is written to the store as soon as the
store works again (and at the next start), so no record is lost. Processes sharing a
state directory take a lock file around the spill file, so one never replays what
another is appending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.logs import get_logger, redact_text
from lynkr_cli.team.batches import (
    Batch,
    BatchBuilder,
    UsageRow,
    Wire,
    decode,
    entry_fields,
    usage_fields,
)
from lynkr_cli.team.redact import Redactor
from lynkr_cli.team.store import AuditEntry, Store
from lynkr_cli.team.types import AuditMode, UsageRecord

if TYPE_CHECKING:
    from lynkr_cli.team.writer import ProcessWriter

_RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)


class Recorder:
    """The usage/audit queue, its flusher task and its worker thread."""

    def __init__(
        self,
        store: Store,
        *,
        audit: AuditMode = "metadata",
        batch_size: int = 100,
        interval: float = 1.0,
        max_body_chars: int = 256 * 1024,
        spill: Path | None = None,
        known: Iterable[str] = (),
        max_pending: int = 10_000,
        writer: ProcessWriter | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.batch_size = batch_size
        self.interval = interval
        self.redactor = Redactor(max_body_chars, known)
        self.builder = BatchBuilder(audit, self.redactor)
        self.writer = writer  # None: batches are built and written on the worker thread
        self.spill = spill
        # Items as the writer process receives them (plain tuples: batches.Wire).
        self._queue: deque[Wire] = deque()
        self._failed: deque[list[Wire]] = deque()
        self._executor: ThreadPoolExecutor | None = None
        self._wake: asyncio.Event | None = None
        self._drain_lock = asyncio.Lock()  # the writer process: one drain at a time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = self._stopping = False
        self.max_pending = max(max_pending, batch_size)
        self._inflight = 0  # records being written right now
        self._failing = False  # the last write failed: wake only on the backoff or the bound
        self.written = 0  # usage records and other events written so far (tests, metrics)
        self.spilled = 0  # records sent to the spill file (metrics)
        self.log = get_logger("lynkr.team")

    # ------------------------------------------------------------------ producers
    def record(self, usage: UsageRecord, request: Any = None, response: Any = None) -> None:
        """Queue one answered request; ``request``/``response`` bodies matter in full mode."""
        self.record_row(usage_fields(usage), request, response)

    def record_row(self, row: UsageRow, request: Any = None, response: Any = None) -> None:
        """:meth:`record` for a :class:`UsageRecord`'s fields in order (the gateway's hot
        path builds the tuple, not the object)."""
        if self.audit != "full":
            request = response = None
        self._push((row, None, request, response))

    def event(self, entry: AuditEntry) -> None:
        """Queue an audit event that is not a request (it is dropped when audit is off)."""
        if self.audit != "off":
            self._push((None, entry_fields(entry), None, None))

    def _push(self, item: Wire) -> None:
        if self._closed:
            self._write_now([item])
            return
        queue = self._queue
        queue.append(item)
        size = len(queue)
        due = size >= self.max_pending if self._failing else size >= self.batch_size
        if due and self._wake is not None:
            if threading.get_ident() == self._loop_thread:
                self._wake.set()
            elif self._loop is not None:
                self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def pending(self) -> int:
        """Records waiting: answered requests (each a usage record and its audit entry)
        and audit events without a request, as :attr:`written` counts them."""
        failed = sum(len(items) for items in self._failed)
        return len(self._queue) + failed + self._inflight

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lynkr-team")
        self._closed = self._stopping = False
        await self._loop.run_in_executor(self._executor, self._replay_spill)
        self._task = asyncio.create_task(self._run(), name="lynkr-team-recorder")

    async def stop(self) -> None:
        """Write every queued record (retrying briefly), spill what still fails, stop."""
        if self._task is not None and self._wake is not None:
            # A flag, not cancel(): Python 3.11's wait_for can swallow a cancellation.
            self._stopping = True
            self._wake.set()
            await self._task
            self._task = None
        if self._executor is None or self._loop is None:  # never started
            self._closed = True
            self._write_leftovers()
            if self.writer is not None:
                await self.writer.close()
            return
        async with self._drain_lock:
            await self._drain_final()
            if self.writer is not None:
                await self.writer.close()
        self._closed = True  # from here on, record() writes synchronously
        await self._loop.run_in_executor(self._executor, self._write_leftovers)
        await self._loop.run_in_executor(self._executor, self.store.close)
        self._executor.shutdown(wait=True)
        self._executor = None

    async def flush(self) -> None:
        """Write everything queued now (tests; the flusher does this by itself)."""
        await self._drain_now()

    async def _drain_now(self, *, full: bool = False) -> bool:
        async with self._drain_lock:  # one drain at a time (one batch on the pipe)
            return await self._drain(full=full)

    async def run_in_worker(self, fn: Any, *args: Any) -> Any:
        """Run a store call on the writer thread (reads share its connection)."""
        assert self._loop is not None and self._executor is not None
        return await self._loop.run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        assert self._wake is not None and self._loop is not None
        failures = 0
        while not self._stopping:
            # Woken by a full batch: write full batches only, and leave the rest for the
            # next (records arriving while a batch is written would otherwise go out in
            # small batches, each paying a transaction). On the timer: everything.
            full = self._wake.is_set()
            if not full:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._pause(failures))
                    full = True
            self._wake.clear()
            if self._stopping:
                return
            ok = await self._drain_now(full=full and not failures)
            failures = 0 if ok else failures + 1

    def _pause(self, failures: int) -> float:
        if not failures:
            return self.interval
        return _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS)) - 1]

    # ------------------------------------------------------------------ draining
    async def _drain(self, *, full: bool = False) -> bool:
        """Write failed batches, the queue a batch at a time (``full``: whole batches
        only), then any spill file; False on a failure (past ``max_pending`` records,
        what waits goes to the spill file). The spill file's work runs on the worker
        thread."""
        assert self._loop is not None
        self._failing = not await self._drain_memory(full=full)
        if self._failing:
            if self.pending > self.max_pending:
                await self._loop.run_in_executor(self._executor, self._spill_all)
            return False
        if self.spill is not None and self.spill.exists():
            replayed = await self._loop.run_in_executor(self._executor, self._replay_spill)
            self._failing = not replayed
        return not self._failing

    async def _drain_memory(self, *, full: bool = False) -> bool:
        while self._failed:
            if not await self._write(self._failed[0]):
                return False
            self._failed.popleft()
        least = self.batch_size if full else 1
        while len(self._queue) >= least:
            # Counted before they leave the queue: ``pending`` may count twice, never miss.
            self._inflight = size = min(self.batch_size, len(self._queue))
            items = self._take(size)
            try:
                if not await self._write(items):
                    self._failed.append(items)
                    return False
            finally:
                self._inflight = 0
        return True

    async def _write(self, items: list[Wire]) -> bool:
        """One batch: to the writer process from the event loop (no thread involved), or
        built and written on the worker thread."""
        if self.writer is None:
            assert self._loop is not None
            return await self._loop.run_in_executor(self._executor, self._try, items)
        from lynkr_cli.team.writer import WriterError

        try:
            await self.writer.write(items)
        except WriterError as exc:
            if exc.written:  # the first ones are in the store: retry only the rest
                self.written += exc.written
                del items[: exc.written]
            self._failed_write(str(exc), len(items))
            return False
        self.written += len(items)
        return True

    async def _drain_final(self) -> None:
        assert self._loop is not None
        for pause in (0.0, 0.2, 1.0):
            await asyncio.sleep(pause)
            if await self._drain():
                return
        await self._loop.run_in_executor(self._executor, self._spill_all)

    def _take(self, count: int) -> list[Wire]:
        """The first ``count`` queued items, out of the queue (other threads may append)."""
        queue = self._queue
        return [queue.popleft() for _ in range(count)]

    # ------------------------------------------------------------------ worker thread
    def _write_leftovers(self) -> None:
        """After the last drain: records queued meanwhile, written here."""
        if self._queue:
            self._write_now(self._take(len(self._queue)))

    def _write_now(self, items: list[Wire]) -> None:
        if not self._try(items):
            self._failed.append(items)
            self._spill_all()

    def _try(self, items: list[Wire]) -> bool:
        """Build and write queued items here (the thread writer; after stop)."""
        return self._try_batch(self.builder.build(decode(items)))

    def _try_batch(self, batch: Batch) -> bool:
        try:
            self.store.write_batch(*batch)
        except Exception as exc:
            self._failed_write(repr(exc), len(batch[0]) + len(batch[1]))
            return False
        self.written += _size(batch)
        return True

    def _failed_write(self, error: str, records: int) -> None:
        self.log.error(
            "usage/audit write failed; will retry", error=redact_text(error), records=records
        )

    # ------------------------------------------------------------------ spill file
    def _spill_all(self) -> None:
        waiting = list(self._failed)
        self._failed.clear()
        if self._queue:
            waiting.append(self._take(len(self._queue)))
        if not waiting:
            return
        batches = [self.builder.build(decode(items)) for items in waiting]  # redacted here
        records = sum(_size(batch) for batch in batches)
        if self.spill is None:
            self.log.error(
                "usage/audit records lost: the store cannot be written and no spill file is set",
                records=records,
            )
            return
        self.spill.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.spill):
            fd = os.open(self.spill, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                for usage, audit in batches:
                    line = {
                        "usage": [asdict(u) for u in usage],
                        "audit": [asdict(a) for a in audit],
                    }
                    out.write(json.dumps(line) + "\n")
                out.flush()
                os.fsync(out.fileno())
        self.spilled += records
        self.log.error(
            "usage/audit records spilled to a file; they are written when the store works again",
            path=str(self.spill),
            records=records,
        )

    def _replay_spill(self) -> bool:
        """Write the spill file to the store; True when nothing is left in it."""
        if self.spill is None or not self.spill.exists():
            return True
        with _locked(self.spill):
            if not self.spill.exists():  # another process sharing the directory wrote it
                return True
            text = self.spill.read_text("utf-8")
            lines = [line for line in text.splitlines() if line.strip()]
            for done, line in enumerate(lines):
                data = json.loads(line)
                batch = (
                    [UsageRecord(**u) for u in data["usage"]],
                    [AuditEntry(**a) for a in data["audit"]],
                )
                if not self._try_batch(batch):  # keep what is left for the next attempt
                    rest = "".join(f"{rest}\n" for rest in lines[done:])
                    self.spill.write_text(rest, "utf-8")
                    return False
            self.spill.unlink()
        self.log.info("spilled usage/audit records written", batches=len(lines))
        return True


def _size(batch: Batch) -> int:
    usage, audit = batch
    return len(usage) + sum(entry.event != "request" for entry in audit)


@contextlib.contextmanager
def _locked(spill: Path) -> Iterator[None]:
    """An exclusive lock on ``<spill>.lock`` (never deleted, unlike the spill file, so
    every process locks the same file)."""
    try:
        import fcntl
    except ImportError:  # Windows: one gateway per state directory
        yield
        return
    fd = os.open(spill.with_name(spill.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
