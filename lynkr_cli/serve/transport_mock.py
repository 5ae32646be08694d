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

from multidict import CIMultiDict

from lynkr_cli.serve.http1_body import Body
from lynkr_cli.serve.transport import Response, ResponseBase, TransportError

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


class MockResponse(ResponseBase):
    """An answer for :class:`MockTransport`: status, headers and a body (bytes, or an
    async iterable of chunks for a stream, read as they come; an item that is a
    :class:`TransportError` is raised to the reader there, as a cut connection is)."""

    def __init__(
        self,
        status: int = 200,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | AsyncIterable[bytes | TransportError] = b"",
    ) -> None:
        self.status = status
        self.headers: CIMultiDict[str] = CIMultiDict(headers)
        self._body = Body(None)  # the gateway's own body type, fed from ``body``
        self._source: AsyncIterable[bytes | TransportError] | None = None
        self._pump: asyncio.Future[None] | None = None
        if isinstance(body, bytes):
            self._body.feed(body)
            self._body.feed_eof()
        else:
            self._source = body
        self.url_ = ""
        self.closed = False

    @property
    def url(self) -> str:
        return self.url_

    @property
    def content(self) -> Body:  # type: ignore[override]
        if self._source is not None and self._pump is None:  # fed once someone reads
            self._pump = asyncio.ensure_future(self._fill(self._source))
        return self._body

    async def _fill(self, source: AsyncIterable[bytes | TransportError]) -> None:
        async for item in source:
            if isinstance(item, TransportError):
                self._body.set_exception(item)
                return
            self._body.feed(item)
        self._body.feed_eof()

    def release(self) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True
        if self._pump is not None:
            self._pump.cancel()


async def chunks(
    *parts: bytes | TransportError, delay: float = 0.0
) -> AsyncIterable[bytes | TransportError]:
    """An async iterable of ``parts`` for :class:`MockResponse`: a stream (a pause of
    ``delay`` before each part), cut where a part is a :class:`TransportError`."""
    for part in parts:
        if delay:
            await asyncio.sleep(delay)
        yield part
