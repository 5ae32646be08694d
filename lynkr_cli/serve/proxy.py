"""Which HTTP proxy, if any, an upstream origin is reached through.

The decision follows curl, httpx and Claude Code: ``https_proxy``/``HTTPS_PROXY``
for https upstreams, ``http_proxy``/``HTTP_PROXY`` for http ones, ``all_proxy``
for either, and ``no_proxy``/``NO_PROXY`` to bypass (the stdlib's
``getproxies_environment()`` and ``proxy_bypass_environment()`` read them).
Loopback upstreams (127.0.0.0/8, ::1, localhost) never go through an environment
proxy. The setting ``provider.proxy`` overrides the environment: ``none`` means
never, a URL means that proxy for every upstream, loopback included.

The gateway's own client (:mod:`lynkr_cli.serve.http1`) speaks ``http://`` proxies
(CONNECT for https upstreams, :func:`open_tunnel`; the absolute-form request line for
http ones); ``https://`` and SOCKS proxies go through aiohttp's client
(:mod:`lynkr_cli.serve.transport_aiohttp`). The decision is made once per upstream origin.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from urllib.request import (  # type: ignore[attr-defined]  # not in typeshed
    getproxies_environment,
    proxy_bypass_environment,
)

from lynkr_cli.serve.http1_parse import MAX_HEAD, STATUS
from lynkr_cli.serve.transport import ProxyError

NEVER = "none"
SCHEMES = ("http", "https", "socks4", "socks4a", "socks5", "socks5h")


class Proxy(NamedTuple):
    host: str
    port: int
    auth: str | None  # the Proxy-Authorization value, when the URL carries user:password
    display: str  # scheme://host:port, never the credentials
    unsupported: str | None = None  # why the gateway's own client cannot use it (e.g. socks5)
    url: str = ""  # the whole URL, credentials included: never shown (see __repr__)
    scheme: str = "http"

    def __repr__(self) -> str:
        return f"Proxy({self.display})"


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
    if scheme not in SCHEMES:
        unsupported = (
            f"proxy scheme '{scheme}' is not supported (http://, https:// and socks5:// are)"
        )
    elif not host or not port:
        unsupported = "the proxy URL has no host or port"
    elif scheme != "http":
        unsupported = (
            f"a {scheme}:// proxy is spoken by aiohttp's client, not the gateway's own: "
            "set provider.transport (LYNKR_UPSTREAM_TRANSPORT) to auto or aiohttp"
        )
    return Proxy(host, port, auth, display, unsupported, text, scheme)


def speakable(proxy: Proxy) -> bool:
    """A proxy some transport can use (its scheme is known and it has a host and port)."""
    return proxy.scheme in SCHEMES and bool(proxy.host) and bool(proxy.port)


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


# --------------------------------------------------------------------------- CONNECT tunnels


class _Tunnel(asyncio.Protocol):
    """A connection to a proxy until its answer to CONNECT has arrived."""

    def __init__(self) -> None:
        self.buf = b""
        self.answer: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if self.answer.done():
            return
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                self.answer.set_result((0, "answer head too large"))
            return
        line = self.buf[:end].split(b"\r\n", 1)[0]
        match = STATUS.fullmatch(line)
        if match is None:
            self.answer.set_result((0, f"bad status line {line[:100]!r}"))
        else:
            reason = (match.group(3) or b"").decode("latin-1")
            self.answer.set_result((int(match.group(2)), reason))

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.answer.done():
            self.answer.set_result((0, "the proxy closed the connection"))


async def open_tunnel(proxy: Proxy, host: str, port: int, user_agent: str) -> asyncio.Transport:
    """A raw connection through ``proxy`` to ``host:port`` (after a 2xx to CONNECT), ready
    for TLS to the upstream. Raises :class:`ProxyError` saying which stage failed."""
    loop = asyncio.get_running_loop()
    try:
        transport, tunnel = await loop.create_connection(_Tunnel, proxy.host, proxy.port)
    except OSError as exc:
        detail = f"cannot connect to the proxy: {exc}"
        raise ProxyError(proxy.display, "connect", detail) from None
    try:
        shown = f"[{host}]" if ":" in host else host
        lines = [f"CONNECT {shown}:{port} HTTP/1.1", f"Host: {shown}:{port}"]
        lines.append(f"User-Agent: {user_agent}")
        if proxy.auth:
            lines.append(f"Proxy-Authorization: {proxy.auth}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, reason = await tunnel.answer
        if not 200 <= status < 300:
            raise refused(proxy, host, port, status, reason)
    except BaseException:
        transport.close()
        raise
    return transport


def refused(proxy: Proxy, host: str, port: int, status: int, reason: str) -> ProxyError:
    """The error for a proxy that would not open a tunnel (407: what to do about it)."""
    if not status:
        return ProxyError(proxy.display, "refused", f"no valid answer to CONNECT: {reason}")
    detail = f"the proxy refused CONNECT to {host}:{port} with HTTP {status}"
    if reason:
        detail += f" {reason}"
    if status == 407:
        detail += (
            " (it wants credentials: put user:password in the proxy URL, "
            "in HTTPS_PROXY or provider.proxy)"
            if proxy.auth is None
            else " (it did not accept the credentials in the proxy URL)"
        )
    return ProxyError(proxy.display, "refused", detail, status)
