"""The PostgreSQL ``Store`` against a real server: it answers exactly as the SQLite store
does (keys, usage totals, audit rows and their very hashes), and its audit chain stays
one chain when several stores append to it at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.errors import ConfigError, ExitCode, UsageError
from lynkr_cli.team import admin
from lynkr_cli.team.audit import verify
from lynkr_cli.team.pgconn import StoreUnavailable, migrate, status
from lynkr_cli.team.postgres import PgStore
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.store import AuditEntry, AuditFilter, UsageQuery
from lynkr_cli.team.types import Limits
from tests.scale.services import Postgres
from tests.team.conftest import usage_record


def _entry(n: int, **fields: Any) -> AuditEntry:
    base: dict[str, Any] = {
        "ts": f"2026-12-01T10:00:{n % 60:02d}.{n:06d}Z",
        "event": "request",
        "request_id": f"req_{n}",
        "key_id": "k-1",
        "key_name": "alice",
        "client_model": "claude-sonnet-4-5" if n % 2 else "claude-haiku-4-5",
        "status": 200 if n % 5 else 429,
        "input_tokens": n,
        "cost_nano": n * 1000,
        "detail": '{"note":"ünïcode ✓"}' if n % 3 == 0 else "",
    }
    base.update(fields)
    return AuditEntry(**base)


def test_a_database_never_migrated_is_refused_with_the_command_to_run(pg_url: str) -> None:
    with pytest.raises(ConfigError) as err:
        PgStore.connect(pg_url)
    assert err.value.exit_code == ExitCode.CONFIG
    assert "has no lynkr tables" in err.value.message
    assert "lynkr db migrate" in (err.value.hint or "")
    assert migrate(pg_url).as_dict() == {"before": 0, "after": 1, "applied": 1}
    assert migrate(pg_url).applied == 0  # a second run finds nothing to do
    assert status(pg_url).current


def test_a_wrong_password_is_a_config_error_that_never_shows_the_password(
    pg: Postgres, migrated_url: str
) -> None:
    url = migrated_url.replace(pg.password, "not-the-password-1234")
    with pytest.raises(ConfigError) as err:
        PgStore.connect(url)
    text = str(err.value) + (err.value.hint or "")
    assert "authentication failed" in text
    assert "not-the-password-1234" not in text and pg.password not in text


def test_an_unreachable_server_is_exit_4(pg: Postgres) -> None:
    from tests.scale.services import free_port

    url = f"postgresql://lynkr:secret-pw-99@127.0.0.1:{free_port()}/x"
    with pytest.raises(StoreUnavailable) as err:
        PgStore.connect(url)
    assert err.value.exit_code == ExitCode.UPSTREAM and "secret-pw-99" not in str(err.value)


def test_keys_round_trip_and_a_live_name_is_unique(migrated_url: str) -> None:
    store = PgStore.connect(migrated_url)
    key, secret = admin.create(store, "alice", limits=Limits(rpm=10), models=("claude-*",))
    assert secret.startswith("lk-") and store.keys_version() == 1
    assert store.list_keys() == [key]
    assert store.find_keys("alice") == [key] and store.find_keys(key.prefix[:8]) == [key]
    assert store.find_keys("al%") == []  # LIKE wildcards in a name are literal
    with pytest.raises(UsageError, match="already exists"):
        admin.create(store, "alice")
    revoked = admin.revoke(store, "alice")
    assert store.list_keys() == [revoked] and store.keys_version() == 2
    admin.create(store, "alice")  # the name is free again once revoked
    rows = list(store.audit_rows(AuditFilter(event="key.*")))
    assert [r["event"] for r in rows] == ["key.create", "key.revoke", "key.create"]


def _both(tmp: Path, url: str) -> tuple[SqliteStore, PgStore]:
    return SqliteStore(tmp / "lynkr.db"), PgStore.connect(url)


def test_the_audit_chain_is_byte_for_byte_the_sqlite_chain(tmp_path: Path, migrated_url: str):
    lite, pg = _both(tmp_path, migrated_url)
    entries = [_entry(n) for n in range(1, 41)]
    for store in (lite, pg):
        store.write_batch([], entries[:25])
        store.write_batch([], entries[25:])
    lite_rows, pg_rows = list(lite.audit_chain()), list(pg.audit_chain())
    assert pg_rows == lite_rows  # the same values, so the same hashes
    assert verify(pg.audit_chain(), pg.audit_anchor()).ok
    for flt in (
        AuditFilter(model="claude-son*"),
        AuditFilter(status=429),
        AuditFilter(event="req?est", key="alice"),
        AuditFilter(model="claude-[hx]aiku-*"),
        AuditFilter(since="2026-12-01T10:00:10Z", until="2026-12-01T10:00:20Z"),
    ):
        assert list(pg.audit_rows(flt)) == list(lite.audit_rows(flt)), flt
    assert len(list(pg.audit_rows(AuditFilter(model="claude-[hx]aiku-*")))) == 20
    assert len(list(pg.audit_rows(AuditFilter(model="claude-son*", status=429)))) == 4
    assert list(pg.audit_rows(AuditFilter(), last=3)) == lite_rows[-3:]
    prune = "2026-12-01T10:00:20Z"
    assert pg.prune_audit(prune, AuditEntry("2026-12-02T00:00:00.000000Z", "audit.prune")) == (
        lite.prune_audit(prune, AuditEntry("2026-12-02T00:00:00.000000Z", "audit.prune"))
    )
    assert pg.audit_anchor() == lite.audit_anchor()
    assert list(pg.audit_chain()) == list(lite.audit_chain())
    assert verify(pg.audit_chain(), pg.audit_anchor()).ok


def test_an_edited_row_is_found(migrated_url: str) -> None:
    store = PgStore.connect(migrated_url)
    store.write_batch([], [_entry(n) for n in range(1, 11)])
    with store.transaction() as conn:
        conn.execute("UPDATE team_audit SET input_tokens = 1 WHERE seq = 6")
    verdict = verify(store.audit_chain(), store.audit_anchor())
    assert not verdict.ok and verdict.broken_seq == 6


def test_usage_totals_equal_the_sqlite_totals(tmp_path: Path, migrated_url: str) -> None:
    lite, pg = _both(tmp_path, migrated_url)
    base = 1_764_000_000.0
    records = [
        usage_record(n, key_id=f"k-{n % 3}", ts=base + n * 7200, status=200 if n % 4 else 500)
        for n in range(60)
    ]
    records[5].guard_findings = {"aws_key": 2}
    for store in (lite, pg):
        store.write_batch(records[:30], [])
        store.write_batch(records[30:], [])
    for group in ("key", "model", "upstream", "provider", "day"):
        for query in (
            UsageQuery(group),
            UsageQuery(group, since=base + 3600, until=base + 90_000, key_ids=("k-1", "k-2")),
        ):
            assert pg.usage_totals(query) == lite.usage_totals(query), query
    assert pg.usage_sums(base + 36_000) == lite.usage_sums(base + 36_000)
    assert list(pg.export_usage()) == list(lite.export_usage()) == records


def test_two_instances_appending_at_once_keep_one_chain(migrated_url: str) -> None:
    """Four writers (two stores, as on two hosts, two threads each) race their batches."""
    stores = [PgStore.connect(migrated_url), PgStore.connect(migrated_url)]
    errors: list[BaseException] = []

    def writer(store: PgStore, who: int) -> None:
        try:
            for batch in range(10):
                entries = [_entry(n, request_id=f"w{who}-{batch}-{n}") for n in range(1, 6)]
                usage = [usage_record(who * 1000 + batch * 10 + n) for n in range(3)]
                store.write_batch(usage, entries)
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(stores[i % 2], i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    rows = list(stores[0].audit_chain())
    assert [r["seq"] for r in rows] == list(range(1, 201))
    assert verify(rows, stores[0].audit_anchor()).ok
    assert len(list(stores[1].export_usage())) == 4 * 10 * 3


def test_a_lost_connection_is_reopened_on_the_next_call(pg: Postgres, migrated_url: str):
    store = PgStore.connect(migrated_url)
    assert store.keys_version() == 0
    pg.stop()
    with pytest.raises(StoreUnavailable, match="PostgreSQL"):
        store.keys_version()
    pg.start()
    assert store.keys_version() == 0  # no backoff to wait out: the next call connects
