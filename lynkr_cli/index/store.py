"""The index database: schema, writes in one transaction, and the lookups.

A new database gets its schema from :data:`MIGRATIONS` through
:func:`lynkr_cli.db.migrate`, which records the version in ``user_version``. The
index is a cache of the repository, so an existing database at any other version
is rebuilt from scratch rather than migrated (see ``build.py``).

References are resolved to definitions at query time (``links.py``), so an edit
elsewhere never leaves a stale link.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lynkr_cli import db

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    lang TEXT,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT,
    skip TEXT,
    problem TEXT
);
CREATE TABLE IF NOT EXISTS symbols (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    scope TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refs (
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    file_id INTEGER NOT NULL,
    module TEXT NOT NULL,
    line INTEGER NOT NULL,
    target TEXT
);
CREATE TABLE IF NOT EXISTS skips (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS names_fts USING fts5(name UNINDEXED, words);
"""

# v2: distinct names get their own table, and the FTS index points into it, so an
# incremental run updates only the names it touched.
SCHEMA_V2 = """
DROP TABLE IF EXISTS names_fts;
CREATE TABLE IF NOT EXISTS names (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, words TEXT NOT NULL
);
CREATE VIRTUAL TABLE names_fts USING fts5(words, content='names', content_rowid='id');
"""

# v3: what a reference is called on (``receiver.name()``) and where it sits, and the
# names each import binds: references resolve only through a known receiver (links.py).
# v4: the problems of the last build, so `stats` reports what the build reported, and
# each file's count of resolved references (kept per file, so an edit recounts few).
SCHEMA_V3 = """
ALTER TABLE refs ADD COLUMN receiver TEXT NOT NULL DEFAULT '';
ALTER TABLE refs ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE imports ADD COLUMN names TEXT NOT NULL DEFAULT '';
"""
SCHEMA_V4 = """
CREATE TABLE IF NOT EXISTS problems (path TEXT PRIMARY KEY, reason TEXT NOT NULL);
ALTER TABLE files ADD COLUMN resolved INTEGER NOT NULL DEFAULT 0;
"""

# Applied in order by lynkr_cli.db.migrate to a new database. An existing index at
# another version is not migrated but rebuilt: it is a cache of the repository.
MIGRATIONS: tuple[str, ...] = (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4)
SCHEMA_VERSION = len(MIGRATIONS)

# Created after bulk loading: building an index once is cheaper than maintaining it.
INDEXES = """
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE INDEX IF NOT EXISTS refs_file ON refs(file_id);
CREATE INDEX IF NOT EXISTS refs_name ON refs(name);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
"""

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> str:
    """``parseHTTPRequest_v2`` -> ``parsehttprequest_v2 parse http request v 2``."""
    return " ".join([name.lower(), *word_list(name)])


def word_list(name: str) -> list[str]:
    """``parseHTTPRequest_v2`` -> ``["parse", "http", "request", "v", "2"]``."""
    return [w.lower() for w in _WORD.findall(name)]


