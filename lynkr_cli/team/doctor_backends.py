"""``lynkr doctor``'s checks of the shared backends: the database and Redis.

Each says which backend is in use, and for PostgreSQL and Redis whether it can be
reached, accepts lynkr's credentials and is at the version lynkr needs. URLs are
shown without their passwords, and a driver's error text is scrubbed of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lynkr_cli.dsn import scrub, shown_url
from lynkr_cli.errors import ConfigError, LynkrError
from lynkr_cli.registry import CheckResult

if TYPE_CHECKING:
    from lynkr_cli.doctor.api import Context

REDIS_MIN = (6, 2)  # SET … PXAT (limit counters)


def database(ctx: Context) -> CheckResult:
    """Keys, usage and audit: SQLite (embedded) or PostgreSQL reachable, logged in, current."""
    from lynkr_cli.team.backends import database_url, store_kind

    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("database", "settings are invalid")
    try:
        kind, where = store_kind(database_url(settings))
    except ConfigError as exc:
        return CheckResult.fail("database", exc.message, exc.hint or "Fix LYNKR_DATABASE_URL.")
    if kind == "sqlite":
        return CheckResult.ok("database", f"keys, usage and audit in SQLite {where} (embedded)")
    from lynkr_cli.team.pgconn import status

    try:
        state = status(where, timeout=ctx.timeout)
    except LynkrError as exc:
        return CheckResult.fail("database", exc.message, exc.hint or "Check LYNKR_DATABASE_URL.")
    details: dict[str, Any] = state.as_dict()
    if state.version < state.expected:
        return CheckResult.fail(
            "database",
            f"PostgreSQL at {state.url} is at schema version {state.version}; "
            f"this lynkr needs {state.expected}",
            "Run `lynkr db migrate` (safe while other instances run).",
            **details,
        )
    if state.version > state.expected:
        return CheckResult.fail(
            "database",
            f"PostgreSQL at {state.url} is at schema version {state.version}, newer than "
            f"this lynkr ({state.expected})",
            "Upgrade lynkr on this host to the version the other instances run.",
            **details,
        )
    return CheckResult.ok(
        "database",
        f"keys, usage and audit in PostgreSQL {state.server} at {state.url} "
        f"(schema version {state.version}, current)",
        **details,
    )


def redis(ctx: Context) -> CheckResult:
    """Rate limits and the prompt cache: per instance, or Redis reachable and logged in."""
    from lynkr_cli.team.backends import redis_url

    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("redis", "settings are invalid")
    try:
        url = redis_url(settings)
    except ConfigError as exc:
        return CheckResult.fail("redis", exc.message, exc.hint or "Fix LYNKR_REDIS_URL.")
    if url is None:
        return CheckResult.skip(
            "redis",
            "not configured: rate limits counted per instance, prompt cache on local disk "
            "(LYNKR_REDIS_URL shares them between instances)",
        )
    return _probe_redis(url, ctx.timeout, settings.cache.enabled)


def _probe_redis(url: str, timeout: float, cache: bool) -> CheckResult:
    import redis
    from redis.exceptions import AuthenticationError, RedisError, ResponseError

    shown = shown_url(url)
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        info = client.info("server")
        memory = client.info("memory")
    except (AuthenticationError, ResponseError) as exc:
        return CheckResult.fail(
            "redis",
            f"Redis at {shown} refused lynkr: {scrub(str(exc), url)}",
            "Check the password (and user) in LYNKR_REDIS_URL: redis://:PASSWORD@host:6379/0.",
        )
    except (RedisError, OSError) as exc:
        return CheckResult.fail(
            "redis",
            f"cannot reach Redis at {shown}: {scrub(str(exc), url)}",
            "Is the server running and reachable from this host? The gateway falls back "
            "to per-instance limits and no shared cache while it is not.",
        )
    finally:
        client.close()
    version = str(info.get("redis_version", "0"))
    policy = str(memory.get("maxmemory_policy", ""))
    details = {"url": shown, "server_version": version, "maxmemory_policy": policy}
    if tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) < REDIS_MIN:
        return CheckResult.fail(
            "redis",
            f"Redis {version} at {shown} is too old: lynkr needs 6.2 or newer",
            "Upgrade Redis (lynkr's limit counters use SET … PXAT).",
            **details,
        )
    uses = "rate limits and prompt cache" if cache else "rate limits"
    summary = f"{uses} in Redis {version} at {shown} (authenticated)"
    if int(memory.get("maxmemory", 0) or 0) and policy == "noeviction":
        return CheckResult.warn(
            "redis",
            f"{summary}, but maxmemory-policy is noeviction",
            "When Redis fills up, writes fail and limits fall back to per-instance "
            "counting; set maxmemory-policy allkeys-lru (cold cache entries go first).",
            **details,
        )
    return CheckResult.ok("redis", summary, **details)
