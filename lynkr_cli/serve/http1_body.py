"""The gateway's HTTP/1.1 client: a response and its body as they arrive.

:class:`Response` is a :class:`~lynkr_cli.serve.transport.Response`; its :class:`Body`
is fed by the connection (:mod:`lynkr_cli.serve.http1`) and read by the gateway, with
read back-pressure: above ``READ_LIMIT`` unread bytes the socket stops being read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from multidict import CIMultiDict

from lynkr_cli.serve.transport import ResponseBase

READ_LIMIT = 2**17  # unread body bytes above which the socket stops being read


class Socket(Protocol):
    """What a body needs of its connection: back-pressure, and dropping it."""

    paused: bool

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def drop(self) -> None: ...


class Body:
    """The response body as it arrives (``aiohttp.StreamReader``'s reading API)."""

    __slots__ = ("_callbacks", "_chunks", "_conn", "_eof", "_exc", "_size", "_waiter")

    def __init__(self, conn: Socket | None) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._eof = False
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._callbacks: list[Callable[[], object]] = []
        self._conn = conn

    # -- fed by the connection ----------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        if self._size > READ_LIMIT and self._conn is not None:
            self._conn.pause()
        self._wake()

    def feed_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        self._conn = None
        self._wake()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def set_exception(self, exc: BaseException) -> None:
        if self._eof or self._exc is not None:
            return
        self._exc = exc
        self._conn = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- read by the gateway ------------------------------------------------------------
    def is_eof(self) -> bool:
        """The whole body has arrived (some of it may be unread)."""
        return self._eof

    def at_eof(self) -> bool:
        """The whole body has arrived and been read."""
        return self._eof and not self._chunks

    def on_eof(self, callback: Callable[[], object]) -> None:
        if self._eof:
            callback()
        else:
            self._callbacks.append(callback)

    def read_nowait(self) -> bytes:
        """Everything buffered (``b""`` when nothing is); raises a broken body's error."""
        chunks = self._chunks
        if chunks:
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
            if self._conn is not None and self._conn.paused:
                self._conn.resume()
            self._size = 0
            return data
        if self._exc is not None:
            raise self._exc
        return b""

    async def readany(self) -> bytes:
        """The next bytes, waiting for some; ``b""`` at the end."""
        while not self._chunks:
            if self._exc is not None:
                raise self._exc
            if self._eof:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.read_nowait()

    async def read(self) -> bytes:
        """The rest of the body."""
        if self._eof:
            return self.read_nowait()
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)


class Response(ResponseBase):
    """One upstream response (see the module doc for the API it shares with aiohttp's)."""

    __slots__ = ("_conn", "_url", "content", "headers", "reason", "status")
    content: Body

    def __init__(
        self, status: int, reason: str, headers: CIMultiDict[str], url: str, conn: Socket | None
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._url = url
        self._conn = conn
        self.content = Body(conn)

    @property
    def url(self) -> str:
        return self._url

    def release(self) -> None:
        """Done with the response: an unfinished body's connection is closed, not pooled."""
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not self.content.is_eof():
            conn.drop()
