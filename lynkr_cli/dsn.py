"""Connection URLs (PostgreSQL, Redis) as lynkr may show them: never with a password.

Shared by the team gateway's backends, the prompt cache and ``lynkr doctor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from lynkr_cli.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import SecretStr

REDIS_SCHEMES = ("redis", "rediss", "unix")


def shown_url(url: str) -> str:
    """``url`` with its password (and any ``password=`` query value) replaced by ``****``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:****@{host}" if sep else f"{userinfo}@{host}"
    query = "&".join(
        f"{k}=****" if k.lower() == "password" else f"{k}={v}" if sep_v else k
        for k, sep_v, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_password(url: str) -> str | None:
    """The password inside ``url``, if any (to scrub it from a driver's error text)."""
    parts = urlsplit(url)
    password = parts.password
    for item in parts.query.split("&"):
        key, _, value = item.partition("=")
        if key.lower() == "password" and value:
            password = value
    return unquote(password) if password else None


def scrub(text: str, url: str) -> str:
    """``text`` without ``url`` or its password (drivers may echo either)."""
    out = text.replace(url, shown_url(url))
    password = url_password(url)
    raw = urlsplit(url).password
    for secret in {password, raw}:
        if secret:
            out = out.replace(secret, "****")
    return out


def checked_redis_url(secret: SecretStr | None) -> str | None:
    """``cache.redis_url`` (``LYNKR_REDIS_URL``) as text, or None when it is not set; a
    ConfigError (exit 3) when it is not a Redis URL."""
    value = secret.get_secret_value().strip() if secret is not None else ""
    if not value:
        return None
    if urlsplit(value).scheme.lower() not in REDIS_SCHEMES:
        raise ConfigError(
            "LYNKR_REDIS_URL must be a redis://, rediss:// or unix:// URL, not "
            f"{shown_url(value)!r}",
            hint="e.g. LYNKR_REDIS_URL=redis://:PASSWORD@redis-host:6379/0",
        )
    return value
