"""Attacks on the team gateway's keys: guessing, timing, leaks, and SQL-shaped input."""

from __future__ import annotations

import base64
import hmac
import io
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from lynkr_cli import logs, paths
from lynkr_cli.team import admin, keys
from lynkr_cli.team.api import Team
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.types import AuthError, Limits, RateLimited, Usage
from tests.team.conftest import Clock, issue, make_settings, usage_record

ADMIN = "admin-secret-0123456789abcdef"


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(paths.app_db_path())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def team(clock: Clock) -> Callable[..., Team]:
    def build(**kw: Any) -> Team:
        return Team.open(make_settings(ADMIN, **kw), clock=clock)

    return build


def test_keys_carry_256_random_bits_and_never_repeat() -> None:
    made = {keys.new_key() for _ in range(2000)}
    assert len(made) == 2000
    for key in list(made)[:50]:
        assert key.startswith("lk-")
        raw = base64.urlsafe_b64decode(key[3:] + "=")
        assert len(raw) == 32


def test_lookups_are_by_digest_and_compared_in_constant_time(
    store: SqliteStore, team: Callable[..., Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = issue(store)
    t = team()
    held = t.keys._entries
    assert all(isinstance(d, bytes) and len(d) == 32 for d in held)
    assert key.encode() not in held and all(key not in repr(e) for e in held.values())
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    t.authenticate(key)
    t.authenticate(ADMIN)
    with pytest.raises(AuthError):
        t.authenticate(ADMIN[:-1])  # a near-miss of the admin key: same path, same lengths
    with pytest.raises(AuthError):
        t.authenticate("x")
    assert calls and all(pair == (32, 32) for pair in calls)


def test_an_unknown_key_gets_the_same_answer_whatever_it_resembles(
    store: SqliteStore, team: Callable[..., Team]
) -> None:
    key = issue(store)
    t = team()
    near = [key[:-1] + ("A" if key[-1] != "A" else "B"), key[:11] + "x" * 35, key + "x", "lk-"]
    messages = set()
    for guess in near:
        with pytest.raises(AuthError) as info:
            t.authenticate(guess)
        assert info.value.reason == "unknown"
        messages.add(info.value.message)
    assert len(messages) == 1 and key[:11] not in messages.pop()


def test_the_key_never_reaches_listings_audit_logs_errors_or_the_database(
    store: SqliteStore, team: Callable[..., Team], invoke: Any, clock: Clock
) -> None:
    import asyncio

    made = invoke("keys", "create", "alice", "--rpm", "1", "--budget-usd", "1", "--json")
    key = json.loads(made.stdout)["key"]
    stream = io.StringIO()
    logs.configure("debug", stream)

    async def traffic() -> list[str]:
        t = team(audit="full")
        await t.start()
        principal = t.authenticate(key)
        adm = await t.admit(principal, "claude-sonnet-4-5", 10)
        cost = await t.settle(adm, Usage(10, 5))
        t.record_usage(usage_record(1, principal.key_id, cost_nano=cost),
                       request={"headers_echo": f"x-api-key: {key}"},
                       response={"content": [{"type": "text", "text": key}]})  # fmt: skip
        errors = []
        try:
            await t.admit(principal, "claude-sonnet-4-5", 10)
        except RateLimited as exc:
            errors.append(exc.message + json.dumps(exc.headers))
        admin.revoke(store, "alice")
        t.reload_keys()
        try:
            t.authenticate(key)
        except AuthError as exc:
            errors.append(exc.message)
        clock.advance(1)
        await t.stop()
        return errors

    errors = asyncio.run(traffic())
    assert len(errors) == 2
    outputs = [
        *errors,
        stream.getvalue(),
        invoke("keys", "list", "--all", "--json").stdout,
        invoke("keys", "show", "alice", "--json").stdout,
        invoke("audit", "export").stdout,
        invoke("usage", "--json").stdout,
        paths.app_db_path().read_bytes().decode("latin-1"),
    ]
    wal = paths.app_db_path().with_name("lynkr.db-wal")
    if wal.exists():
        outputs.append(wal.read_bytes().decode("latin-1"))
    for text in outputs:
        assert key not in text
        assert key[11:] not in text  # not even the part after the shown prefix


def test_the_database_is_private(store: SqliteStore) -> None:
    issue(store)
    assert stat.S_IMODE(os.stat(paths.app_db_path()).st_mode) == 0o600


@pytest.mark.parametrize(
    "name",
    [
        "x'; DROP TABLE team_keys;--",
        "alice' OR '1'='1",
        'bob"); DELETE FROM team_usage; --',
        "../../etc/passwd",
        "a" * 65,
        "",
        "名前",
    ],
)
def test_sql_shaped_names_are_refused_and_change_nothing(invoke: Any, name: str) -> None:
    invoke("keys", "create", "alice")
    result = invoke("keys", "create", name)
    assert result.exit_code == 2 and "invalid key name" in result.stderr
    listed = json.loads(invoke("keys", "list", "--json").stdout)["keys"]
    assert [k["name"] for k in listed] == ["alice"]


def test_sql_shaped_notes_and_lookups_are_plain_data(invoke: Any, store: SqliteStore) -> None:
    note = "'); DROP TABLE team_keys; -- \" OR 1=1 %_\\"
    made = invoke("keys", "create", "alice", "--note", note, "--json")
    assert made.exit_code == 0
    assert json.loads(invoke("keys", "show", "alice", "--json").stdout)["note"] == note
    for probe in ("' OR '1'='1", "%", "lk-%%%%%%", "lk-______", "k-%' --"):
        result = invoke("keys", "show", probe)
        assert result.exit_code == 6, probe
    assert invoke("usage", "--key", "' OR 1=1 --").exit_code == 6
    tail = invoke("audit", "tail", "--key", "' OR '1'='1", "--model", "*' OR '1'='1")
    assert tail.exit_code == 0 and tail.stdout == ""
    with sqlite3.connect(paths.app_db_path()) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"team_keys", "team_usage", "team_audit"} <= tables


def test_limit_errors_name_the_key_not_its_secret(
    store: SqliteStore, team: Callable[..., Team]
) -> None:
    import asyncio

    key = issue(store, "alice", limits=Limits(rpm=1, budget_usd=Decimal("0.01")))
    t = team()
    principal = t.authenticate(key)

    async def twice() -> RateLimited:
        await t.admit(principal, "claude-sonnet-4-5", 1)
        with pytest.raises(RateLimited) as info:
            await t.admit(principal, "claude-sonnet-4-5", 1)
        return info.value

    err = asyncio.run(twice())
    assert "'alice'" in err.message and key not in err.message and key[:11] not in err.message
