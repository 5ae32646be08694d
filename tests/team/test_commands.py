"""``lynkr keys``, ``lynkr usage`` and ``lynkr audit`` through the real CLI (and real processes)."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import paths
from lynkr_cli.team.sqlite import SqliteStore
from tests.conftest import ROOT
from tests.team.conftest import usage_record


def ok(invoke: Any, *args: str) -> Any:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else result


def test_create_prints_the_key_once_and_stores_only_its_hash(invoke: Any) -> None:
    result = ok(
        invoke,
        "keys",
        "create",
        "alice",
        "--rpm",
        "60",
        "--tpm",
        "50k",
        "--tokens-day",
        "2M",
        "--tokens-month",
        "1.5M",
        "--budget-usd",
        "$25",
        "--models",
        "claude-haiku-*, claude-sonnet-*",
        "--tools",
        "auto",
        "--expires",
        "30d",
        "--note",
        "platform team",
    )
    key = result.stdout.strip()
    assert key.startswith("lk-") and len(key) == 46 and "\n" not in key
    assert "Store it now" in result.stderr and key not in result.stderr
    shown = ok(invoke, "keys", "show", "alice", "--json")
    assert shown["limits"] == {
        "rpm": 60,
        "tpm": 50_000,
        "tokens_day": 2_000_000,
        "tokens_month": 1_500_000,
        "budget_usd": "25.00",
    }
    assert shown["models"] == ["claude-haiku-*", "claude-sonnet-*"] and shown["tools"] == "auto"
    assert shown["expires_at"] > time.time() + 29 * 86400 and shown["note"] == "platform team"
    assert key not in json.dumps(shown) and "hash" not in json.dumps(shown)
    assert key.encode() not in paths.app_db_path().read_bytes()


def test_create_json_and_a_switch_link(invoke: Any) -> None:
    made = ok(invoke, "keys", "create", "ci-nightly", "--json", "--base-url", "https://gw.example/")
    assert made["key"].startswith("lk-") and made["tools"] == "never"
    assert made["link"].startswith("lynkr://v1/import?name=team-ci-nightly&")
    from lynkr_cli.switch.links import parse_link

    profile = parse_link(made["link"])
    assert profile.base_url == "https://gw.example" and profile.key_value() == made["key"]


def test_list_shows_what_the_issue_asks_and_never_the_key(invoke: Any, store: SqliteStore) -> None:
    key = ok(invoke, "keys", "create", "alice", "--budget-usd", "10").stdout.strip()
    ok(invoke, "keys", "create", "bob")
    alice = store.find_keys("alice")[0]
    store.write_batch([usage_record(1, alice.id, cost_nano=1_250_000_000)])
    listed = ok(invoke, "keys", "list", "--json")["keys"]
    assert [k["name"] for k in listed] == ["alice", "bob"]
    first = listed[0]
    for field in (
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "limits",
        "month_spend_usd",
        "state",
    ):
        assert field in first
    assert first["month_spend_usd"] == "1.25" and first["last_used_at"] is not None
    text = ok(invoke, "keys", "list").stdout
    assert "alice" in text and "$1.25 of $10.00" in text and key[:11] in text
    assert key not in text and key not in json.dumps(listed) and alice.secret_hash not in text


def test_revoke_rotate_update_and_list_all(invoke: Any) -> None:
    ok(invoke, "keys", "create", "alice")
    ok(invoke, "keys", "create", "bob")
    revoked = ok(invoke, "keys", "revoke", "bob", "--json")
    assert revoked["revoked_at"] is not None
    assert [k["name"] for k in ok(invoke, "keys", "list", "--json")["keys"]] == ["alice"]
    assert len(ok(invoke, "keys", "list", "--all", "--json")["keys"]) == 2
    before = ok(invoke, "keys", "show", "alice", "--json")
    rotated = ok(invoke, "keys", "rotate", "alice", "--grace", "1h", "--json")
    assert rotated["id"] == before["id"] and rotated["prefix"] != before["prefix"]
    updated = ok(
        invoke,
        "keys",
        "update",
        rotated["prefix"],
        "--rpm",
        "5",
        "--expires",
        "never",
        "--models",
        "*",
        "--json",
    )
    assert updated["limits"]["rpm"] == 5 and updated["models"] == []
    cleared = ok(invoke, "keys", "update", "alice", "--rpm", "none", "--json")
    assert cleared["limits"]["rpm"] is None
    again = ok(invoke, "keys", "create", "bob", "--json")  # the name is free once revoked
    assert again["id"] != revoked["id"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("keys", "show", "nobody"), 6, "no key named 'nobody'"),
        (("keys", "revoke", "nobody"), 6, "no key named"),
        (("keys", "create", "bad name"), 2, "invalid key name"),
        (("keys", "create", "x", "--rpm", "0"), 2, "invalid --rpm"),
        (("keys", "create", "x", "--tpm", "lots"), 2, "invalid --tpm"),
        (("keys", "create", "x", "--budget-usd", "-5"), 2, "invalid budget"),
        (("keys", "create", "x", "--expires", "yesterday"), 2, "invalid time"),
        (("keys", "create", "x", "--expires", "2001-01-01"), 2, "in the past"),
        (("keys", "create", "x", "--tools", "sometimes"), 2, "sometimes"),
        (("keys", "rotate", "nobody", "--grace", "forever"), 2, "invalid duration"),
        (("usage", "--since", "whenever"), 2, "invalid time"),
        (("usage", "--json", "--csv"), 2, "exclusive"),
        (("usage", "--key", "nobody"), 6, "no key named"),
    ],
)
def test_bad_input_is_a_clear_error_with_the_right_exit_code(
    invoke: Any, args: tuple[str, ...], code: int, message: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr


def test_duplicate_names_and_nothing_to_change(invoke: Any) -> None:
    ok(invoke, "keys", "create", "alice")
    dup = invoke("keys", "create", "alice")
    assert dup.exit_code == 2 and "already exists" in dup.stderr and "rotate" in dup.stderr
    same = invoke("keys", "update", "alice")
    assert same.exit_code == 2 and "nothing to change" in same.stderr
    ok(invoke, "keys", "revoke", "alice")
    again = invoke("keys", "revoke", "alice")
    assert again.exit_code == 2 and "revoked" in again.stderr


def _usage(store: SqliteStore, now: float) -> None:
    ids = {k.name: k.id for k in store.list_keys()}
    store.write_batch(
        [
            usage_record(1, ids["alice"], key_name="alice", ts=now - 3600, cost_nano=2 * 10**9),
            usage_record(
                2,
                ids["alice"],
                key_name="alice",
                ts=now - 60,
                client_model="claude-haiku-4-5",
                cost_nano=10**9,
                status=500,
            ),
            usage_record(3, ids["bob"], key_name="bob", ts=now - 30, provider="databricks"),
        ]
    )


def test_usage_table_json_and_csv(invoke: Any, store: SqliteStore) -> None:
    ok(invoke, "keys", "create", "alice")
    ok(invoke, "keys", "create", "bob")
    _usage(store, time.time())
    doc = ok(invoke, "usage", "--since", "1d", "--json")
    rows = {r["key"]: r for r in doc["rows"]}
    assert rows["alice"]["requests"] == 2 and rows["alice"]["errors"] == 1
    assert rows["alice"]["cost_usd"] == "3" and rows["bob"]["cost_usd"] == "0.000003"
    assert doc["total"]["requests"] == 3 and doc["total"]["input_tokens"] == 101 + 102 + 103
    by_model = ok(invoke, "usage", "--by", "model", "--since", "1d", "--key", "alice", "--json")
    assert {r["model"] for r in by_model["rows"]} == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    by_provider = ok(invoke, "usage", "--by", "provider", "--since", "1d", "--json")
    assert {r["provider"] for r in by_provider["rows"]} == {"anthropic", "databricks"}
    table = ok(invoke, "usage", "--since", "1d").stdout
    assert "alice" in table and "$3.00" in table and "█" in table and "total" in table
    rows_csv = list(csv.DictReader(io.StringIO(ok(invoke, "usage", "--by", "day", "--csv").stdout)))
    assert sum(int(r["requests"]) for r in rows_csv) == 3 and "cost_usd" in rows_csv[0]
    empty = ok(invoke, "usage", "--since", "2001-01-01", "--until", "2001-02-01", "--csv")
    assert empty.stdout.startswith("key,key_id,requests")


def test_audit_tail_export_verify(invoke: Any, store: SqliteStore, tmp_path: Path) -> None:
    ok(invoke, "keys", "create", "alice")
    ok(invoke, "keys", "update", "alice", "--rpm", "3")
    lines = ok(invoke, "audit", "tail", "-n", "1").stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["event"] == "key.update"
    out = tmp_path / "audit.jsonl"
    ok(invoke, "audit", "export", "--event", "key.*", "-o", str(out))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600 and len(out.read_text().splitlines()) == 2
    verdict = ok(invoke, "audit", "verify", "--json")
    assert verdict["ok"] and verdict["rows"] == 2
    head = verdict["head"]["hash"]
    ok(invoke, "keys", "create", "bob")
    assert ok(invoke, "audit", "verify", "--expect-head", head, "--json")["ok"]
    with sqlite3.connect(paths.app_db_path()) as conn:
        conn.execute("DELETE FROM team_audit WHERE seq >= 2")
    cut = invoke("audit", "verify", "--expect-head", head)
    assert cut.exit_code == 1 and "removed" in cut.stderr


def test_audit_verify_names_the_edited_row(invoke: Any) -> None:
    for name in ("a", "b", "c"):
        ok(invoke, "keys", "create", name)
    with sqlite3.connect(paths.app_db_path()) as conn:
        conn.execute("UPDATE team_audit SET key_name = 'mallory' WHERE seq = 2")
    result = invoke("audit", "verify")
    assert result.exit_code == 1 and "row 2 was changed" in result.stderr
    doc = json.loads(invoke("audit", "verify", "--json").stdout)
    assert doc["ok"] is False and doc["broken_seq"] == 2


def test_audit_prune_by_days(invoke: Any, store: SqliteStore) -> None:
    ok(invoke, "keys", "create", "alice")
    assert ok(invoke, "audit", "prune", "--days", "1", "--json")["deleted"] == 0
    assert ok(invoke, "audit", "prune", "--days", "0", "--json")["deleted"] == 1
    assert ok(invoke, "audit", "verify", "--json")["ok"]


def test_help_teaches(invoke: Any) -> None:
    for args in (
        ("keys", "--help"),
        ("keys", "create", "--help"),
        ("usage", "--help"),
        ("audit", "--help"),
        ("audit", "verify", "--help"),
    ):
        result = ok(invoke, *args)
        assert "Example" in result.stdout or "example" in result.stdout or "--" in result.stdout


def _lynkr(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lynkr_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_real_processes_share_the_store(lynkr_home: Path) -> None:
    env = {**os.environ, "LYNKR_HOME": str(lynkr_home), "NO_COLOR": "1"}
    made = _lynkr("-q", "keys", "create", "ci", "--rpm", "10", env=env)
    assert made.returncode == 0 and made.stderr == ""
    key = made.stdout.strip()
    listed = _lynkr("keys", "list", "--json", env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout)["keys"][0]["name"] == "ci"
    assert key not in listed.stdout
    missing = _lynkr("keys", "revoke", "nope", env=env)
    assert missing.returncode == 6 and "no key named 'nope'" in missing.stderr
    verified = _lynkr("audit", "verify", env=env)
    assert verified.returncode == 0 and "intact" in verified.stdout
