"""The upstream transport seam: one request in, one streaming response out.

:class:`Transport` is what :class:`lynkr_cli.serve.upstream.Sender` sends through.
Three implementations exist:

- :class:`lynkr_cli.serve.http1.Pool`: the gateway's own HTTP/1.1 client (the fast
  path: keep-alive pool, strict parser, HTTP proxies through CONNECT);
- :class:`lynkr_cli.serve.transport_aiohttp.AiohttpTransport`: aiohttp's client, for
  what ``http1`` does not speak (``https://`` and SOCKS proxies);
- :class:`lynkr_cli.serve.transport_mock.MockTransport`: a handler instead of
  sockets, for unit tests (as httpx's ``MockTransport``).

:func:`lynkr_cli.serve.upstream.open_transport` picks one from ``provider.transport``.

Every failure a transport raises is one of these (drawn as httpx draws its own)::

    TransportError
    ├── TimeoutException
    │   ├── ConnectTimeout ......... no connection within provider.connect_timeout
    │   └── ReadTimeout ............ the transport's own read deadline passed
    ├── NetworkError
    │   ├── ConnectError ........... the upstream could not be reached (DNS, refused, TLS)
    │   ├── ReadError .............. the connection ended or broke while reading the answer
    │   └── WriteError ............. the request could not be written
    ├── ProxyError ................. the proxy failed: ``stage`` says where
    ├── ProtocolError
    │   ├── LocalProtocolError ..... lynkr would have sent something invalid
    │   └── RemoteProtocolError .... the answer is not valid HTTP (never retried: the
    │                                upstream already received the request)
    └── UnsupportedProtocol ........ a URL the transport cannot reach (scheme, no host)

A response's body raises :class:`ReadError` when it is cut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from multidict import CIMultiDict

__all__ = [
    "Body",
    "ConnectError",
    "ConnectTimeout",
    "LocalProtocolError",
    "NetworkError",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Response",
    "TimeoutException",
    "Transport",
    "TransportError",
    "UnsupportedProtocol",
    "WriteError",
    "decoded",
]


class TransportError(Exception):
    """Base of every failure a transport raises; the message never holds a credential."""


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class NetworkError(TransportError):
    pass


class ConnectError(NetworkError):
    """The upstream could not be reached; ``os_error`` says why when the OS did."""

    def __init__(self, message: str, os_error: OSError | None = None) -> None:
        super().__init__(message)
        self.os_error = os_error


class ReadError(NetworkError):
    pass


class WriteError(NetworkError):
    pass


class ProxyError(TransportError):
    """The upstream could not be reached through the proxy. ``stage`` says where it failed
    (``connect``: the proxy is unreachable, ``refused``: it answered CONNECT with
    ``status``, ``tls``: TLS to the upstream through the tunnel, ``unsupported``: a proxy
    this transport cannot speak). The message names the proxy as ``scheme://host:port``,
    never its credentials."""

    def __init__(self, display: str, stage: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"through the proxy {display}: {detail}")
        self.proxy = display
        self.stage = stage
        self.status = status


class ProtocolError(TransportError):
    pass


class LocalProtocolError(ProtocolError):
    pass


class RemoteProtocolError(ProtocolError):
    """The upstream's answer is not valid HTTP; ``detail`` says how (never a header's value)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"malformed HTTP/1.1 answer: {detail}")
        self.detail = detail


class UnsupportedProtocol(TransportError):
    pass


# --------------------------------------------------------------------------- the protocols


class Body(Protocol):
    """A response body as it arrives (the reading API of aiohttp's ``StreamReader``)."""

    def is_eof(self) -> bool:
        """The whole body has arrived (some of it may be unread)."""

    def at_eof(self) -> bool:
        """The whole body has arrived and been read."""

    def on_eof(self, callback: Callable[[], object]) -> None: ...

    def read_nowait(self) -> bytes:
        """Everything buffered (``b""`` when nothing is); raises a broken body's error."""

    async def readany(self) -> bytes:
        """The next bytes, waiting for some; ``b""`` at the end."""

    async def read(self) -> bytes:
        """The rest of the body."""


class Response(Protocol):
    """One upstream response, returned once its head has arrived."""

    status: int
    headers: CIMultiDict[str]

    @property
    def url(self) -> str: ...

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters."""

    @property
    def content(self) -> Body: ...

    async def read(self) -> bytes: ...

    def release(self) -> None:
        """Done with the response: an unfinished body's connection is closed, not reused."""

    def close(self) -> None: ...


class Transport(Protocol):
    async def request(
        self, method: str, url: str, headers: Mapping[str, str], data: bytes = b""
    ) -> Response:
        """Send one request; the response once its head has arrived. Raises TransportError."""

    async def close(self) -> None: ...


class ResponseBase:
    """What every :class:`Response` derives from its headers and body alike."""

    __slots__ = ()
    headers: CIMultiDict[str]
    content: Body

    @property
    def content_type(self) -> str:
        return media_type(self.headers)

    async def read(self) -> bytes:
        """The rest of the body."""
        return await self.content.read()


def media_type(headers: Mapping[str, str]) -> str:
    value = headers.get("content-type")
    if not value:
        return "application/octet-stream"
    return value.partition(";")[0].strip().lower()


# --------------------------------------------------------------------------- decoding bodies


class Decoder(Protocol):
    """Turns an upstream's body, as it arrives, into the bytes the gateway reads."""

    def feed(self, data: bytes) -> bytes:
        """Bytes for the next part of the body (``b""`` while a frame is incomplete)."""

    def end(self) -> bytes:
        """The body ended: what is left, or :class:`ReadError` when it ended mid-frame."""


def decoded(resp: Response, decoder: Decoder, content_type: str) -> Response:
    """``resp`` with its body read through ``decoder`` and its ``content-type`` replaced:
    for a provider whose upstream frames a stream otherwise (AWS event-stream), decoded
    into what the gateway reads (``text/event-stream`` of Messages events)."""
    return _Decoded(resp, decoder, content_type)


class _DecodedBody:
    __slots__ = ("_decoder", "_ended", "_inner")

    def __init__(self, inner: Body, decoder: Decoder) -> None:
        self._inner = inner
        self._decoder = decoder
        self._ended = False

    def is_eof(self) -> bool:
        return self._inner.is_eof()

    def at_eof(self) -> bool:
        return self._ended

    def on_eof(self, callback: Callable[[], object]) -> None:
        self._inner.on_eof(callback)

    def read_nowait(self) -> bytes:
        data = self._inner.read_nowait()
        out = self._decoder.feed(data) if data else b""
        if self._inner.at_eof() and not self._ended:
            out += self._finish()
        return out

    async def readany(self) -> bytes:
        while not self._ended:
            data = await self._inner.readany()
            if not data:
                return self._finish()
            out = self._decoder.feed(data)
            if out:
                return out
        return b""

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)

    def _finish(self) -> bytes:
        self._ended = True
        return self._decoder.end()


class _Decoded(ResponseBase):
    __slots__ = ("_inner", "content", "headers", "status")

    def __init__(self, inner: Response, decoder: Decoder, content_type: str) -> None:
        self._inner = inner
        self.status = inner.status
        self.headers: CIMultiDict[str] = CIMultiDict(inner.headers)
        self.headers["content-type"] = content_type
        self.content: Body = _DecodedBody(inner.content, decoder)

    @property
    def url(self) -> str:
        return self._inner.url

    def release(self) -> None:
        self._inner.release()

    def close(self) -> None:
        self._inner.close()
