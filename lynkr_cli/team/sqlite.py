"""The SQLite ``Store``: the team gateway's keys, usage and audit in the shared ``lynkr.db``.

All of the team gateway's SQL lives here. Each thread gets its own connection (WAL:
readers never wait for the writer); writes are ``BEGIN IMMEDIATE`` transactions, which
also serialise audit appends across processes (the gateway and ``lynkr keys``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from lynkr_cli import db
from lynkr_cli.errors import UsageError
from lynkr_cli.team.audit import GENESIS, detail_json, sealed_values
from lynkr_cli.team.rows import (
    audit_where,
    key_record,
    key_values,
    last_used,
    usage_record,
    usage_total,
    usage_values,
    usage_where,
)
from lynkr_cli.team.sqlite_schema import (
    AUDIT_COLUMNS,
    COMPONENT,
    GROUPS,
    INSERT_AUDIT,
    INSERT_USAGE,
    MIGRATIONS,
    TOTALS,
    USAGE_COLUMNS,
)
from lynkr_cli.team.store import AuditEntry, AuditFilter, UsageQuery, UsageTotal
from lynkr_cli.team.types import KeyRecord, UsageRecord


class SqliteStore:
    """Keys, usage and audit in one SQLite file (default: the shared ``lynkr.db``)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        if not readonly:
            conn = self._conn()  # migrate once, on the opening thread
            db.migrate_component(conn, COMPONENT, MIGRATIONS)
            _private(path)

    @classmethod
    def inspect(cls, path: Path) -> SqliteStore | None:
        """The store read-only, or None when the file or the team tables do not exist
        (for ``lynkr doctor``, which must not create or migrate anything)."""
        if not path.exists():
            return None
        store = cls(path, readonly=True)
        found = store._conn().execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'team_keys'"
        )
        return store if found.fetchone() else None

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.path, readonly=self.readonly)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection (others close with their threads or the process)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._lock:
                self._all.remove(conn)
            conn.close()

    # ------------------------------------------------------------------ keys
    def keys_version(self) -> int:
        row = self._conn().execute("SELECT value FROM team_meta WHERE name = 'keys_version'")
        return int(row.fetchone()[0])

    def list_keys(self) -> list[KeyRecord]:
        rows = self._conn().execute("SELECT * FROM team_keys ORDER BY created_at, id")
        return [key_record(row) for row in rows]

    def find_keys(self, ident: str) -> list[KeyRecord]:
        """Keys whose id or name is ``ident``, or whose shown prefix starts with it."""
        like = ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._conn().execute(
            "SELECT * FROM team_keys WHERE id = ? OR name = ? "
            "OR (length(?) >= 6 AND prefix LIKE ? ESCAPE '\\') ORDER BY created_at DESC",
            (ident, ident, ident, like),
        )
        return [key_record(row) for row in rows]

    def save_key(self, key: KeyRecord, audit: AuditEntry | None, *, new: bool) -> None:
        conn = self._conn()
        values = key_values(key)
        try:
            with db.transaction(conn):
                if new:
                    conn.execute(
                        f"INSERT INTO team_keys ({', '.join(values)}) "
                        f"VALUES ({', '.join('?' * len(values))})",
                        tuple(values.values()),
                    )
                else:
                    sets = ", ".join(f"{name} = ?" for name in values if name != "id")
                    params = [v for name, v in values.items() if name != "id"]
                    conn.execute(f"UPDATE team_keys SET {sets} WHERE id = ?", (*params, key.id))
                conn.execute("UPDATE team_meta SET value = value + 1 WHERE name = 'keys_version'")
                if audit is not None:
                    self._append(conn, [audit])
        except sqlite3.IntegrityError as exc:
            if "name" in str(exc):
                raise UsageError(
                    f"a live key named '{key.name}' already exists",
                    hint=f"Pick another name, or rotate it: lynkr keys rotate {key.name}",
                ) from None
            raise

    # ------------------------------------------------------------------ usage + audit
    def write_batch(self, usage: Sequence[UsageRecord], audit: Sequence[AuditEntry] = ()) -> None:
        conn = self._conn()
        with db.transaction(conn):
            _insert(conn, INSERT_USAGE, len(USAGE_COLUMNS), [usage_values(r) for r in usage])
            conn.executemany(
                "UPDATE team_keys SET last_used_at = ? WHERE id = ? "
                "AND (last_used_at IS NULL OR last_used_at < ?)",
                last_used(usage),
            )
            if audit:
                self._append(conn, audit)

    def usage_totals(self, query: UsageQuery) -> list[UsageTotal]:
        group = GROUPS[query.group]
        where, params = usage_where(query)
        rows = self._conn().execute(
            f"SELECT {group} AS g, {TOTALS} FROM team_usage {where} GROUP BY g ORDER BY g",
            params,
        )
        return [usage_total(tuple(row), query.group) for row in rows]

    def usage_sums(self, since: float) -> dict[str, tuple[int, int]]:
        rows = self._conn().execute(
            "SELECT key_id, SUM(input_tokens + output_tokens + cache_creation_tokens "
            "+ cache_read_tokens), SUM(cost_nano) FROM team_usage WHERE ts >= ? "
            "AND key_id != '' GROUP BY key_id",
            (since,),
        )
        return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}

    def export_usage(self) -> Iterator[UsageRecord]:
        """Every usage record in write order (``lynkr db copy``)."""
        cursor = self._conn().execute(
            f"SELECT {', '.join(USAGE_COLUMNS)} FROM team_usage ORDER BY id"
        )
        for row in cursor:
            yield usage_record(row)

    # ------------------------------------------------------------------ audit
    def _append(self, conn: sqlite3.Connection, entries: Sequence[AuditEntry]) -> None:
        seq, prev = self._head(conn)
        rows = []
        for entry in entries:
            seq += 1
            row = sealed_values(entry, seq, prev)
            prev = row[-1]
            rows.append(row)
        _insert(conn, INSERT_AUDIT, len(AUDIT_COLUMNS), rows)

    def _head(self, conn: sqlite3.Connection) -> tuple[int, str]:
        row = conn.execute("SELECT seq, hash FROM team_audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else self._anchor(conn)

    @staticmethod
    def _anchor(conn: sqlite3.Connection) -> tuple[int, str]:
        row = conn.execute("SELECT seq, hash FROM team_audit_anchor WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def audit_anchor(self) -> tuple[int, str]:
        return self._anchor(self._conn())

    def audit_chain(self) -> Iterator[dict[str, Any]]:
        cursor = self._conn().execute(
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM team_audit ORDER BY seq"
        )
        for row in cursor:
            yield dict(row)

    def audit_rows(self, flt: AuditFilter, *, last: int | None = None) -> Iterator[dict[str, Any]]:
        where, params = audit_where(flt)
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM team_audit {where}"
        if last is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
            params.append(last)
        else:
            sql += " ORDER BY seq"
        for row in self._conn().execute(sql, params):
            yield dict(row)

    def prune_audit(self, before: str, entry: AuditEntry) -> int:
        """Delete rows older than ``before`` (RFC 3339), anchor the chain, log the prune."""
        conn = self._conn()
        with db.transaction(conn):
            row = conn.execute(
                "SELECT seq, hash FROM team_audit WHERE seq = "
                "(SELECT MAX(seq) FROM team_audit WHERE ts < ?)",
                (before,),
            ).fetchone()
            if row is None:
                return 0
            deleted = conn.execute("DELETE FROM team_audit WHERE seq <= ?", (row[0],)).rowcount
            conn.execute(
                "INSERT INTO team_audit_anchor (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (row[0], row[1]),
            )
            entry.detail = detail_json(
                {"before": before, "deleted": deleted, "through_seq": row[0]}
            )
            self._append(conn, [entry])
        return int(deleted)


def _private(path: Path) -> None:
    """The file holds key hashes and audit bodies: owner-only, WAL files included."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        try:
            path.with_name(name).chmod(0o600)
        except OSError:
            pass


MAX_ROWS_PER_INSERT = 200


def _insert(
    conn: sqlite3.Connection, head: str, width: int, rows: Sequence[tuple[Any, ...]]
) -> None:
    """``rows`` as a few multi-row ``INSERT … VALUES (…), (…)`` statements.

    ``executemany`` steps the statement once per row, and the sqlite3 module lets go
    of the GIL around every step: with the event loop busy on the other thread, each
    of those is a GIL hand-off (two futex calls and a context switch on each side),
    which cost the gateway more CPU than the inserts themselves. One statement per
    chunk steps once.
    """
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(MAX_ROWS_PER_INSERT, limit // width))
    one = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        sql = head + ", ".join([one] * len(chunk))
        conn.execute(sql, [value for row in chunk for value in row])
