"""SQLite helpers: WAL, a busy timeout, foreign keys, and migrations.

A database owned by one feature (the index) versions itself with
``PRAGMA user_version``: :func:`migrate`. The shared ``lynkr.db`` holds tables
from several features, each migrating on its own; one ``user_version`` cannot
track them, so :func:`migrate_component` keeps a version per component in the
``lynkr_schema`` table, applying the same rule (each step once, in order, in one
transaction with its version bump).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lynkr_cli import paths

Migration = str | Callable[[sqlite3.Connection], None]
BUSY_TIMEOUT_MS = 5000


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path`` with WAL, a busy timeout and foreign keys on."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are always explicit (see transaction()).
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _apply(conn: sqlite3.Connection, step: Migration) -> None:
    if callable(step):
        step(conn)
    else:
        for statement in statements(step):
            conn.execute(statement)


def statements(script: str) -> Iterator[str]:
    # executescript() would COMMIT behind our back; split on complete statements instead.
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Bring a single-owner database up to ``len(migrations)``; return the new version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for version in range(current + 1, len(migrations) + 1):
        with transaction(conn):
            _apply(conn, migrations[version - 1])
            conn.execute(f"PRAGMA user_version = {version}")
    return max(current, len(migrations))


def migrate_component(
    conn: sqlite3.Connection, component: str, migrations: Sequence[Migration]
) -> int:
    """Like :func:`migrate`, for one component's tables in a shared database."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS lynkr_schema (component TEXT PRIMARY KEY, version INTEGER)"
    )
    row = conn.execute(
        "SELECT version FROM lynkr_schema WHERE component = ?", (component,)
    ).fetchone()
    current = int(row[0]) if row else 0
    for version in range(current + 1, len(migrations) + 1):
        with transaction(conn):
            _apply(conn, migrations[version - 1])
            conn.execute(
                "INSERT INTO lynkr_schema (component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (component, version),
            )
    return max(current, len(migrations))


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One explicit transaction: commit on success, roll back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def app_db(component: str, migrations: Sequence[Migration]) -> sqlite3.Connection:
    """The shared ``lynkr.db``, with ``component``'s tables migrated."""
    conn = connect(paths.app_db_path())
    migrate_component(conn, component, migrations)
    return conn
