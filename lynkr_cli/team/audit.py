"""The audit log's hash chain: how a record is sealed, and how the chain is verified.

Bodies are redacted before they get here (:mod:`lynkr_cli.team.redact`).

**The chain.** Each stored row carries ``seq`` (1, 2, 3, … with no gaps), ``prev_hash``
(the previous row's ``hash``; the genesis value is 64 zeros) and
``hash = SHA-256(prev_hash + "\\n" + canonical(row))`` in lowercase hex, where
``canonical(row)`` is the UTF-8 JSON of every column except ``hash`` itself
(``seq``, ``prev_hash`` and the :class:`~lynkr_cli.team.store.AuditEntry` fields),
keys sorted, no whitespace, strings unescaped beyond JSON's minimum: RFC 8785 (JCS)
for an object whose values are only strings, integers and null. No floats are
hashed (times are RFC 3339 text, costs integer nano-USD), so any backend or language
reproduces the bytes exactly.

**Pruning.** Retention deletes the oldest rows and records the last deleted row's
``seq`` and ``hash`` as the anchor, so the first remaining row still links to
something known. **Verification** walks the rows in ``seq`` order from the anchor and
reports the first row whose hash does not match its content (edited) or whose
``seq``/``prev_hash`` does not follow the row before (deleted or reordered).
Removing rows from the *end* cannot be seen from the chain alone: keep the head hash
that ``lynkr audit verify`` prints somewhere else and compare (``--expect-head``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson

from lynkr_cli.team.store import AuditEntry

GENESIS = "0" * 64


def canonical(row: Mapping[str, Any]) -> bytes:
    """JCS bytes of ``row`` (values must be str, int or None).

    orjson with sorted keys writes exactly ``json.dumps(row, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`` for such values, ten times faster
    (a test pins the two to each other and to a known hash).
    """
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    fields = {k: v for k, v in row.items() if k != "hash"}
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(fields)).hexdigest()


ENTRY_FIELDS = tuple(AuditEntry.__dataclass_fields__)
_entry_values = attrgetter(*ENTRY_FIELDS)


def seal(entry: AuditEntry, seq: int, prev_hash: str) -> dict[str, Any]:
    """The row to store: the entry's fields plus ``seq``, ``prev_hash`` and ``hash``."""
    values = sealed_values(entry, seq, prev_hash)
    return {"seq": seq, **dict(zip(ENTRY_FIELDS, values[1:-2], strict=True)),
            "prev_hash": prev_hash, "hash": values[-1]}  # fmt: skip


def sealed_values(entry: AuditEntry, seq: int, prev_hash: str) -> tuple[Any, ...]:
    """:func:`seal`'s row as a tuple: ``seq``, the entry's fields in order, ``prev_hash``,
    ``hash`` (the order of the stores' ``AUDIT_COLUMNS``); no dict per field on the way."""
    values = _entry_values(entry)
    row = dict(zip(ENTRY_FIELDS, values, strict=True))
    row["seq"] = seq
    row["prev_hash"] = prev_hash
    digest = hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()
    return (seq, *values, prev_hash, digest)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "broken_seq": self.broken_seq,
            "problem": self.problem,
        }


def verify(rows: Iterable[Mapping[str, Any]], anchor: tuple[int, str]) -> Verdict:
    """Walk ``rows`` (in ``seq`` order) from ``anchor``; stop at the first broken link."""
    seq, prev = anchor
    count = 0
    for row in rows:
        problem = _link_problem(row, seq, prev)
        if problem:
            return Verdict(False, count, seq, prev, row["seq"], problem)
        if row_hash(prev, row) != row["hash"]:
            return Verdict(
                False,
                count,
                seq,
                prev,
                row["seq"],
                f"row {row['seq']} was changed after it was written: its content "
                "no longer matches its hash",
            )
        seq, prev = row["seq"], row["hash"]
        count += 1
    return Verdict(True, count, seq, prev)


def _link_problem(row: Mapping[str, Any], seq: int, prev: str) -> str:
    got = row["seq"]
    where = f"row {got} does not follow row {seq}" if seq else f"row {got} is not the first row"
    if got > seq + 1:
        gone = f"row {seq + 1}" if got == seq + 2 else f"rows {seq + 1} to {got - 1}"
        return f"{where}: {gone} {'is' if got == seq + 2 else 'are'} missing (deleted)"
    if got != seq + 1:
        return f"{where}: the sequence goes backwards (rows reordered or renumbered)"
    if row["prev_hash"] != prev:
        return f"{where}: its prev_hash is not row {seq}'s hash (a row was replaced)"
    return ""


def detail_json(data: Mapping[str, Any] | None) -> str:
    """Canonical JSON text for an entry's ``detail`` (empty when there is none)."""
    if not data:
        return ""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """JSON lines for ``audit tail``/``export``: ``detail`` decoded back into an object."""
    for row in rows:
        out = dict(row)
        if out.get("detail"):
            try:
                out["detail"] = json.loads(out["detail"])
            except ValueError:
                pass
        yield json.dumps(out, ensure_ascii=False)
