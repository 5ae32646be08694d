"""Rows as every SQL ``Store`` writes and reads them (SQLite and PostgreSQL alike).

Values in, values out, and the WHERE clauses of the listings; each backend passes its
own placeholder (``?`` or ``%s``) and its own glob operator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lynkr_cli.team.store import AuditFilter, UsageQuery, UsageTotal
from lynkr_cli.team.types import KeyRecord, Limits, UsageRecord


def key_record(row: Mapping[str, Any]) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        models=tuple(json.loads(row["models"])),
        tools=row["tools"],
        limits=Limits.from_dict(json.loads(row["limits"])),
        note=row["note"],
        guard=row["guard"],
        previous_hash=row["previous_hash"],
        previous_until=row["previous_until"],
        last_used_at=row["last_used_at"],
    )


def key_values(key: KeyRecord) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "secret_hash": key.secret_hash,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "models": json.dumps(list(key.models)),
        "tools": key.tools,
        "limits": json.dumps(key.limits.as_dict(), sort_keys=True),
        "note": key.note,
        "guard": key.guard,
        "previous_hash": key.previous_hash,
        "previous_until": key.previous_until,
    }


def usage_values(rec: UsageRecord) -> tuple[Any, ...]:
    return (
        rec.ts,
        rec.request_id,
        rec.key_id,
        rec.key_name,
        rec.client_model,
        rec.provider,
        rec.upstream_model,
        rec.input_tokens,
        rec.output_tokens,
        rec.cache_creation_tokens,
        rec.cache_read_tokens,
        rec.cost_nano,
        rec.status,
        rec.latency_ms,
        rec.ttfb_ms,
        int(rec.streamed),
        int(rec.cache_hit),
        rec.tool_rounds,
        rec.route,
        json.dumps(rec.guard_findings, sort_keys=True) if rec.guard_findings else "{}",
        rec.error,
    )


def usage_record(row: Mapping[str, Any]) -> UsageRecord:
    """A stored usage row back as the record it was written from."""
    findings = row["guard_findings"]
    return UsageRecord(
        request_id=row["request_id"],
        ts=row["ts"],
        key_id=row["key_id"],
        key_name=row["key_name"],
        client_model=row["client_model"],
        provider=row["provider"],
        upstream_model=row["upstream_model"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cache_creation_tokens=row["cache_creation_tokens"],
        cache_read_tokens=row["cache_read_tokens"],
        cost_nano=row["cost_nano"],
        status=row["status"],
        latency_ms=row["latency_ms"],
        ttfb_ms=row["ttfb_ms"],
        streamed=bool(row["streamed"]),
        cache_hit=bool(row["cache_hit"]),
        tool_rounds=row["tool_rounds"],
        route=row["route"],
        guard_findings=json.loads(findings) if findings and findings != "{}" else {},
        error=row["error"],
    )


def last_used(usage: Sequence[UsageRecord]) -> list[tuple[float, str, float]]:
    """``(ts, key_id, ts)`` per key for the ``last_used_at`` update, in key order (so two
    writers lock the same rows in the same order)."""
    latest: dict[str, float] = {}
    for rec in usage:
        if rec.key_id and rec.ts > latest.get(rec.key_id, 0.0):
            latest[rec.key_id] = rec.ts
    return [(ts, key_id, ts) for key_id, ts in sorted(latest.items())]


def usage_where(query: UsageQuery, ph: str = "?") -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.since is not None:
        clauses.append(f"ts >= {ph}")
        params.append(query.since)
    if query.until is not None:
        clauses.append(f"ts < {ph}")
        params.append(query.until)
    if query.key_ids:
        clauses.append(f"key_id IN ({', '.join([ph] * len(query.key_ids))})")
        params.extend(query.key_ids)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def usage_total(row: tuple[Any, ...], group: str) -> UsageTotal:
    n = [int(v or 0) for v in row[1:8]]
    total = UsageTotal(
        str(row[0] if row[0] is not None else ""), n[0], n[1], n[2], n[3], n[4], n[5], n[6]
    )
    if group == "key":
        total.extra["key_name"] = row[8] or ""
    return total


def audit_where(
    flt: AuditFilter,
    ph: str = "?",
    glob_op: str = "GLOB",
    glob: Callable[[str], str] = str,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.key:
        clauses.append(f"(key_id = {ph} OR key_name = {ph})")
        params.extend([flt.key, flt.key])
    if flt.model:
        clauses.append(f"(client_model {glob_op} {ph} OR upstream_model {glob_op} {ph})")
        params.extend([glob(flt.model), glob(flt.model)])
    if flt.status is not None:
        clauses.append(f"status = {ph}")
        params.append(flt.status)
    if flt.event:
        clauses.append(f"event {glob_op} {ph}")
        params.append(glob(flt.event))
    if flt.since:
        clauses.append(f"ts >= {ph}")
        params.append(flt.since)
    if flt.until:
        clauses.append(f"ts < {ph}")
        params.append(flt.until)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def glob_regex(glob: str) -> str:
    """SQLite's case-sensitive GLOB (``*``, ``?``, ``[...]``, ``[^...]``) as an anchored
    POSIX regular expression for PostgreSQL's ``~``."""
    out = ["^"]
    i = 0
    while i < len(glob):
        char = glob[i]
        end = glob.find("]", i + 2) if char == "[" else -1
        if end > 0 and "[" in glob[i + 1 : end]:
            end = -1  # [[:alpha:]] and the like: SQLite has no classes, a literal "["
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif end > 0:
            body = glob[i + 1 : end]
            negate = body[:1] in ("^", "!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + "$"
