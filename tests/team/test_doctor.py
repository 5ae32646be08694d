"""``lynkr doctor``'s team check, on a real lynkr.db (never created or migrated by doctor)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from lynkr_cli import paths
from lynkr_cli.doctor.runner import Context
from lynkr_cli.team import admin, limits
from lynkr_cli.team.api import SPILL_NAME
from lynkr_cli.team.doctor import team_state
from lynkr_cli.team.sqlite import SqliteStore
from tests.team.conftest import issue


def _ctx(workdir: Path, deep: bool = False, **env: str) -> Context:
    return Context(deep=deep, environ=env, cwd=workdir)


def test_single_user_and_no_database_created(workdir: Path) -> None:
    result = team_state(_ctx(workdir))
    assert result.status == "ok" and "single-user" in result.summary
    assert not paths.app_db_path().exists()


def test_live_keys_and_keys_expiring_soon(workdir: Path, store: SqliteStore) -> None:
    issue(store, "alice")
    assert team_state(_ctx(workdir)).status == "ok"
    issue(store, "bob", expires_at=time.time() + 3 * 86400)
    result = team_state(_ctx(workdir))
    assert result.status == "warn" and "bob" in result.summary and "--expires" in (result.fix or "")
    assert result.details["live"] == 2
    # which code counts the limits: the C accelerator when it was built
    assert result.details["limit_counters"] == limits.native_status()
    limits.set_native(False)
    try:
        assert team_state(_ctx(workdir)).details["limit_counters"] == "python"
    finally:
        limits.set_native(True)


def test_audit_off_with_keys_is_a_warning(workdir: Path, store: SqliteStore) -> None:
    issue(store, "alice")
    result = team_state(_ctx(workdir, LYNKR_AUDIT="off"))
    assert result.status == "warn" and "audit log is off" in result.summary


def test_deep_verifies_the_chain(workdir: Path, store: SqliteStore) -> None:
    issue(store, "alice")
    admin.update(store, "alice", rpm=5)
    assert team_state(_ctx(workdir, deep=True)).details["audit"]["ok"] is True
    with sqlite3.connect(paths.app_db_path()) as conn:
        conn.execute("UPDATE team_audit SET key_name = 'eve' WHERE seq = 1")
    result = team_state(_ctx(workdir, deep=True))
    assert result.status == "fail" and "row 1 was changed" in result.summary


def test_records_left_in_a_spill_file_are_reported(workdir: Path) -> None:
    spill = paths.state_dir() / SPILL_NAME
    spill.parent.mkdir(parents=True, exist_ok=True)
    spill.write_text(json.dumps({"usage": [], "audit": []}) + "\n")
    result = team_state(_ctx(workdir))
    assert result.status == "warn" and str(spill) in result.summary


def test_doctor_lists_the_team_check(invoke: Any, workdir: Path) -> None:
    result = invoke("doctor", "--only", "team", "--json")
    doc = json.loads(result.stdout)
    assert [c["name"] for c in doc["checks"]] == ["team"]
