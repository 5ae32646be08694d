"""A :class:`~lynkr_cli.serve.transport.Transport` on aiohttp's client, for what the
gateway's own HTTP/1.1 client does not speak: ``https://`` proxies (TLS to the proxy,
then the CONNECT tunnel inside it) and SOCKS proxies (``socks5://``, ``socks5h://``,
``socks4://``, through aiohttp-socks).

It costs ~120 µs more Python per request than :mod:`lynkr_cli.serve.http1`, so
``provider.transport = "auto"`` (the default) sends only the upstreams behind such a
proxy through it. The proxy is decided per origin exactly as ``http1`` decides it
(:class:`lynkr_cli.serve.proxy.Chooser`: ``provider.proxy``, else the environment), and
aiohttp's own environment lookup is off. aiohttp's errors become the transport's own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from lynkr_cli import __version__
from lynkr_cli.serve.proxy import Chooser, Proxy, speakable
from lynkr_cli.serve.transport import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    RemoteProtocolError,
    ResponseBase,
    TransportError,
    UnsupportedProtocol,
)

USER_AGENT = f"lynkr/{__version__}"


class AiohttpTransport:
    """One ``ClientSession`` per proxy (SOCKS needs its own connector), created on first use."""

    def __init__(
        self, connect_timeout: float, proxy: str = "", *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        """``ssl_context``: what TLS (to upstreams and to https proxies) verifies against;
        None is the system's roots (``SSL_CERT_FILE`` when set at start)."""
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context
        self._chooser = Chooser(proxy)
        self._routes: dict[tuple[str, str, int], Proxy | None] = {}
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], data: bytes = b""
    ) -> AiohttpResponse:
        proxy = self._proxy_for(url)
        session = self._session(proxy)
        http_proxy = proxy.url if proxy is not None and proxy.scheme in ("http", "https") else None
        sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers}
        try:
            resp = await session.request(
                method,
                URL(url, encoded=True),  # the path as given: a signature covers it
                headers=sent,
                data=data or None,
                proxy=http_proxy,
                allow_redirects=False,
                auto_decompress=False,
            )
        except Exception as exc:
            raise _mapped(exc, url, proxy, self.connect_timeout) from None
        return AiohttpResponse(resp)

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def _proxy_for(self, url: str) -> Proxy | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnsupportedProtocol(f"not an http(s) URL with a host (scheme {parts.scheme!r})")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UnsupportedProtocol("the URL's port is not a number") from None
        key = (parts.scheme, parts.hostname, port)
        if key not in self._routes:
            self._routes[key] = self._chooser.choose(parts.scheme, parts.hostname, port)
        proxy = self._routes[key]
        if proxy is not None and not speakable(proxy):
            raise ProxyError(proxy.display, "unsupported", proxy.unsupported or "unusable proxy")
        return proxy

    def _session(self, proxy: Proxy | None) -> aiohttp.ClientSession:
        socks = proxy is not None and proxy.scheme.startswith("socks")
        key = proxy.url if socks and proxy is not None else ""
        session = self._sessions.get(key)
        if session is None or session.closed:
            tls: ssl.SSLContext | bool = self.ssl_context or True
            connector = (
                _socks_connector(proxy.url, tls)
                if socks and proxy is not None
                else aiohttp.TCPConnector(limit=0, ssl=tls)
            )
            timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                trust_env=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
            self._sessions[key] = session
        return session


def _socks_connector(url: str, tls: ssl.SSLContext | bool) -> aiohttp.BaseConnector:
    """A connector through the SOCKS proxy ``url``: as curl reads the schemes, ``socks5h``
    and ``socks4a`` let the proxy resolve the upstream's name, ``socks5``/``socks4`` resolve
    it here."""
    from aiohttp_socks import ProxyConnector, ProxyType

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    kind = ProxyType.SOCKS4 if scheme.startswith("socks4") else ProxyType.SOCKS5
    connector: aiohttp.BaseConnector = ProxyConnector(
        proxy_type=kind,
        host=parts.hostname or "",
        port=parts.port or 1080,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        rdns=scheme in ("socks5h", "socks4a"),
        limit=0,
        ssl=tls,
    )
    return connector


def _mapped(exc: BaseException, url: str, proxy: Proxy | None, timeout: float) -> TransportError:
    """aiohttp's (and aiohttp-socks') exception as the transport's own."""
    origin = _origin(url)
    where = f" through the proxy {proxy.display}" if proxy is not None else ""
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        status = exc.status
        detail = f"the proxy refused CONNECT to {origin} with HTTP {status}"
        if status == 407:
            detail += " (it wants credentials: put user:password in the proxy URL)"
        display = proxy.display if proxy is not None else "?"
        return ProxyError(display, "refused", detail, status)
    if isinstance(exc, aiohttp.ClientProxyConnectionError) and proxy is not None:
        return ProxyError(proxy.display, "connect", f"cannot connect to the proxy: {exc.os_error}")
    if type(exc).__module__.startswith(("aiohttp_socks", "python_socks")) and proxy is not None:
        return ProxyError(proxy.display, "connect", f"SOCKS: {exc}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError | asyncio.TimeoutError):
        return ConnectTimeout(f"connecting to {origin}{where} took over {timeout:g}s")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(f"cannot connect to {origin}{where}: {exc.os_error}", exc.os_error)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ReadError(f"the upstream closed the connection before answering{where}")
    if isinstance(exc, aiohttp.ClientResponseError):
        return RemoteProtocolError(exc.message or type(exc).__name__)
    if isinstance(exc, aiohttp.InvalidURL):
        return UnsupportedProtocol("not a URL aiohttp can reach")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ConnectError(f"cannot reach {origin}{where}: {exc or type(exc).__name__}")
    raise exc


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class _Content:
    """aiohttp's ``StreamReader``, its payload errors as :class:`ReadError`."""

    __slots__ = ("_reader",)

    def __init__(self, reader: aiohttp.StreamReader) -> None:
        self._reader = reader

    def is_eof(self) -> bool:
        return self._reader.is_eof()

    def at_eof(self) -> bool:
        return self._reader.at_eof()

    def on_eof(self, callback: Callable[[], object]) -> None:
        self._reader.on_eof(callback)  # type: ignore[arg-type]

    def read_nowait(self) -> bytes:
        try:
            return self._reader.read_nowait()
        except aiohttp.ClientError as exc:
            raise ReadError(f"response body is incomplete ({exc})") from None

    async def readany(self) -> bytes:
        try:
            return await self._reader.readany()
        except aiohttp.ClientError as exc:
            raise ReadError(f"response body is incomplete ({exc})") from None

    async def read(self) -> bytes:
        try:
            return await self._reader.read()
        except aiohttp.ClientError as exc:
            raise ReadError(f"response body is incomplete ({exc})") from None


class AiohttpResponse(ResponseBase):
    """A ``ClientResponse`` as a :class:`~lynkr_cli.serve.transport.Response`."""

    __slots__ = ("_resp", "content", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._resp = resp
        self.status = resp.status
        self.headers: CIMultiDict[str] = CIMultiDict(resp.headers)
        self.content = _Content(resp.content)

    @property
    def url(self) -> str:
        return str(self._resp.url)

    def release(self) -> None:
        if self.content.is_eof():
            self._resp.release()
        else:
            self._resp.close()

    def close(self) -> None:
        self._resp.close()
