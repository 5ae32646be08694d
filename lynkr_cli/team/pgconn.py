"""PostgreSQL connections, errors a user can act on, and the schema's migrations.

- :func:`connect`: one connection with lynkr's options (timeouts, keepalives).
- Errors: a refused login, a missing database or a schema that is behind is a
  :class:`~lynkr_cli.errors.ConfigError` (exit 3); a server that cannot be reached
  is :class:`StoreUnavailable` (an UpstreamError, exit 4). Neither message ever holds
  the password (the driver's text is scrubbed).
- :func:`migrate`: ``lynkr db migrate``. The steps run in one transaction holding
  ``pg_advisory_xact_lock(lynkr, migrate)``, so instances started together (each
  running ``lynkr db migrate`` before ``lynkr serve``) apply each step exactly once:
  the second waits for the lock, then finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from lynkr_cli.dsn import scrub, shown_url
from lynkr_cli.errors import ConfigError, UpstreamError
from lynkr_cli.team.postgres_schema import (
    COMPONENT,
    LOCK_NAMESPACE,
    MIGRATE_LOCK,
    MIGRATIONS,
    SCHEMA_TABLE,
    VERSION,
)

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT = 5  # seconds (libpq's connect_timeout; the URL may set its own)
# A silent network failure (a cable, a firewall) becomes an error in ~10 s, not a hang.
_OPTIONS = {
    "connect_timeout": CONNECT_TIMEOUT,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "application_name": "lynkr",
}
# SQLSTATE classes that mean "fix the URL or the server's settings", not "try again".
_REFUSED = ("28", "3D", "42501")


class StoreUnavailable(UpstreamError):
    """The database cannot be reached right now (the gateway retries; a command exits 4)."""


def connect(url: str, *, timeout: float | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit: ``conn.transaction()``)."""
    import psycopg

    given = {k for k, _ in parse_qsl(urlsplit(url).query)}
    options: dict[str, Any] = {k: v for k, v in _OPTIONS.items() if k not in given}
    if timeout is not None:
        options["connect_timeout"] = max(1, round(timeout))
    try:
        return psycopg.connect(url, autocommit=True, **options)
    except psycopg.Error as exc:
        raise connect_error(url, exc) from None


def connect_error(url: str, exc: Exception) -> ConfigError | StoreUnavailable:
    """What went wrong connecting, for a person: a refusal is exit 3, absence exit 4."""
    text = " ".join(scrub(str(exc), url).split()) or type(exc).__name__
    state = str(getattr(exc, "sqlstate", "") or "")
    where = shown_url(url)
    refused = state.startswith(_REFUSED) or any(
        phrase in text
        for phrase in ("authentication failed", "pg_hba.conf", "does not exist", "SSL")
    )
    if refused:
        return ConfigError(
            f"PostgreSQL at {where} refused lynkr: {text}",
            hint="Check the user, password and database name in LYNKR_DATABASE_URL; "
            "`lynkr doctor` checks them.",
        )
    return StoreUnavailable(
        f"cannot reach PostgreSQL at {where}: {text}",
        hint="Is the server running and reachable from this host? `lynkr doctor` checks it.",
    )


def unavailable(url: str, exc: Exception) -> StoreUnavailable:
    """A query failed because the connection did (the server stopped, the network)."""
    text = " ".join(scrub(str(exc), url).split()) or type(exc).__name__
    return StoreUnavailable(f"lost PostgreSQL at {shown_url(url)}: {text}")


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The team schema's version in this database (0: never migrated)."""
    found = conn.execute("SELECT to_regclass('lynkr_schema')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute(
        "SELECT version FROM lynkr_schema WHERE component = %s", (COMPONENT,)
    ).fetchone()
    return int(row[0]) if row else 0


def require_current(conn: psycopg.Connection[Any], where: str) -> None:
    """A ConfigError (exit 3) unless the schema is exactly at this lynkr's version."""
    version = schema_version(conn)
    if version < VERSION:
        state = "has no lynkr tables yet" if version == 0 else f"is at version {version}"
        raise ConfigError(
            f"the database at {where} {state}; this lynkr needs schema version {VERSION}",
            hint="Run `lynkr db migrate` once (safe while other instances start: it takes "
            "a lock), then start again.",
        )
    if version > VERSION:
        raise ConfigError(
            f"the database at {where} is at schema version {version}, newer than this "
            f"lynkr understands ({VERSION})",
            hint="Upgrade lynkr on this host to the version the other instances run.",
        )


@dataclass(frozen=True, slots=True)
class Migrated:
    before: int
    after: int

    @property
    def applied(self) -> int:
        return self.after - self.before

    def as_dict(self) -> dict[str, int]:
        return {"before": self.before, "after": self.after, "applied": self.applied}


def migrate(url: str) -> Migrated:
    """Apply every missing step under the migration lock (one transaction)."""
    conn = connect(url)
    try:
        with conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({LOCK_NAMESPACE}, {MIGRATE_LOCK})")
            conn.execute(SCHEMA_TABLE)
            before = schema_version(conn)
            if before > VERSION:
                require_current(conn, shown_url(url))
            for version in range(before + 1, VERSION + 1):
                conn.execute(MIGRATIONS[version - 1].encode())
                conn.execute(
                    "INSERT INTO lynkr_schema (component, version) VALUES (%s, %s) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                    (COMPONENT, version),
                )
    except ConfigError:
        raise
    except Exception as exc:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            raise unavailable(url, exc) from None
        raise
    finally:
        conn.close()
    return Migrated(before, max(before, VERSION))


@dataclass(frozen=True, slots=True)
class Status:
    url: str  # shown form
    server: str  # e.g. "15.8"
    version: int
    expected: int = VERSION

    @property
    def current(self) -> bool:
        return self.version == self.expected

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "server_version": self.server,
            "schema_version": self.version,
            "expected_version": self.expected,
            "current": self.current,
        }


def status(url: str, *, timeout: float | None = None) -> Status:
    """Connect (raising what :func:`connect` raises) and read the schema version."""
    conn = connect(url, timeout=timeout)
    try:
        number = conn.info.server_version
        server = f"{number // 10000}.{number % 10000}"
        return Status(shown_url(url), server, schema_version(conn))
    finally:
        conn.close()
