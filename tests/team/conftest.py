"""Fixtures for the team gateway: real SQLite in the test's LYNKR_HOME, a settable clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from lynkr_cli import paths
from lynkr_cli.settings import ServerSettings, Settings, TeamSettings
from lynkr_cli.team import admin
from lynkr_cli.team.api import Team
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.types import Limits, UsageRecord

# 5 s into the next clock minute: limits see a fresh minute window, and keys created now
# (with real-time expiries) are valid at T0. Tests move the clock; nothing sleeps.
T0 = (time.time() // 60 + 1) * 60 + 5


class Clock:
    """A clock tests move by hand; limits and expiry read it, nothing sleeps."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_settings(admin_key: str | None = None, **team: Any) -> Settings:
    server = ServerSettings(api_key=SecretStr(admin_key) if admin_key else None)
    return Settings(server=server, team=TeamSettings(**team))


@pytest.fixture
def store() -> SqliteStore:
    return SqliteStore(paths.app_db_path())


@pytest.fixture
def open_team(clock: Clock) -> Callable[..., Team]:
    """Team.open on the test's lynkr.db with the fake clock; settings as keyword arguments."""

    def build(admin_key: str | None = None, **team: Any) -> Team:
        return Team.open(make_settings(admin_key, **team), clock=clock)

    return build


@pytest.fixture
async def started(open_team: Callable[..., Team]) -> AsyncIterator[Callable[..., Any]]:
    """Start teams and stop every one at the end of the test."""
    teams: list[Team] = []

    async def start(**team: Any) -> Team:
        t = open_team(**team)
        await t.start()
        teams.append(t)
        return t

    yield start
    for t in teams:
        await t.stop()


def issue(store: SqliteStore, name: str = "alice", **kwargs: Any) -> str:
    """Create a key in the store; returns the key itself."""
    limits = kwargs.pop("limits", None) or Limits()
    _, secret = admin.create(store, name, limits=limits, **kwargs)
    return secret


def usage_record(n: int, key_id: str = "", **fields: Any) -> UsageRecord:
    base: dict[str, Any] = {
        "request_id": f"req_test_{n:06d}",
        "ts": fields.pop("ts", time.time()),
        "key_id": key_id,
        "key_name": fields.pop("key_name", "alice" if key_id else ""),
        "client_model": "claude-sonnet-4-5",
        "provider": "anthropic",
        "upstream_model": "claude-sonnet-4-5",
        "input_tokens": 100 + n,
        "output_tokens": 10 + n % 7,
        "cache_creation_tokens": n % 3,
        "cache_read_tokens": n % 5,
        "cost_nano": 1000 * n,
    }
    base.update(fields)
    return UsageRecord(**base)


# The gateway fixtures of tests/serve, for the team gateway over HTTP.
from tests.serve.conftest import fake, gateway  # noqa: E402

__all__ = ["fake", "gateway"]
