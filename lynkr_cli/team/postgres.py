"""The PostgreSQL ``Store``: keys, usage and audit shared by several gateway instances.

psycopg 3, synchronous, one connection per thread: the gateway calls a ``Store`` from
exactly two threads (the usage/audit writer and the key reader), like the SQLite store.
A connection that fails is dropped and the next call connects again, so when the
server comes back the very next write or key refresh succeeds (no reconnect backoff
to wait out). TCP keepalives and ``tcp_user_timeout`` make a silent network failure
an error within seconds instead of a hang.

**The audit chain across instances.** Every append runs in the writing transaction
under ``pg_advisory_xact_lock(lynkr, audit)``: the head (``seq``, ``hash``) is read
after the lock is taken (READ COMMITTED sees the previous holder's commit), the rows
are sealed with :func:`lynkr_cli.team.audit.seal` exactly as SQLite does, and the lock
is released by the commit. Two instances therefore never read the same head, and the
chain stays one chain. The lock is always the last one a transaction takes, so it
never waits while holding a key row.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lynkr_cli.dsn import shown_url
from lynkr_cli.errors import UsageError
from lynkr_cli.team.audit import GENESIS, sealed_values
from lynkr_cli.team.pgconn import connect, require_current, unavailable
from lynkr_cli.team.postgres_schema import (
    AUDIT_LOCK,
    GROUPS,
    KEY_COLUMNS,
    LOCK_NAMESPACE,
    SELECT_AUDIT,
    TOTALS,
)
from lynkr_cli.team.rows import (
    audit_where,
    glob_regex,
    key_record,
    key_values,
    last_used,
    usage_record,
    usage_total,
    usage_values,
    usage_where,
)
from lynkr_cli.team.sqlite_schema import AUDIT_COLUMNS, USAGE_COLUMNS
from lynkr_cli.team.store import AuditEntry, AuditFilter, UsageQuery, UsageTotal
from lynkr_cli.team.types import KeyRecord, UsageRecord

if TYPE_CHECKING:
    import psycopg

PAGE = 2000  # audit rows fetched per query while iterating (keyset pages, no open cursor)
_LOCK_AUDIT = f"SELECT pg_advisory_xact_lock({LOCK_NAMESPACE}, {AUDIT_LOCK})"
_COPY_USAGE = f"COPY team_usage ({', '.join(USAGE_COLUMNS)}) FROM STDIN"
_COPY_AUDIT = f"COPY team_audit ({', '.join(AUDIT_COLUMNS)}) FROM STDIN"


class PgStore:
    """Keys, usage and audit in PostgreSQL (``LYNKR_DATABASE_URL=postgresql://…``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = shown_url(url)
        self._local = threading.local()
        self._all: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    @classmethod
    def connect(cls, url: str, *, check_schema: bool = True) -> PgStore:
        """Open the store; the server must answer, and with ``check_schema`` be at this
        lynkr's schema version (a ConfigError naming ``lynkr db migrate`` otherwise)."""
        store = cls(url)
        with store.transaction() as conn:
            if check_schema:
                require_current(conn, store.shown)
        return store

    # ------------------------------------------------------------------ connections
    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.url)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self, conn: psycopg.Connection[Any]) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        try:
            conn.close()
        except Exception:
            pass

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction on this thread's connection; a lost connection is dropped and
        reported as :class:`~lynkr_cli.team.pgconn.StoreUnavailable`."""
        import psycopg

        conn = self._conn()
        try:
            with conn.transaction():
                yield conn
        except psycopg.OperationalError as exc:
            self._drop(conn)
            raise unavailable(self.url, exc) from None
        except BaseException:
            if conn.broken:
                self._drop(conn)
            raise

    def close(self) -> None:
        """Close this thread's connection (the next call on this thread opens another)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._drop(conn)

    def close_all(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    # ------------------------------------------------------------------ keys
    def keys_version(self) -> int:
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM team_meta WHERE name = 'keys_version'")
            return int(_one(row)[0])

    def list_keys(self) -> list[KeyRecord]:
        return self._keys("SELECT * FROM team_keys ORDER BY created_at, id", ())

    def find_keys(self, ident: str) -> list[KeyRecord]:
        """Keys whose id or name is ``ident``, or whose shown prefix starts with it."""
        sql = "SELECT * FROM team_keys WHERE id = %s OR name = %s"
        params: tuple[str, ...] = (ident, ident)
        if len(ident) >= 6:
            like = ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += " OR prefix LIKE %s ESCAPE '\\'"
            params = (*params, like)
        return self._keys(sql + " ORDER BY created_at DESC", params)

    def _keys(self, sql: str, params: Sequence[Any]) -> list[KeyRecord]:
        from psycopg.rows import dict_row

        with self.transaction() as conn, conn.cursor(row_factory=dict_row) as cur:
            return [key_record(row) for row in cur.execute(sql, params)]

    def save_key(self, key: KeyRecord, audit: AuditEntry | None, *, new: bool) -> None:
        import psycopg

        values = key_values(key)
        try:
            with self.transaction() as conn, conn.cursor() as cur:
                if new:
                    cur.execute(
                        f"INSERT INTO team_keys ({', '.join(KEY_COLUMNS)}) "
                        f"VALUES ({', '.join(['%s'] * len(KEY_COLUMNS))})",
                        tuple(values[c] for c in KEY_COLUMNS),
                    )
                else:
                    names = [c for c in KEY_COLUMNS if c != "id"]
                    cur.execute(
                        f"UPDATE team_keys SET {', '.join(f'{c} = %s' for c in names)} "
                        "WHERE id = %s",
                        (*(values[c] for c in names), key.id),
                    )
                cur.execute("UPDATE team_meta SET value = value + 1 WHERE name = 'keys_version'")
                if audit is not None:
                    _append(cur, [audit])
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "team_keys_live_name":
                raise UsageError(
                    f"a live key named '{key.name}' already exists",
                    hint=f"Pick another name, or rotate it: lynkr keys rotate {key.name}",
                ) from None
            raise

    # ------------------------------------------------------------------ usage + audit
    def write_batch(self, usage: Sequence[UsageRecord], audit: Sequence[AuditEntry] = ()) -> None:
        with self.transaction() as conn, conn.cursor() as cur:
            if usage:
                with cur.copy(_COPY_USAGE) as copy:
                    for rec in usage:
                        copy.write_row(usage_values(rec))
                cur.executemany(
                    "UPDATE team_keys SET last_used_at = %s WHERE id = %s "
                    "AND (last_used_at IS NULL OR last_used_at < %s)",
                    last_used(usage),
                )
            if audit:
                _append(cur, audit)

    def usage_totals(self, query: UsageQuery) -> list[UsageTotal]:
        where, params = usage_where(query, "%s")
        sql = (
            f"SELECT {GROUPS[query.group]} AS g, {TOTALS} FROM team_usage {where} "
            "GROUP BY g ORDER BY g"
        )
        with self.transaction() as conn:
            return [usage_total(tuple(row), query.group) for row in conn.execute(sql, params)]

    def usage_sums(self, since: float) -> dict[str, tuple[int, int]]:
        sql = (
            "SELECT key_id, SUM(input_tokens + output_tokens + cache_creation_tokens "
            "+ cache_read_tokens), SUM(cost_nano) FROM team_usage WHERE ts >= %s "
            "AND key_id != '' GROUP BY key_id"
        )
        with self.transaction() as conn:
            rows = conn.execute(sql, (since,)).fetchall()
        return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}

    # ------------------------------------------------------------------ audit
    def audit_anchor(self) -> tuple[int, str]:
        with self.transaction() as conn, conn.cursor() as cur:
            return _anchor(cur)

    def audit_chain(self) -> Iterator[dict[str, Any]]:
        return self._pages("", [])

    def audit_rows(self, flt: AuditFilter, *, last: int | None = None) -> Iterator[dict[str, Any]]:
        where, params = audit_where(flt, "%s", "~", glob_regex)
        if last is None:
            return self._pages(where, params)
        return self._last(where, params, last)

    def _pages(self, where: str, params: list[Any]) -> Iterator[dict[str, Any]]:
        """Rows in ``seq`` order, a page per query: no transaction stays open between
        pages, so a slow reader (an export piped to a slow disk) holds nothing."""
        after = -1
        glue = " AND " if where else " WHERE "
        while True:
            sql = f"{SELECT_AUDIT} {where}{glue}seq > %s ORDER BY seq LIMIT {PAGE}"
            rows = self._fetch(sql, [*params, after])
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1]["seq"]

    def _last(self, where: str, params: list[Any], last: int) -> Iterator[dict[str, Any]]:
        sql = f"SELECT * FROM ({SELECT_AUDIT} {where} ORDER BY seq DESC LIMIT %s) t ORDER BY seq"
        yield from self._fetch(sql, [*params, last])

    def _fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """Audit rows as dicts; a glob PostgreSQL cannot read is the caller's mistake."""
        import psycopg
        from psycopg.rows import dict_row

        try:
            with self.transaction() as conn, conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(sql, params).fetchall()
        except psycopg.errors.InvalidRegularExpression as exc:
            raise UsageError(
                f"invalid glob: {exc.diag.message_primary}",
                hint="Globs take * and ? (and [abc]), e.g. --model 'claude-sonnet-*'.",
            ) from None

    def export_usage(self) -> Iterator[UsageRecord]:
        """Every usage record in write order (``lynkr db copy``), a page per query."""
        after = 0
        sql = (
            f"SELECT id, {', '.join(USAGE_COLUMNS)} FROM team_usage WHERE id > %s "
            f"ORDER BY id LIMIT {PAGE}"
        )
        while True:
            with self.transaction() as conn:
                rows = conn.execute(sql, (after,)).fetchall()
            for row in rows:
                yield usage_record(dict(zip(USAGE_COLUMNS, row[1:], strict=True)))
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def prune_audit(self, before: str, entry: AuditEntry) -> int:
        """Delete rows older than ``before`` (RFC 3339), anchor the chain, log the prune."""
        from lynkr_cli.team.audit import detail_json

        with self.transaction() as conn, conn.cursor() as cur:
            cur.execute(_LOCK_AUDIT)
            row = cur.execute(
                "SELECT seq, hash FROM team_audit WHERE seq = "
                "(SELECT MAX(seq) FROM team_audit WHERE ts < %s)",
                (before,),
            ).fetchone()
            if row is None:
                return 0
            deleted = cur.execute("DELETE FROM team_audit WHERE seq <= %s", (row[0],)).rowcount
            cur.execute(
                "INSERT INTO team_audit_anchor (id, seq, hash) VALUES (1, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (row[0], row[1]),
            )
            entry.detail = detail_json(
                {"before": before, "deleted": deleted, "through_seq": row[0]}
            )
            _append(cur, [entry])
        return int(deleted)


def _append(cur: psycopg.Cursor[Any], entries: Sequence[AuditEntry]) -> None:
    """Seal ``entries`` onto the chain's head under the audit lock (see the module doc)."""
    cur.execute(_LOCK_AUDIT)
    row = cur.execute("SELECT seq, hash FROM team_audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(row[0]), str(row[1])) if row else _anchor(cur)
    with cur.copy(_COPY_AUDIT) as copy:
        for entry in entries:
            seq += 1
            sealed = sealed_values(entry, seq, prev)
            prev = sealed[-1]
            copy.write_row(sealed)


def _anchor(cur: psycopg.Cursor[Any]) -> tuple[int, str]:
    row = cur.execute("SELECT seq, hash FROM team_audit_anchor WHERE id = 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _one(cursor: Any) -> tuple[Any, ...]:
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the team tables are incomplete: run `lynkr db migrate`")
    return tuple(row)
