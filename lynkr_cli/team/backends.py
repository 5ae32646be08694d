"""Which backend holds the gateway's shared state, chosen from two URLs.

- ``gateway.database_url`` (``LYNKR_DATABASE_URL``): keys, usage and audit.
  ``postgresql://…`` (or ``postgres://…``) selects :class:`~lynkr_cli.team.postgres.PgStore`;
  ``sqlite:///path`` a SQLite file; unset, the shared ``lynkr.db`` (the embedded default).
- ``cache.redis_url`` (``LYNKR_REDIS_URL``, alias ``LYNKR_CACHE_URL``): the rate-limit
  counters (:class:`~lynkr_cli.team.redis_limits.RedisLimitStore`) and the prompt cache
  (:mod:`lynkr_cli.cache`). ``redis://``, ``rediss://`` (TLS) or ``unix://``; unset,
  counters live in each process and the cache on its disk.

Either may be set without the other. Nothing here imports a driver: ``lynkr --help``
and single-user commands never pay for psycopg or redis. URLs are shown only through
:func:`shown_url`, which replaces the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from lynkr_cli import paths
from lynkr_cli.dsn import checked_redis_url, shown_url
from lynkr_cli.errors import ConfigError

if TYPE_CHECKING:
    from lynkr_cli.settings import Settings
    from lynkr_cli.team.store import LimitStore, Store

StoreKind = Literal["sqlite", "postgresql"]
PG_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class Backends:
    """The backends in use, as ``lynkr config show`` and ``lynkr doctor`` report them."""

    store: StoreKind
    store_url: str  # shown form: no password
    redis_url: str | None  # shown form; None when Redis is not configured
    cache: bool = True  # the prompt cache is on

    @property
    def cache_backend(self) -> str:
        if not self.cache:
            return "off"
        return "redis" if self.redis_url is not None else "disk"

    def as_dict(self) -> dict[str, Any]:
        redis = self.redis_url is not None
        cache_url = self.redis_url if self.cache_backend == "redis" else None
        return {
            "keys_usage_audit": {"backend": self.store, "url": self.store_url},
            "rate_limits": {"backend": "redis" if redis else "memory", "url": self.redis_url},
            "prompt_cache": {"backend": self.cache_backend, "url": cache_url},
        }

    def summary(self) -> str:
        store = "PostgreSQL" if self.store == "postgresql" else "SQLite"
        limits = f"in Redis ({self.redis_url})" if self.redis_url else "in memory, per instance"
        cache = {"off": "off", "redis": "in Redis", "disk": "on local disk"}[self.cache_backend]
        return (
            f"keys, usage and audit in {store} ({self.store_url}); rate limits {limits}; "
            f"prompt cache {cache}"
        )


def database_url(settings: Settings) -> str | None:
    secret = settings.gateway.database_url
    value = secret.get_secret_value().strip() if secret is not None else ""
    return value or None


def redis_url(settings: Settings) -> str | None:
    """The Redis URL, or None; a ConfigError when it is not a Redis URL."""
    return checked_redis_url(settings.cache.redis_url)


def store_kind(url: str | None) -> tuple[StoreKind, str]:
    """("sqlite", path) or ("postgresql", url) for a database URL (None: ``lynkr.db``)."""
    if url is None:
        return "sqlite", str(paths.app_db_path())
    scheme = urlsplit(url).scheme.lower()
    if scheme in PG_SCHEMES:
        return "postgresql", url
    if scheme == "sqlite":
        return "sqlite", sqlite_path(url)
    raise ConfigError(
        f"LYNKR_DATABASE_URL must be a postgresql:// or sqlite:/// URL ({shown_url(url)})",
        hint="e.g. LYNKR_DATABASE_URL=postgresql://lynkr:PASSWORD@db-host:5432/lynkr",
    )


def sqlite_path(url: str) -> str:
    """The file of a SQLite URL, as SQLAlchemy spells them: ``sqlite:///relative.db``
    (three slashes) or ``sqlite:////absolute/path.db`` (four)."""
    prefix = "sqlite:///"
    path = url[len(prefix) :] if url.lower().startswith(prefix) else ""
    if not path:
        raise ConfigError(
            f"cannot find a file in {url!r}",
            hint="Write sqlite:////absolute/path/lynkr.db (four slashes) or sqlite:///relative.db.",
        )
    return str(Path(path).expanduser())


def describe(settings: Settings) -> Backends:
    kind, where = store_kind(database_url(settings))
    redis = redis_url(settings)
    return Backends(
        kind,
        shown_url(where) if kind == "postgresql" else where,
        shown_url(redis) if redis else None,
        settings.cache.enabled,
    )


def open_store(settings: Settings, *, check_schema: bool = True) -> Store:
    """The configured ``Store``. PostgreSQL must be reachable and (with ``check_schema``)
    at this lynkr's schema version: otherwise a ConfigError that says to run
    ``lynkr db migrate`` (exit 3), or an UpstreamError when the server cannot be reached."""
    kind, where = store_kind(database_url(settings))
    return open_store_at(kind, where, check_schema=check_schema)


def open_store_at(kind: str, where: str, *, check_schema: bool = True) -> Store:
    """The ``Store`` of a :func:`store_kind` pair (the usage writer process opens the
    gateway's store this way)."""
    if kind == "sqlite":
        from lynkr_cli.team.sqlite import SqliteStore

        return SqliteStore(Path(where))
    from lynkr_cli.team.postgres import PgStore

    return PgStore.connect(where, check_schema=check_schema)


def open_limit_store(settings: Settings) -> LimitStore | None:
    """A Redis ``LimitStore`` when Redis is configured, else None (per-process counters)."""
    url = redis_url(settings)
    if url is None:
        return None
    from lynkr_cli.team.redis_limits import RedisLimitStore

    return RedisLimitStore(url)
