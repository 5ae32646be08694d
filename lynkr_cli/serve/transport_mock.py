"""A transport without sockets, for unit tests: answers come from a function.

    async def handler(method, url, headers, data):
        return MockResponse(200, {"content-type": "application/json"}, b'{"ok": true}')

    sender = Sender(MockTransport(handler), settings.provider, Metrics(), "hop")

As httpx's ``MockTransport``: the sender, a provider or a plugin is tested without a
network; integration tests keep real sockets (a real server on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from typing import Any

from multidict import CIMultiDict

from lynkr_cli.serve.transport import Body, Response, TransportError, media_type

__all__ = ["MockResponse", "MockTransport", "chunks"]

Handler = Callable[[str, str, Mapping[str, str], bytes], Awaitable["MockResponse"]]


class MockTransport:
    """A transport whose answers come from ``handler(method, url, headers, data)``.

    No socket is opened: unit tests of the sender, of a provider or of a plugin swap
    the network for a function, as httpx's ``MockTransport`` does. ``calls`` records
    each request as ``(method, url, headers, data)``.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[tuple[str, str, dict[str, str], bytes]] = []
        self.closed = False

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], data: bytes = b""
    ) -> Response:
        self.calls.append((method, url, dict(headers), data))
        response = await self.handler(method, url, headers, data)
        response.url_ = url
        return response

    async def close(self) -> None:
        self.closed = True


class MockBody:
    """A body fed from bytes or an async iterable of chunks; an exception in the chunks
    (an item that is a :class:`TransportError`) is raised to the reader there."""

    def __init__(self, source: bytes | AsyncIterable[bytes | TransportError]) -> None:
        self._buffer: list[bytes] = []
        self._eof = False
        self._callbacks: list[Callable[[], object]] = []
        self._source: Any = None
        if isinstance(source, bytes):
            self._buffer = [source] if source else []
            self._eof = True
        else:
            self._source = source.__aiter__()

    def is_eof(self) -> bool:
        return self._eof

    def at_eof(self) -> bool:
        return self._eof and not self._buffer

    def on_eof(self, callback: Callable[[], object]) -> None:
        if self._eof:
            callback()
        else:
            self._callbacks.append(callback)

    def read_nowait(self) -> bytes:
        data = b"".join(self._buffer)
        self._buffer.clear()
        return data

    async def readany(self) -> bytes:
        if self._buffer:
            return self.read_nowait()
        if self._eof:
            return b""
        try:
            item = await self._source.__anext__()
        except StopAsyncIteration:
            self._end()
            return b""
        if isinstance(item, TransportError):
            raise item
        data: bytes = item
        return data

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)

    def _end(self) -> None:
        self._eof = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


class MockResponse:
    """An answer for :class:`MockTransport`: status, headers and a body (bytes, or an
    async iterable of chunks for a stream)."""

    def __init__(
        self,
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | AsyncIterable[bytes | TransportError] = b"",
    ) -> None:
        self.status = status
        self.headers: CIMultiDict[str] = CIMultiDict(headers)
        self._content = MockBody(body)
        self.url_ = ""
        self.closed = False

    @property
    def url(self) -> str:
        return self.url_

    @property
    def content_type(self) -> str:
        return media_type(self.headers)

    @property
    def content(self) -> Body:
        return self._content

    async def read(self) -> bytes:
        return await self._content.read()

    def release(self) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True


async def chunks(
    *parts: bytes | TransportError, delay: float = 0.0
) -> AsyncIterable[bytes | TransportError]:
    """An async iterable of ``parts`` for :class:`MockResponse`: a stream (a pause of
    ``delay`` before each part), cut where a part is a :class:`TransportError`."""
    for part in parts:
        if delay:
            await asyncio.sleep(delay)
        yield part
