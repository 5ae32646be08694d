"""SQLite helper, prompt cache, structured logs and console."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import console, db, logs
from lynkr_cli.cache import PromptCache, canonical_key
from lynkr_cli.settings import CacheSettings

MIGRATIONS = [
    "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    "ALTER TABLE a ADD COLUMN extra TEXT;\nCREATE INDEX a_name ON a(name);",
]


def test_connect_sets_pragmas(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "x" / "t.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS


def test_migrate_by_user_version(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "t.db")
    assert db.migrate(conn, MIGRATIONS[:1]) == 1
    conn.execute("INSERT INTO a (name) VALUES ('x')")
    assert db.migrate(conn, MIGRATIONS) == 2
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.migrate(conn, MIGRATIONS) == 2  # idempotent
    assert conn.execute("SELECT name, extra FROM a").fetchone()[:] == ("x", None)


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "t.db")
    bad = [*MIGRATIONS, "CREATE TABLE b (id INTEGER);\nTHIS IS NOT SQL;"]
    with pytest.raises(sqlite3.OperationalError):
        db.migrate(conn, bad)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "b" not in tables


def test_components_migrate_independently(lynkr_home: Path) -> None:
    one = db.app_db("one", ["CREATE TABLE one_t (x);"])
    two = db.app_db("two", ["CREATE TABLE two_t (x);", "CREATE TABLE two_u (y);"])
    rows = dict(two.execute("SELECT component, version FROM lynkr_schema").fetchall())
    assert rows == {"one": 1, "two": 2}
    one.close()
    two.close()
    assert (lynkr_home / "data" / "lynkr.db").exists()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "t.db")
    db.migrate(conn, MIGRATIONS)
    with pytest.raises(RuntimeError), db.transaction(conn):
        conn.execute("INSERT INTO a (name) VALUES ('gone')")
        raise RuntimeError
    assert conn.execute("SELECT count(*) FROM a").fetchone()[0] == 0


def _cache(tmp_path: Path, **kw: Any) -> PromptCache:
    return PromptCache(CacheSettings(directory=tmp_path / "c", **kw))


def test_cache_hit_miss_and_stats(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    key = canonical_key({"b": 1, "a": [1, 2]})
    assert key == canonical_key({"a": [1, 2], "b": 1})
    assert cache.get(key) is None
    cache.set(key, {"content": "hi"})
    assert cache.get(key) == {"content": "hi"}
    stats = cache.stats().as_dict()
    assert stats["entries"] == 1 and stats["hits"] == 1 and stats["misses"] == 1
    assert stats["hit_ratio"] == 0.5
    assert cache.clear() == 1
    assert cache.stats().entries == 0


def test_cache_ttl_expires(tmp_path: Path) -> None:
    cache = _cache(tmp_path, ttl_ms=50)
    cache.set("k", 1)
    deadline = time.monotonic() + 5
    while cache.get("k") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cache.get("k") is None


def test_cache_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = _cache(tmp_path, max_entries=3)
    for name in "abc":
        cache.set(name, name)
        time.sleep(0.01)
    assert cache.get("a") == "a"  # touch a: b is now the least recently used
    cache.set("d", "d")
    assert cache.get("b") is None
    assert {cache.get(k) for k in "acd"} == {"a", "c", "d"}


def test_cache_cli_stats_and_clear(invoke: Any, workdir: Path) -> None:
    result = invoke("cache", "stats", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["entries"] == 0
    result = invoke("cache", "clear", "--json")
    assert json.loads(result.stdout) == {"removed": 0}


def test_logs_are_json_lines_and_redacted() -> None:
    stream = io.StringIO()
    logs.configure("info", stream=stream)
    log = logs.get_logger("test")
    log.info(
        "request",
        api_key="sk-abcdefghijklmnop",
        headers={"authorization": "Bearer abcdefghijk", "x-app": "cli"},
        note="used key sk-zzzzzzzzzzzzzzzz today",
        status=200,
        input_tokens=12,
        access_token="abcdefghijklmnop",
    )
    log.debug("hidden")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "request" and record["level"] == "info"
    assert "timestamp" in record and record["status"] == 200
    assert record["api_key"] == "****" and record["access_token"] == "****"
    assert record["input_tokens"] == 12
    assert record["headers"] == {"authorization": "****", "x-app": "cli"}
    assert "zzzz" not in record["note"]


def test_print_json_is_one_document(capsys: pytest.CaptureFixture[str]) -> None:
    console.print_json({"path": Path("/x"), "n": 1})
    out = capsys.readouterr().out
    assert json.loads(out) == {"path": "/x", "n": 1}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("via http://alice:pa55@proxy.corp:3128", "via http://****@proxy.corp:3128"),
        ("a://:secret@h and https://d:e@f/g?x=1", "a://****@h and https://****@f/g?x=1"),
        ("https://proxy.corp:8080/x", "https://proxy.corp:8080/x"),  # a port is not a password
        ("http://user@host/", "http://user@host/"),  # no password to hide
        ("mailto:x@y", "mailto:x@y"),
    ],
)
def test_url_passwords_are_redacted(text: str, shown: str) -> None:
    assert logs.redact_text(text) == shown
