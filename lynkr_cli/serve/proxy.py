"""Which HTTP proxy, if any, an upstream origin is reached through.

The decision follows curl, httpx and Claude Code: ``https_proxy``/``HTTPS_PROXY``
for https upstreams, ``http_proxy``/``HTTP_PROXY`` for http ones, ``all_proxy``
for either, and ``no_proxy``/``NO_PROXY`` to bypass (the stdlib's
``getproxies_environment()`` and ``proxy_bypass_environment()`` read them).
Loopback upstreams (127.0.0.0/8, ::1, localhost) never go through an environment
proxy. The setting ``provider.proxy`` overrides the environment: ``none`` means
never, a URL means that proxy for every upstream, loopback included.

Only ``http://`` proxies are spoken (CONNECT for https upstreams, the absolute-form
request line for http ones). The pool makes this decision once per upstream origin.
"""

from __future__ import annotations

import base64
import ipaddress
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from urllib.request import (  # type: ignore[attr-defined]  # not in typeshed
    getproxies_environment,
    proxy_bypass_environment,
)

NEVER = "none"


class Proxy(NamedTuple):
    host: str
    port: int
    auth: str | None  # the Proxy-Authorization value, when the URL carries user:password
    display: str  # scheme://host:port, never the credentials
    unsupported: str | None = None  # why this proxy URL cannot be used (e.g. socks5)


def parse(url: str) -> Proxy:
    """A proxy URL (``http://user:password@host:port``; a bare ``host:port`` means http)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    shown_host = f"[{host}]" if ":" in host else host
    display = f"{scheme}://{shown_host}:{port}"
    auth = None
    if parts.username is not None:
        user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(user.encode()).decode()
    unsupported = None
    if scheme != "http":
        unsupported = f"proxy scheme '{scheme}' is not supported (only http:// proxies are)"
    elif not host or not port:
        unsupported = "the proxy URL has no host or port"
    return Proxy(host, port, auth, display, unsupported)


def is_loopback(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Chooser:
    """The proxy decision for a pool: the setting, and the environment read once."""

    def __init__(self, setting: str = "") -> None:
        setting = setting.strip()
        self.explicit: Proxy | None = None
        self.proxies: dict[str, str] = {}
        if setting and setting.lower() != NEVER:
            self.explicit = parse(setting)
        elif not setting:
            self.proxies = getproxies_environment()

    def choose(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy for ``scheme://host:port``, or None for a direct connection."""
        if self.explicit is not None:
            return self.explicit
        proxies = self.proxies
        if not proxies:
            return None
        url = proxies.get(scheme) or proxies.get("all")
        if not url or is_loopback(host):
            return None
        hostport = host if ":" in host else f"{host}:{port}"
        if proxy_bypass_environment(hostport, proxies):
            return None
        return parse(url)
