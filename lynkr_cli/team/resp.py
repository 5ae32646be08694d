"""A small pipelined Redis client for the rate-limit hot path (RESP2 on asyncio).

**Why not redis-py here.** Every request on a team gateway with Redis limits makes one
script call. redis-py's asyncio client spends ~60-80 µs of CPU per call (a pool
checkout, a lock, its command packer and parser) and ~180 µs of wall time on loopback;
this client, one connection shared by every request and pipelined (the commands of
every request in one event-loop pass go out in one send, replies are matched in
order), spends a few µs a call on a busy gateway, and Redis itself about half the CPU
it spent on one send per command (measured with ``tests/bench/bench_scale.py``).
Replies are parsed by hiredis's C reader (it comes with redis-py's ``hiredis`` extra,
which lynkr's ``redis`` extra installs; :class:`PyReader` otherwise). redis-py remains
the client for everything off the hot path: the prompt cache, counter seeding,
``lynkr doctor``.

What it speaks: ``redis://``, ``rediss://`` (TLS, the system's certificate checks) and
``unix://`` URLs, ``AUTH`` with a password or a user and password, ``SELECT`` of a
database, and replies of every RESP2 type. What it does not: RESP3, pub/sub, cluster
redirections, Sentinel. A connection that fails, or a reply that takes longer than
``timeout``, fails every call waiting on it with :class:`RespConnectionError`; the next
call connects again.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class RespError(Exception):
    """An error reply from Redis (``NOSCRIPT …``, ``WRONGPASS …``)."""


class RespConnectionError(ConnectionError):
    """The connection failed, was closed, or a reply did not come in time."""


def pack(args: tuple[Any, ...]) -> bytes:
    """One command as a RESP array of bulk strings."""
    return b"*%d\r\n%b" % (len(args), pack_args(args))


def pack_args(args: Sequence[Any]) -> bytes:
    """Arguments as RESP bulk strings, without the array header (see :meth:`RespClient.run`)."""
    out = []
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(out)


def bulk_int(value: int) -> bytes:
    """One integer argument as a RESP bulk string."""
    digits = b"%d" % value
    return b"$%d\r\n%b\r\n" % (len(digits), digits)


class Script:
    """A Lua script with its ``EVALSHA`` and ``EVAL`` command heads encoded once."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()
        self.evalsha = pack_args(("EVALSHA", self.sha))
        self.eval = pack_args(("EVAL", body))


_INCOMPLETE = object()


def parse(buf: bytearray, pos: int) -> tuple[Any, int]:
    """The reply starting at ``pos`` and the position after it, or ``_INCOMPLETE``."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return _INCOMPLETE, pos
    kind, line = buf[pos], bytes(buf[pos + 1 : end])
    after = end + 2
    if kind == 0x3A:  # ':' integer
        return int(line), after
    if kind == 0x24:  # '$' bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buf) < after + size + 2:
            return _INCOMPLETE, pos
        return bytes(buf[after : after + size]), after + size + 2
    if kind == 0x2A:  # '*' array
        count = int(line)
        if count < 0:
            return None, after
        items = []
        for _ in range(count):
            item, after = parse(buf, after)
            if item is _INCOMPLETE:
                return _INCOMPLETE, pos
            items.append(item)
        return items, after
    if kind == 0x2B:  # '+' simple string
        return line, after
    if kind == 0x2D:  # '-' error
        return RespError(line.decode(errors="replace")), after
    raise RespConnectionError(f"not a Redis reply (byte {kind:#x})")


class PyReader:
    """:func:`parse` behind hiredis's ``Reader`` interface: ``feed`` bytes, then ``gets``
    a reply at a time (False until a whole one is there; an error reply is returned as a
    :class:`RespError`, a byte that starts no reply raises :class:`RespConnectionError`)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def gets(self) -> Any:
        if not self.buf:
            return False
        try:
            reply, after = parse(self.buf, 0)
        except ValueError as exc:  # a length or integer that is not a number
            raise RespConnectionError(f"not a Redis reply ({exc})") from None
        if reply is _INCOMPLETE:
            return False
        del self.buf[:after]
        return reply


def reader() -> Any:
    """hiredis's C parser (~15x faster than :func:`parse`) when it is installed, as it is
    with the ``redis`` extra; else :class:`PyReader`."""
    try:
        import hiredis
    except ImportError:  # pragma: no cover - the redis extra brings it
        return PyReader()
    return hiredis.Reader(protocolError=RespConnectionError, replyError=RespError)


