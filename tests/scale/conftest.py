"""Real PostgreSQL and Redis for the scale-out tests: one of each per test session.

With pytest-xdist every worker is its own session, so each worker starts its own
servers on its own ports (tests in a worker run one at a time, which is what makes
stopping a server mid-test safe). Every test gets a fresh database and an empty Redis.
Without the binaries these tests skip locally and fail under ``CI=true``
(``scripts/test-deps.sh`` installs them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from lynkr_cli.settings import (
    CacheSettings,
    GatewaySettings,
    ServerSettings,
    Settings,
    TeamSettings,
)
from tests.conftest import require
from tests.scale.services import Postgres, Redis, pg_bindir, redis_binary
from tests.serve.conftest import fake, gateway

__all__ = ["fake", "gateway"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    bindir = pg_bindir()
    require(bindir is not None, "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root_ok = os.geteuid() != 0 or shutil.which("runuser") is not None
    require(root_ok, "running as root needs runuser to start PostgreSQL as another user")
    import psycopg  # noqa: F401  (the driver comes with the dev extra)

    assert bindir is not None
    server = Postgres(bindir)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    binary = redis_binary()
    require(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    assert binary is not None
    server = Redis(binary)
    server.start()
    yield server
    server.close()


@pytest.fixture
def pg(postgres_server: Postgres) -> Iterator[Postgres]:
    """The session's PostgreSQL, running (a test before may have stopped it)."""
    if not postgres_server.running():
        postgres_server.start()
    yield postgres_server
    if not postgres_server.running():
        postgres_server.start()


@pytest.fixture
def pg_url(pg: Postgres) -> Iterator[str]:
    """A fresh, empty database (not migrated)."""
    url = pg.create_database()
    yield url
    pg.drop_database(url)


@pytest.fixture
def migrated_url(pg_url: str) -> str:
    from lynkr_cli.team.pgconn import migrate

    migrate(pg_url)
    return pg_url


@pytest.fixture
def redis_srv(redis_server: Redis) -> Iterator[Redis]:
    """The session's Redis, running and empty."""
    if redis_server.proc is None:
        redis_server.start()
    redis_server.flush()
    yield redis_server
    if redis_server.proc is None:
        redis_server.start()


@pytest.fixture
def redis_url(redis_srv: Redis) -> str:
    return redis_srv.url()


def scale_settings(
    database_url: str | None = None, redis: str | None = None, **team: Any
) -> Settings:
    """Settings with the shared backends (either may be None) and team options."""
    return Settings(
        server=ServerSettings(),
        gateway=GatewaySettings(database_url=SecretStr(database_url) if database_url else None),
        cache=CacheSettings(redis_url=SecretStr(redis) if redis else None),
        team=TeamSettings(**team),
    )


def gateway_env(upstream_url: str, database_url: str, redis: str, **extra: str) -> dict[str, str]:
    """A ``lynkr serve`` process's settings: the fake upstream, both shared backends, the
    prompt cache on, records flushed often (tests wait less)."""
    return {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": upstream_url + "/v1/messages",
        "LYNKR_DATABASE_URL": database_url,
        "LYNKR_REDIS_URL": redis,
        "LYNKR_CACHE": "true",
        "LYNKR_USAGE_FLUSH_SECONDS": "0.2",
        **extra,
    }
