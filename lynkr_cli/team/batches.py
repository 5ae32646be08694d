"""What the usage/audit writer writes: queued items turned into one store batch.

A :class:`Pending` item is an answered request (its :class:`UsageRecord`, and in full
audit mode the two bodies) or an audit event without a request. :class:`BatchBuilder`
turns a list of them into the usage rows and audit entries of one
``Store.write_batch`` call, redacting stored error text and (full mode) bodies first.
It runs wherever the batch is written: the recorder's worker thread, or the writer
process (:mod:`lynkr_cli.team.writer`). The recorder queues items as plain tuples
(:data:`Wire`: a usage record's fields in order, or an audit entry's) and sends them
as they are, so the gateway builds no object per record and pickles none;
:func:`decode` makes the objects where the batch is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from lynkr_cli.team.audit import detail_json
from lynkr_cli.team.redact import Redactor, redact_error
from lynkr_cli.team.store import AuditEntry
from lynkr_cli.team.times import rfc3339_micro
from lynkr_cli.team.types import AuditMode, UsageRecord

Batch = tuple[list[UsageRecord], list[AuditEntry]]
# What a request's audit entry copies from its usage record, in the entry's field order
# (between ``event`` and ``detail``), read in one call.
_FROM_USAGE = tuple(AuditEntry.__dataclass_fields__)[2:-1]
_shared = attrgetter(*_FROM_USAGE)
# A UsageRecord's fields in order, and an AuditEntry's: as the queue and the wire hold them.
usage_fields: Any = attrgetter(*UsageRecord.__dataclass_fields__)
entry_fields: Any = attrgetter(*AuditEntry.__dataclass_fields__)
UsageRow = tuple[
    str, float, str, str, str, str, str, int, int, int, int, int, int, float,
    float | None, bool, bool, int, str, dict[str, int], str,
]  # fmt: skip

# One item on the wire: (usage fields | None, entry fields | None, request, response).
Wire = tuple[UsageRow | None, tuple[Any, ...] | None, Any, Any]


@dataclass(slots=True)
class Pending:
    usage: UsageRecord | None
    entry: AuditEntry | None = None  # an event without a request (auth failure, …)
    request: Any = None
    response: Any = None


def decode(wire: Sequence[Wire]) -> list[Pending]:
    """Queued tuples as objects; latency and time to first byte rounded to 0.01 ms (the
    gateway leaves that to the writer: ``round`` is not free)."""
    return [
        Pending(
            None if usage is None else _usage_record(usage),
            None if entry is None else AuditEntry(*entry),
            request,
            response,
        )
        for usage, entry, request, response in wire
    ]


def _usage_record(row: UsageRow) -> UsageRecord:
    record = UsageRecord(*row)
    record.latency_ms = round(record.latency_ms, 2)
    if record.ttfb_ms is not None:
        record.ttfb_ms = round(record.ttfb_ms, 2)
    return record


class BatchBuilder:
    """Turns queued items into one ``write_batch``'s rows, redacted."""

    def __init__(self, audit: AuditMode, redactor: Redactor) -> None:
        self.audit = audit
        self.redactor = redactor

    def build(self, items: Sequence[Pending]) -> Batch:
        usage = [item.usage for item in items if item.usage is not None]
        for rec in usage:
            if rec.error:
                rec.error = redact_error(rec.error, self.redactor.known)
        audit: list[AuditEntry] = []
        if self.audit != "off":
            for item in items:
                entry = item.entry if item.entry is not None else self._entry(item)
                if entry is not None:
                    audit.append(entry)
        return usage, audit

    def _entry(self, item: Pending) -> AuditEntry | None:
        rec = item.usage
        if rec is None:
            return None
        detail: dict[str, Any] = {}
        if rec.error:
            detail["error"] = rec.error  # redacted by build
        if self.audit == "full":
            detail["request"] = self.redactor.body(item.request)
            detail["response"] = self.redactor.body(item.response)
        fields = (rfc3339_micro(rec.ts), "request", *_shared(rec), detail_json(detail))
        return AuditEntry(*fields)