def open_db(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    conn = db.connect(path, readonly=readonly)
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Every migration, in order, through :func:`lynkr_cli.db.migrate` (sets user_version)."""
    db.migrate(conn, MIGRATIONS)


def create_indexes(conn: sqlite3.Connection) -> None:
    for statement in db.statements(INDEXES):
        conn.execute(statement)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def get_meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


def set_meta(conn: sqlite3.Connection, items: dict[str, str]) -> None:
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        list(items.items()),
    )


def file_rows(conn: sqlite3.Connection) -> dict[str, tuple[int, int, int, str, str]]:
    """path -> (id, size, mtime_ns, hash, skip) for every stored file."""
    return {
        row[0]: (row[1], row[2], row[3], row[4] or "", row[5] or "")
        for row in conn.execute("SELECT path, id, size, mtime_ns, hash, skip FROM files")
    }


def delete_files(conn: sqlite3.Connection, ids: Iterable[int]) -> set[str]:
    """Delete files and everything they hold; return the symbol names they defined."""
    rows = [(i,) for i in ids]
    if not rows:
        return set()
    names = {
        row[0]
        for file_id in rows
        for row in conn.execute("SELECT name FROM symbols WHERE file_id = ?", file_id)
    }
    for table, column in (("symbols", "file_id"), ("refs", "file_id"), ("imports", "file_id")):
        conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", rows)
    conn.executemany("DELETE FROM files WHERE id = ?", rows)
    return names


def rebuild_fts(conn: sqlite3.Connection) -> None:
    """Fill ``names`` and its FTS index from scratch (after a cold build)."""
    conn.execute("DELETE FROM names")
    names = [row[0] for row in conn.execute("SELECT DISTINCT name FROM symbols")]
    conn.executemany(
        "INSERT INTO names (name, words) VALUES (?, ?)", [(n, words(n)) for n in names]
    )
    conn.execute("INSERT INTO names_fts (names_fts) VALUES ('rebuild')")


def update_fts(conn: sqlite3.Connection, touched: set[str]) -> None:
    """Add names that appeared and remove names that vanished, among ``touched``."""
    for name in touched:
        present = conn.execute("SELECT 1 FROM symbols WHERE name = ? LIMIT 1", (name,)).fetchone()
        stored = conn.execute("SELECT id, words FROM names WHERE name = ?", (name,)).fetchone()
        if present and not stored:
            cursor = conn.execute(
                "INSERT INTO names (name, words) VALUES (?, ?)", (name, words(name))
            )
            conn.execute(
                "INSERT INTO names_fts (rowid, words) VALUES (?, ?)",
                (cursor.lastrowid, words(name)),
            )
        elif stored and not present:
            conn.execute(
                "INSERT INTO names_fts (names_fts, rowid, words) VALUES ('delete', ?, ?)",
                (stored[0], stored[1]),
            )
            conn.execute("DELETE FROM names WHERE id = ?", (stored[0],))


# --------------------------------------------------------------------------- reads

SYMBOL_COLUMNS = "s.name, s.kind, f.path, s.line, s.col, s.end_line, s.scope, s.signature, f.lang"


def symbol_dict(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    keys = ("name", "kind", "path", "line", "column", "end_line", "scope", "signature", "lang")
    return dict(zip(keys, tuple(row), strict=False))


def find_defs(conn: sqlite3.Connection, name: str, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ? ORDER BY f.path, s.line LIMIT ?",
        (name, limit),
    )
    return [symbol_dict(r) for r in rows]


def find_refs(conn: sqlite3.Connection, name: str, limit: int) -> list[dict[str, Any]]:
    """Where ``name`` is used; ``definition`` is set when the code says which one it is
    (``links.py``), ``receiver`` is what it is called on (``"json"`` in ``json.dumps()``)."""
    from lynkr_cli.index.links import Links

    rows = conn.execute(
        "SELECT r.name, r.kind, f.path, r.line, r.col, f.lang, r.file_id, r.receiver, r.scope "
        "FROM refs r JOIN files f ON f.id = r.file_id WHERE r.name = ? "
        "ORDER BY f.path, r.line, r.col LIMIT ?",
        (name, limit),
    ).fetchall()
    links = Links.load(conn) if rows else None
    keys = ("name", "kind", "path", "line", "column", "lang")
    out = []
    for row in rows:
        item: dict[str, Any] = dict(zip(keys, tuple(row[:6]), strict=True))
        item["receiver"] = row[7]
        target = links.target(row[6], name, row[7], row[8]) if links else None
        where = links.where(target) if links and target is not None else None
        item["definition"] = {"path": where[0], "line": where[1]} if where else None
        out.append(item)
    return out


def fts_query(text: str) -> str:
    """Every word of ``text`` as a quoted prefix term: safe against FTS5 syntax."""
    terms = [w for w in words(text).split()[1:] or [text.lower()] if w]
    return " ".join(f'"{t.replace(chr(34), "")}"*' for t in terms)


def problems(conn: sqlite3.Connection) -> dict[str, str]:
    """path -> what went wrong, as the last build found it."""
    return dict(conn.execute("SELECT path, reason FROM problems ORDER BY path"))


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts, the language mix and skips, as JSON-ready data."""

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    languages = {
        row[0] or "other": {"files": row[1], "bytes": row[2]}
        for row in conn.execute(
            "SELECT lang, count(*), sum(size) FROM files WHERE skip IS NULL "
            "GROUP BY lang ORDER BY sum(size) DESC"
        )
    }
    skipped: dict[str, int] = {}
    for reason, count in conn.execute(
        "SELECT skip, count(*) FROM files WHERE skip IS NOT NULL GROUP BY skip"
    ):
        skipped[reason] = skipped.get(reason, 0) + count
    for reason, count in conn.execute("SELECT reason, count(*) FROM skips GROUP BY reason"):
        skipped[reason] = skipped.get(reason, 0) + count
    return {
        "files": one("SELECT count(*) FROM files WHERE skip IS NULL"),
        "symbols": one("SELECT count(*) FROM symbols"),
        "references": one("SELECT count(*) FROM refs"),
        "resolved_references": one("SELECT coalesce(sum(resolved), 0) FROM files"),
        "imports": one("SELECT count(*) FROM imports"),
        "resolved_imports": one("SELECT count(*) FROM imports WHERE target IS NOT NULL"),
        "languages": languages,
        "skipped": dict(sorted(skipped.items())),
        "problems": one("SELECT count(*) FROM problems"),
        "problem_files": problems(conn),
    }
