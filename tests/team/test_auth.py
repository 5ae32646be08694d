"""Every authentication outcome, the admin key, rotation, and revocation within the TTL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from lynkr_cli.team import admin
from lynkr_cli.team.api import Team
from lynkr_cli.team.keys import presented_key
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.types import AuthError, TeamUnavailable
from tests.team.conftest import Clock, issue


def test_no_keys_and_no_admin_key_is_inactive(open_team: Callable[..., Team]) -> None:
    assert open_team().active is False


def test_admin_key_alone_makes_it_active(open_team: Callable[..., Team]) -> None:
    team = open_team(admin_key="admin-secret-0123456789")
    assert team.active
    principal = team.authenticate("admin-secret-0123456789")
    assert principal.admin and principal.name == "" and principal.tools is None
    assert principal.allows_model("anything-at-all")


def test_an_issued_key_authenticates_as_its_principal(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    key = issue(store, "alice", models=("claude-haiku-*",), tools="auto", note="dev")
    team = open_team()
    assert team.active
    principal = team.authenticate(key)
    assert (principal.name, principal.tools, principal.admin) == ("alice", "auto", False)
    assert principal.prefix == key[:11] and principal.key_id.startswith("k-")
    assert principal.allows_model("claude-haiku-4-5")
    assert not principal.allows_model("claude-opus-4-5")


def test_issued_keys_default_to_no_server_tools(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    key = issue(store, "bob")
    assert open_team().authenticate(key).tools == "never"


@pytest.mark.parametrize("presented", [None, ""])
def test_missing_key(presented: str | None, open_team: Callable[..., Team], store: Any) -> None:
    issue(store)
    with pytest.raises(AuthError) as info:
        open_team().authenticate(presented)
    assert info.value.reason == "missing" and info.value.status == 401
    assert "x-api-key" in info.value.message and "ANTHROPIC_API_KEY" in info.value.message


def test_unknown_key_never_echoes_it(store: SqliteStore, open_team: Callable[..., Team]) -> None:
    issue(store)
    guess = "lk-" + "A" * 43
    with pytest.raises(AuthError) as info:
        open_team().authenticate(guess)
    assert info.value.reason == "unknown"
    assert guess not in info.value.message and "AAAA" not in info.value.message


def test_revoked_key(store: SqliteStore, open_team: Callable[..., Team]) -> None:
    key = issue(store)
    admin.revoke(store, "alice")
    with pytest.raises(AuthError) as info:
        open_team().authenticate(key)
    assert info.value.reason == "revoked" and "'alice'" in info.value.message
    assert key not in info.value.message


def test_expired_key(store: SqliteStore, open_team: Callable[..., Team], clock: Clock) -> None:
    key = issue(store, expires_at=clock.now + 3600)
    team = open_team()
    assert team.authenticate(key).name == "alice"
    clock.advance(3601)
    with pytest.raises(AuthError) as info:
        team.authenticate(key)
    assert info.value.reason == "expired" and "keys update alice --expires" in info.value.message


def test_rotation_without_grace_refuses_the_old_key(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    old = issue(store)
    record, new = admin.rotate(store, "alice")
    team = open_team()
    assert team.authenticate(new).key_id == record.id
    with pytest.raises(AuthError) as info:
        team.authenticate(old)
    assert info.value.reason == "unknown"


def test_rotation_with_grace_accepts_the_old_key_until_it_ends(
    store: SqliteStore, open_team: Callable[..., Team], clock: Clock
) -> None:
    old = issue(store)
    _, new = admin.rotate(store, "alice", grace=600)
    team = open_team()
    assert team.authenticate(old).name == team.authenticate(new).name == "alice"
    clock.now = time.time() + 601
    with pytest.raises(AuthError) as info:
        team.authenticate(old)
    assert info.value.reason == "revoked" and "rotated" in info.value.message
    assert team.authenticate(new).name == "alice"


def test_presented_key_reads_x_api_key_then_bearer() -> None:
    assert presented_key({"x-api-key": " lk-a "}) == "lk-a"
    assert presented_key({"authorization": "Bearer lk-b"}) == "lk-b"
    assert presented_key({"authorization": "bearer   lk-c  "}) == "lk-c"
    assert presented_key({"authorization": "Basic abc"}) is None
    assert presented_key({}) is None


async def _until(predicate: Callable[[], bool], limit: float = 10.0) -> float:
    """Poll ``predicate`` (bounded); returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < limit, "condition not met in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def _refused(team: Team, key: str) -> bool:
    try:
        team.authenticate(key)
    except AuthError:
        return True
    return False


async def test_revocation_reaches_a_running_gateway_without_a_restart(
    store: SqliteStore, started: Callable[..., Any]
) -> None:
    key = issue(store)
    team = await started(key_cache_ttl=0.3)
    assert team.authenticate(key).name == "alice"
    admin.revoke(store, "alice")  # another connection, as `lynkr keys revoke` would
    await _until(lambda: _refused(team, key))
    with pytest.raises(AuthError) as info:
        team.authenticate(key)
    assert info.value.reason == "revoked"


async def test_a_key_created_while_running_works_within_the_ttl(
    store: SqliteStore, started: Callable[..., Any]
) -> None:
    team = await started(key_cache_ttl=0.3, admin_key=None)
    assert not team.active
    key = issue(store, "late")
    await _until(lambda: team.active and not _refused(team, key))
    assert team.authenticate(key).name == "late"


async def test_hot_path_reads_no_database(
    store: SqliteStore, started: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = issue(store)
    team = await started()
    calls: list[str] = []

    def spy(name: str) -> Callable[..., Any]:
        original = getattr(team.store, name)

        def wrapper(*args: Any) -> Any:
            calls.append(name)
            return original(*args)

        return wrapper

    for name in ("keys_version", "list_keys", "find_keys"):
        monkeypatch.setattr(team.store, name, spy(name))
    for _ in range(1000):
        team.authenticate(key)
    assert calls == []


async def test_a_store_that_cannot_be_read_stops_issued_keys_not_the_admin(
    store: SqliteStore, open_team: Callable[..., Team], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = issue(store)
    team = open_team(admin_key="admin-secret-0123456789", key_cache_ttl=0.1)
    await team.start()
    try:

        def broken() -> int:
            raise OSError("disk gone")

        monkeypatch.setattr(team.store, "keys_version", broken)
        await _until(lambda: _unavailable(team, key))
        assert team.authenticate("admin-secret-0123456789").admin
    finally:
        monkeypatch.undo()
        await team.stop()


def _unavailable(team: Team, key: str) -> bool:
    try:
        team.authenticate(key)
    except TeamUnavailable as exc:
        return exc.status == 503 and key not in exc.message
    return False
