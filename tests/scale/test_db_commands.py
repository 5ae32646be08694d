"""``lynkr db migrate|status|copy`` and the start-up check, with the real CLI against a
real PostgreSQL: concurrent migrations apply once, a gateway refuses a schema that is
behind (exit 3), and a team's SQLite data moves over with its audit chain intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import paths
from lynkr_cli.settings import load_settings
from lynkr_cli.team.api import Team
from lynkr_cli.team.pgconn import status
from lynkr_cli.team.postgres import PgStore
from lynkr_cli.team.store import AuditEntry
from lynkr_cli.team.times import rfc3339_micro
from tests.scale.services import Postgres
from tests.team.conftest import usage_record


def _lynkr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lynkr_cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_instances_migrating_at_once_apply_each_step_once(pg_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lynkr_cli", "db", "migrate", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "LYNKR_DATABASE_URL": pg_url},
        )
        for _ in range(4)
    ]
    docs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        docs.append(json.loads(out))
    assert sorted(d["applied"] for d in docs) == [0, 0, 0, 1]  # the lock made three wait
    assert all(d["current"] and d["schema_version"] == 1 for d in docs)


def test_serve_refuses_a_schema_that_is_behind_with_exit_3(pg: Postgres, pg_url: str) -> None:
    env = {"LYNKR_DATABASE_URL": pg_url, "LYNKR_PROVIDER": "anthropic", "LYNKR_PORT": "0"}
    result = _lynkr("serve", env=env)
    assert result.returncode == 3, result.stderr
    assert "has no lynkr tables yet" in result.stderr and "lynkr db migrate" in result.stderr
    assert pg.password not in result.stderr + result.stdout
    checked = _lynkr("db", "status", "--json", env=env)
    assert checked.returncode == 1 and json.loads(checked.stdout)["current"] is False
    assert _lynkr("db", "migrate", env=env).returncode == 0
    assert json.loads(_lynkr("db", "status", "--json", env=env).stdout)["current"] is True


def test_keys_commands_work_against_postgresql(invoke: Any, monkeypatch: Any, migrated_url: str):
    monkeypatch.setenv("LYNKR_DATABASE_URL", migrated_url)
    created = invoke("keys", "create", "alice", "--rpm", "10", "--json")
    assert created.exit_code == 0, created.stderr
    listed = json.loads(invoke("keys", "list", "--json").stdout)["keys"]
    assert [k["name"] for k in listed] == ["alice"]
    assert not paths.app_db_path().exists()  # nothing went to the local lynkr.db


def _fill_sqlite(invoke: Any) -> tuple[str, list[Any]]:
    """Keys (one revoked), usage and audit in the local lynkr.db, through the real CLI."""
    alice = json.loads(invoke("keys", "create", "alice", "--budget-usd", "5", "--json").stdout)
    invoke("keys", "create", "bob", "--json")
    invoke("keys", "revoke", "bob")
    from lynkr_cli.team.sqlite import SqliteStore

    store = SqliteStore(paths.app_db_path())
    records = [usage_record(n, key_id=alice["id"]) for n in range(251)]
    for start in range(0, 251, 100):
        batch = records[start : start + 100]
        entries = [
            AuditEntry(rfc3339_micro(r.ts), "request", request_id=r.request_id, key_id=r.key_id)
            for r in batch
        ]
        store.write_batch(batch, entries)
    return str(alice["key"]), records


async def test_db_copy_moves_keys_usage_and_audit_and_the_keys_keep_working(
    invoke: Any, monkeypatch: Any, pg_url: str
) -> None:
    key, _records = _fill_sqlite(invoke)
    copied = invoke("db", "copy", "--to", pg_url, "--json")
    assert copied.exit_code == 0, copied.stderr
    report = json.loads(copied.stdout)
    assert report["copied"]["keys"] == 2 and report["copied"]["usage"] == 251
    assert report["verified"] and report["target_chain"]["ok"]
    assert report["target_chain"]["head"] == report["source_chain"]["head"]
    assert report["copied"]["audit"] == report["target_chain"]["rows"] == 254
    assert "****" in report["target"]
    monkeypatch.setenv("LYNKR_DATABASE_URL", pg_url)
    team = Team.open(load_settings().settings)
    assert team.authenticate(key).name == "alice"  # the same key, now checked in PostgreSQL
    store = PgStore.connect(pg_url)
    assert {k.name: k.state(0) for k in store.list_keys()} == {"alice": "active", "bob": "revoked"}
    usage = json.loads(invoke("usage", "--since", "30d", "--json").stdout)
    assert sum(row["requests"] for row in usage["rows"]) == 251
    verified = invoke("audit", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"]
    again = invoke("db", "copy", "--to", pg_url)  # the target is no longer empty
    assert again.exit_code == 2 and "already holds team data" in again.stderr


def test_db_copy_errors_are_clear(invoke: Any, tmp_path: Path, pg_url: str) -> None:
    missing = invoke("db", "copy", "--from", f"sqlite:///{tmp_path}/none.db", "--to", pg_url)
    assert missing.exit_code == 6 and "no team data" in missing.stderr
    to_sqlite = invoke("db", "copy", "--to", f"sqlite:///{tmp_path}/x.db")
    assert to_sqlite.exit_code == 2 and "must be a postgresql:// URL" in to_sqlite.stderr
    no_target = invoke("db", "copy")
    assert no_target.exit_code == 2 and "LYNKR_DATABASE_URL" in no_target.stderr
    bad = invoke("db", "status", "--url", "mysql://u:pw-xyz@h/db")
    assert bad.exit_code == 3 and "pw-xyz" not in bad.stderr


def test_status_reports_the_server(migrated_url: str) -> None:
    state = status(migrated_url)
    assert state.current and state.server.startswith("15.")
    assert "****" in state.url


@pytest.mark.parametrize("args", [("db", "--help"), ("db", "copy", "--help")])
def test_help_teaches(invoke: Any, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0 and "postgresql://" in result.stdout


@pytest.mark.parametrize(
    ("url", "kind", "where"),
    [
        (None, "sqlite", None),
        ("sqlite:////var/lib/lynkr/lynkr.db", "sqlite", "/var/lib/lynkr/lynkr.db"),
        ("sqlite:///team.db", "sqlite", "team.db"),
        ("postgres://u:p@h/db", "postgresql", "postgres://u:p@h/db"),
        ("postgresql://h/db?sslmode=verify-full", "postgresql", None),
    ],
)
def test_database_urls_choose_the_store(url: str | None, kind: str, where: str | None) -> None:
    from lynkr_cli.team.backends import store_kind

    got_kind, got_where = store_kind(url)
    assert got_kind == kind
    assert got_where == (where or (url if url else str(paths.app_db_path())))


@pytest.mark.parametrize("url", ["mysql://u:secret-x@h/db", "sqlite://", "sqlite:///"])
def test_other_database_urls_are_config_errors(url: str) -> None:
    from lynkr_cli.errors import ConfigError
    from lynkr_cli.team.backends import store_kind

    with pytest.raises(ConfigError) as err:
        store_kind(url)
    assert "secret-x" not in str(err.value)


def test_help_loads_no_database_driver() -> None:
    code = (
        "import sys\n"
        "from lynkr_cli.cli import main\n"
        "try:\n    main(['db', '--help'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('psycopg', 'redis', 'aiohttp') if m in sys.modules]\n"
        "print('LOADED=' + ','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert "LOADED=\n" in result.stdout, result.stdout[-300:]
