"""A lean HTTP/1.1 client for upstream calls: pooled keep-alive connections, nothing else.

aiohttp's ``ClientSession`` spends ~120 µs of Python per request (URL and header
objects, payload registry, tracing hooks, timers, the connector's bookkeeping)
before a byte moves; the gateway's per-request budget is smaller than that. A
request here is one pre-rendered request line per URL, the headers joined into
the same write as the body, and a response parsed straight out of the socket
buffer.

What it does: ``http``/``https`` (TLS with the system's default verification),
HTTP proxies (see :mod:`lynkr_cli.serve.proxy`: CONNECT tunnels for https, the
absolute-form request line for http),
``Content-Length``, chunked and close-delimited bodies, 1xx responses skipped
(the parser, strict per RFC 9112, is :mod:`lynkr_cli.serve.http1_parse`; an answer
it refuses is a :class:`BadResponse` and its connection is closed, never pooled),
keep-alive reuse (a pooled connection the upstream closed before answering is
retried once on a fresh one: it never saw the request; one timer per pool closes
connections idle for ``IDLE_SECONDS``), read back-pressure, and the connect
timeout. It is one :class:`~lynkr_cli.serve.transport.Transport`: everything it
raises is a :class:`~lynkr_cli.serve.transport.TransportError`. A proxy it cannot
speak (``https://``, SOCKS) is refused, or, when the pool has a ``fallback``
transport, that origin's requests go through the fallback instead.
It never asks for compressed bodies: the gateway relays bytes as they come.

The response is a :class:`~lynkr_cli.serve.transport.Response`. The connection goes
back to the pool as soon as the end of the body arrives, so ``release()`` after
that is free.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Callable, Mapping
from typing import NamedTuple, cast
from urllib.parse import quote, unquote, urlsplit

from multidict import CIMultiDict

from lynkr_cli import __version__
from lynkr_cli.serve.http1_body import Body, Response
from lynkr_cli.serve.http1_parse import UNTIL_CLOSE, BadResponse, Parser
from lynkr_cli.serve.proxy import Chooser, Proxy, open_tunnel, speakable
from lynkr_cli.serve.transport import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ProxyError,
    ReadError,
    Transport,
    TransportError,
    UnsupportedProtocol,
)
from lynkr_cli.serve.transport import Response as AnyResponse

__all__ = ["BadResponse", "Body", "ConnectError", "Pool", "ProxyError", "Response"]

IDLE_SECONDS = 15.0  # a pooled connection idle this long is closed (aiohttp's default)
MAX_IDLE = 256  # idle connections kept per upstream origin
USER_AGENT = f"lynkr/{__version__}"


class _StaleConnection(ReadError):
    """A reused connection closed before any byte of the answer: safe to send again."""


class _Target(NamedTuple):
    key: tuple[str, int, bool]
    host: str
    port: int
    tls: bool
    origin: str
    start: bytes  # request line, Host and the fixed headers
    proxy: Proxy | None
    delegate: bool  # a proxy this pool cannot speak: the fallback transport sends it


class _Conn(Parser, asyncio.Protocol):
    """One keep-alive connection; it parses the answer to the request it last sent."""

    def __init__(self, pool: Pool, key: tuple[str, int, bool]) -> None:
        super().__init__()
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.url = ""
        self.waiter: asyncio.Future[Response] | None = None
        self.resp: Response | None = None
        self.reused = False
        self.answered = False
        self.closed = False
        self.paused = False
        self.idle_since = 0.0

    # -- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self.waiter is None and self.resp is None:
            self.drop()  # bytes nobody asked for: the connection is not in a known state
            return
        self.answered = True
        self.buf = self.buf + data if self.buf else data
        try:
            self.parse()
        except BadResponse as exc:
            self._fail(exc)
            self.drop()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost() does the rest

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.transport = None
        self.pool.forget(self)
        resp = self.resp
        if resp is not None and self.state == UNTIL_CLOSE and exc is None:
            self.resp = None
            resp.content.feed_eof()
            return
        if self.waiter is not None and not self.answered and self.reused:
            self._fail(_StaleConnection())
        else:
            message = "the upstream closed the connection"
            if exc is not None:
                message += f": {exc}"
            if self.waiter is not None:
                self._fail(ReadError(message + " before answering"))
            else:
                self._fail(ReadError(f"response body is incomplete ({message})"))

    # -- sending ------------------------------------------------------------------------
    async def send(self, head: bytes, data: bytes, url: str, no_body: bool) -> Response:
        transport = self.transport
        if transport is None:
            raise _StaleConnection()
        self.url = url
        self.no_body = no_body
        self.answered = False
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.waiter = waiter
        if len(data) < 65536:
            transport.write(head + data)
        else:
            transport.writelines((head, data))
        try:
            return await waiter
        except BaseException:
            self.waiter = None
            self.drop()  # an answer may still come: this connection cannot be reused
            raise

    def drop(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def _fail(self, exc: TransportError) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        resp, self.resp = self.resp, None
        if resp is not None:
            resp.content.set_exception(exc)

    # -- the parser's hooks -------------------------------------------------------------
    def on_head(self, status: int, reason: str, headers: CIMultiDict[str]) -> None:
        self.resp = resp = Response(status, reason, headers, self.url, self)
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(resp)

    def on_body(self, data: bytes) -> None:
        if self.resp is not None:
            self.resp.content.feed(data)

    def on_end(self) -> None:
        """The body is complete: hand the connection back (or close it), then end the body."""
        resp, self.resp = self.resp, None
        self.resume()  # its reader no longer controls the socket
        if self.keep_alive and not self.buf and not self.closed:
            self.pool.put(self)
        else:
            self.drop()
        if resp is not None:
            resp._conn = None
            resp.content.feed_eof()


class Pool:
    """Keep-alive connections per origin, and the one request method the gateway needs."""

    def __init__(
        self,
        connect_timeout: float,
        proxy: str = "",
        *,
        fallback: Callable[[], Transport] | None = None,
    ) -> None:
        """``proxy``: "" follows the proxy environment variables, "none" never uses a
        proxy, a URL is the proxy for every upstream (see :mod:`lynkr_cli.serve.proxy`).
        ``fallback`` makes the transport for origins whose proxy this pool cannot speak
        (created on first need); without one those requests raise :class:`ProxyError`."""
        self.connect_timeout = connect_timeout
        self._chooser = Chooser(proxy)
        self._fallback_factory = fallback
        self._fallback: Transport | None = None
        self._routes: dict[tuple[str, int, bool], Proxy | None] = {}  # per origin
        self._idle: dict[tuple[str, int, bool], list[_Conn]] = {}
        self._targets: dict[tuple[str, str], _Target] = {}
        self._ssl: ssl.SSLContext | None = None
        self._open: set[_Conn] = set()
        self._reaper: asyncio.TimerHandle | None = None  # armed while a connection is idle

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], data: bytes = b""
    ) -> AnyResponse:
        """Send one request; the response once its head has arrived."""
        target = self._targets.get((method, url)) or self._target(method, url)
        if target.delegate:
            return await self._delegate().request(method, url, headers, data)
        head = _render(target.start, headers, data, method)
        conn = self._reuse(target.key)
        if conn is not None:
            try:
                return await conn.send(head, data, url, method == "HEAD")
            except _StaleConnection:
                pass  # the upstream had closed it; it never saw the request
        conn = await self._connect(target)
        return await conn.send(head, data, url, method == "HEAD")

    async def close(self) -> None:
        if self._fallback is not None:
            await self._fallback.close()
            self._fallback = None
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for conn in list(self._open):
            conn.drop()
        self._idle.clear()
        self._open.clear()

    def _delegate(self) -> Transport:
        if self._fallback is None:
            assert self._fallback_factory is not None
            self._fallback = self._fallback_factory()
        return self._fallback

    # -- connections --------------------------------------------------------------------
    def put(self, conn: _Conn) -> None:
        idle = self._idle.setdefault(conn.key, [])
        if len(idle) >= MAX_IDLE:
            conn.drop()
            return
        loop = asyncio.get_running_loop()
        conn.idle_since = loop.time()
        conn.reused = True
        idle.append(conn)
        if self._reaper is None:
            self._reaper = loop.call_at(conn.idle_since + IDLE_SECONDS, self._reap)

    def _reap(self) -> None:
        """The pool's one timer: close the connections idle for ``IDLE_SECONDS``, then
        wait for the next one to come due (none idle: no timer until one is)."""
        self._reaper = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() - IDLE_SECONDS + 0.001  # a timer may fire a hair early
        due: float | None = None
        for idle in self._idle.values():  # each list is oldest first: put() appends
            expired = 0
            while expired < len(idle) and idle[expired].idle_since <= deadline:
                expired += 1
            for conn in idle[:expired]:
                conn.drop()
            del idle[:expired]
            if idle and (due is None or idle[0].idle_since < due):
                due = idle[0].idle_since
        if due is not None:
            self._reaper = loop.call_at(due + IDLE_SECONDS, self._reap)

    def forget(self, conn: _Conn) -> None:
        self._open.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def _reuse(self, key: tuple[str, int, bool]) -> _Conn | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            conn = idle.pop()
            if conn.closed or conn.transport is None or conn.transport.is_closing():
                continue
            if now - conn.idle_since > IDLE_SECONDS:
                conn.drop()
                continue
            return conn
        return None

    async def _connect(self, target: _Target) -> _Conn:
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if target.tls else None
        proxy = target.proxy
        try:
            async with asyncio.timeout(self.connect_timeout):
                if proxy is not None:
                    conn = await self._connect_via(proxy, target, context)
                else:
                    _transport, conn = await loop.create_connection(
                        lambda: _Conn(self, target.key),
                        target.host,
                        target.port,
                        ssl=context,
                        server_hostname=target.host if context is not None else None,
                    )
        except TimeoutError:
            where = target.origin
            if proxy is not None:
                where += f" through the proxy {proxy.display}"
            raise ConnectTimeout(
                f"connecting to {where} took over {self.connect_timeout:g}s"
            ) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {target.origin}: {exc}", exc) from None
        self._open.add(conn)
        return conn

    async def _connect_via(
        self, proxy: Proxy, target: _Target, context: ssl.SSLContext | None
    ) -> _Conn:
        """A connection to the upstream through ``proxy``: for https a CONNECT tunnel with
        TLS to the upstream inside it, for http a connection to the proxy itself."""
        if proxy.unsupported:
            raise ProxyError(proxy.display, "unsupported", proxy.unsupported)
        loop = asyncio.get_running_loop()
        if context is None:
            try:
                _transport, conn = await loop.create_connection(
                    lambda: _Conn(self, target.key), proxy.host, proxy.port
                )
            except OSError as exc:
                detail = f"cannot connect to the proxy: {exc}"
                raise ProxyError(proxy.display, "connect", detail) from None
            return conn
        transport = await open_tunnel(proxy, target.host, target.port, USER_AGENT)
        try:
            conn = _Conn(self, target.key)
            try:
                tls = await loop.start_tls(transport, conn, context, server_hostname=target.host)
            except OSError as exc:  # ssl.SSLError included
                detail = f"TLS to {target.origin} through the tunnel failed: {exc}"
                raise ProxyError(proxy.display, "tls", detail) from None
            if tls is None:
                detail = "the tunnel closed during the TLS handshake"
                raise ProxyError(proxy.display, "tls", detail)
            conn.connection_made(tls)
            return conn
        except BaseException:
            transport.close()
            raise

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _target(self, method: str, url: str) -> _Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            scheme = parts.scheme or "none"
            raise UnsupportedProtocol(
                f"not an http(s) URL with a host (scheme {scheme!r}, host {parts.hostname!r})"
            )
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        host = parts.hostname
        key = (host, port, tls)
        if key in self._routes:
            proxy = self._routes[key]
        else:  # decided once per origin: the hot path never looks at the environment
            proxy = self._routes[key] = self._chooser.choose(parts.scheme, host, port)
        netloc = parts.netloc.rpartition("@")[2]
        origin = f"{parts.scheme}://{netloc}"
        path = wire_path(parts.path, parts.query)
        if proxy is not None and not tls:
            path = origin + path  # the absolute form, for the proxy
        lines = [f"{method} {path} HTTP/1.1", f"Host: {netloc}", f"User-Agent: {USER_AGENT}"]
        lines.append("Accept-Encoding: identity")
        if parts.username is not None:
            user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append(f"Authorization: Basic {base64.b64encode(user.encode()).decode()}")
        if proxy is not None and not tls and proxy.auth:
            lines.append(f"Proxy-Authorization: {proxy.auth}")
        start = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        delegate = proxy is not None and proxy.scheme != "http" and speakable(proxy)
        delegate = delegate and self._fallback_factory is not None
        target = _Target(key, host, port, tls, origin, start, proxy, delegate)
        if len(self._targets) < 1024:
            self._targets[(method, url)] = target
        return target


# What a request target may carry as it is (RFC 3986 pchar, "/" and "?", and "%" of an
# escape already made); anything else (a space, non-ASCII) is percent-encoded.
_TARGET_SAFE = "/:@!$&'()*+,;=-._~%?"


def wire_path(path: str, query: str) -> str:
    """The request target as the URL spells it: an escape the caller made (``%3A`` in a
    Bedrock model id) stays one, since a signature (SigV4) covers the path as sent."""
    target = (path or "/") + (f"?{query}" if query else "")
    return quote(target, safe=_TARGET_SAFE)


def _render(start: bytes, headers: Mapping[str, str], data: bytes, method: str) -> bytes:
    text = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise LocalProtocolError("a header name or value contains a line break")
    if data or method not in ("GET", "HEAD"):
        text += f"Content-Length: {len(data)}\r\n"
    return start + text.encode() + b"\r\n"