class _Protocol(asyncio.Protocol):
    """Commands are queued and written together once per event-loop pass (one send for
    every request that called in that pass); replies are matched to callers in order."""

    def __init__(self, timeout: float, parser: Any) -> None:
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.reader = parser
        self.waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self.lost: BaseException | None = None
        self.out: list[bytes | Callable[[], bytes]] = []
        self.writes = 0  # sends to the socket (each carries every command of a loop pass)
        self._watch: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = RespConnectionError(f"connection to Redis lost: {exc or 'closed'}")
        self.out.clear()
        while self.waiting:
            future, _ = self.waiting.popleft()
            if not future.done():
                future.set_exception(self.lost)
        if self._watch is not None:
            self._watch.cancel()

    def data_received(self, data: bytes) -> None:
        reader, waiting = self.reader, self.waiting
        try:
            reader.feed(data)
            while True:
                reply = reader.gets()
                if reply is False:
                    return
                if not waiting:
                    raise RespConnectionError("a reply that no command asked for")
                future = waiting.popleft()[0]
                if future.done():
                    continue
                if isinstance(reply, RespError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except RespConnectionError:
            self.abort()

    def send(self, data: bytes | Callable[[], bytes]) -> asyncio.Future[Any]:
        """Queue one packed command; the future gets its reply (or the failure).

        ``data`` may be a function that packs the command: it is called when the pass's
        commands are written, so callers in the same pass can still add to it (the
        rate limiter's admissions of one key go out as one script call)."""
        if self.lost is not None:
            raise self.lost
        loop = self._loop
        future = loop.create_future()
        if not self.waiting and self._watch is None:
            self._watch = loop.call_later(self.timeout, self._check)
        self.waiting.append((future, time.monotonic()))
        out = self.out
        out.append(data)
        if len(out) == 1:
            loop.call_soon(self._write)
        return future

    def _write(self) -> None:
        out, self.out = self.out, []
        transport = self.transport
        if out and transport is not None and self.lost is None and not transport.is_closing():
            self.writes += 1
            data = [part if isinstance(part, bytes) else part() for part in out]
            transport.write(data[0] if len(data) == 1 else b"".join(data))

    def _check(self) -> None:
        """Abort the connection when the oldest reply is overdue (Redis hung, a cable)."""
        self._watch = None
        if not self.waiting:
            return
        late = time.monotonic() - self.waiting[0][1]
        if late >= self.timeout:
            self.abort()
            return
        self._watch = self._loop.call_later(self.timeout - late, self._check)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class RespClient:
    """One pipelined connection to Redis, opened on first use and reopened after a failure."""

    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        self.timeout = timeout
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.path = unquote(parts.path) if self.scheme == "unix" else ""
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        if "password" in query:
            self.password = query["password"][0]
        db = query.get("db", ["0"])[0]
        if self.scheme != "unix":
            db = parts.path.strip("/") or db
        self.db = int(db or 0)
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None

    async def call(self, *args: Any) -> Any:
        return await self.execute(pack(args))

    async def execute(self, command: bytes) -> Any:
        """One command already packed (:func:`pack`)."""
        proto = self._proto
        if proto is None or proto.lost is not None:
            proto = await self._connection()
        return await proto.send(command)

    async def connected(self) -> _Protocol:
        """The open connection (opened now if there is none), for :meth:`_Protocol.send`."""
        proto = self._proto
        if proto is None or proto.lost is not None:
            proto = await self._connection()
        return proto

    async def _connection(self) -> _Protocol:
        if self._connecting is not None:
            return await asyncio.shield(self._connecting)
        loop = asyncio.get_running_loop()
        self._connecting = loop.create_future()
        try:
            proto = await self._open()
        except BaseException as exc:
            failure = (
                exc
                if isinstance(exc, RespError | RespConnectionError)
                else RespConnectionError(f"cannot connect to Redis: {exc!r}")
            )
            self._connecting.set_exception(failure)
            self._connecting.exception()  # retrieved: no "never retrieved" warning
            self._connecting = None
            raise failure from None
        self._proto = proto
        self._connecting.set_result(proto)
        self._connecting = None
        return proto

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        proto = _Protocol(self.timeout, reader())
        async with asyncio.timeout(self.timeout * 2):
            if self.scheme == "unix":
                await loop.create_unix_connection(lambda: proto, self.path)
            else:
                context = ssl.create_default_context() if self.scheme == "rediss" else None
                await loop.create_connection(lambda: proto, self.host, self.port, ssl=context)
            if self.password is not None:
                auth = (self.username, self.password) if self.username else (self.password,)
                await proto.send(pack(("AUTH", *auth)))
            if self.db:
                await proto.send(pack(("SELECT", self.db)))
            await proto.send(pack(("CLIENT", "SETNAME", "lynkr-limits")))
        return proto

    async def script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """``script`` over ``keys`` and ``args`` (see :meth:`run`)."""
        tail = pack_args((len(keys), *keys, *args))
        return await self.run(script, 1 + len(keys) + len(args), tail)

    async def run(self, script: Script, count: int, tail: bytes) -> Any:
        """EVALSHA with ``count`` more arguments already packed in ``tail`` (numkeys, keys,
        args: :func:`pack_args`), sending the script itself once if Redis does not know
        it (NOSCRIPT: a restarted or flushed server)."""
        head = b"*%d\r\n" % (count + 2)
        try:
            return await self.execute(head + script.evalsha + tail)
        except RespError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.execute(head + script.eval + tail)

    async def aclose(self) -> None:
        if self._proto is not None:
            if self._proto.transport is not None:
                self._proto.transport.close()
            self._proto = None
