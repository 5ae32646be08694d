"""Writing answers: the byte relay, event streams, accumulated JSON and cache replay.

Streaming rules kept here: ``message_start`` first; each batch of events is
written (and so flushed) as it arrives; a ``ping`` goes out during silences; a
failure after the 200 becomes an SSE ``error`` event and a clean close, never a
made-up ``message_stop``. The SSE headers are sent only with the first event, so
an upstream that fails before producing one still gets a proper HTTP error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from aiohttp import web

from lynkr_cli.serve.context import Context
from lynkr_cli.serve.errors import ApiError, scrub
from lynkr_cli.serve.sse import PING, Accumulator, encode, encode_all, frame_fields, replay_events
from lynkr_cli.serve.state import Gateway, cacheable
from lynkr_cli.serve.streams import Estimate, Event, read_frames, wait_until
from lynkr_cli.serve.transport import Response, TransportError

JSON = "application/json"
CacheCheck = Callable[[], bool]
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}


def json_response(ctx: Context, data: bytes, status: int = 200) -> web.Response:
    ctx.status = status
    ctx.first_byte()
    headers = {"request-id": ctx.request_id, "x-lynkr-cache": ctx.cache, "content-type": JSON}
    if ctx.extra:
        headers.update(ctx.extra)
    lines = _rate_lines(ctx, headers)
    if not lines:
        return web.Response(body=data, status=status, headers=headers)
    resp = _JsonAnswer(body=data, status=status, headers=headers)
    resp.lines = lines
    return resp


def _rate_lines(ctx: Context, headers: dict[str, str]) -> bytes:
    """The rate-limit headers of ``ctx``, as header lines for :func:`_write_head`; or, with
    an aiohttp that cannot take them, put in ``headers`` (and ``b""``)."""
    rate = ctx.rate
    if rate is None:
        return b""
    if _LINES_OK:
        lines: bytes = rate.header_lines()
        return lines
    headers.update(rate.headers())
    return b""


async def _write_head(resp: web.StreamResponse, lines: bytes) -> None:
    """aiohttp's ``StreamResponse._write_headers``, with ``lines`` (header lines this
    module rendered, ``name: value\r\n`` each) added to the serialized head.

    The rate-limit headers go on every answer of the team gateway; through aiohttp's
    header map they cost about 3,500 instructions each (copied twice, case-folded,
    checked character by character for CR/LF). Rendered here from integers and RFC 3339
    times they cannot hold a CR or LF, and are written as they are.
    """
    request = resp._req
    writer: Any = resp._payload_writer
    assert request is not None and writer is not None
    version = request.version
    status_line = f"HTTP/{version[0]}.{version[1]} {resp.status} {resp.reason}"
    await writer.write_headers(status_line, resp.headers)
    head = writer._headers_buf
    writer._headers_buf = head[:-2] + lines + b"\r\n"  # before the blank line
    if resp._send_headers_immediately:
        writer.send_headers()


def _buffered_head() -> bool:
    """Whether this aiohttp keeps the serialized head in ``StreamWriter._headers_buf``
    until the first write (3.12 on): then :func:`_write_head` can add lines to it. With
    an older aiohttp the rate-limit headers go through the header map as before."""
    from aiohttp.http_writer import StreamWriter

    return callable(getattr(StreamWriter, "send_headers", None))


_LINES_OK = _buffered_head()


class _JsonAnswer(web.Response):
    """A JSON answer that also carries pre-rendered header lines (:func:`_write_head`)."""

    lines = b""

    async def _write_headers(self) -> None:
        await _write_head(self, self.lines)


class _EventStream(web.StreamResponse):
    """An SSE response whose headers go out with the first events, in the same send.

    aiohttp's StreamResponse sends its headers on their own at ``prepare()``: a
    second syscall per stream for nothing, since the gateway opens a stream only
    when it has its first events to write. It carries pre-rendered header lines too
    (:func:`_write_head`).
    """

    _send_headers_immediately = False
    lines = b""

    async def _write_headers(self) -> None:
        if self.lines:
            await _write_head(self, self.lines)
        else:  # no rate-limit headers (or an aiohttp that cannot take them as lines)
            await super()._write_headers()


async def open_sse(request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """Start the SSE answer; its headers leave with the first ``write``."""
    headers = {**SSE_HEADERS, "request-id": ctx.request_id, "x-lynkr-cache": ctx.cache}
    if ctx.extra:
        headers.update(ctx.extra)
    lines = _rate_lines(ctx, headers)
    resp = _EventStream(status=200, headers=headers)
    resp.lines = lines
    await resp.prepare(request)
    ctx.first_byte()
    ctx.sse = resp
    return resp


async def replay(
    request: web.BaseRequest,
    ctx: Context,
    message: dict[str, Any],
    *,
    stream: bool,
    memo: dict[tuple[str, bool], bytes] | None = None,
) -> web.StreamResponse:
    """A stored Message as JSON or SSE, the model renamed to the client's. ``memo`` keeps
    the rendered bytes per (client model, stream) so repeated hits render nothing."""
    ctx.usage(message.get("usage"))
    data = memo.get((ctx.client_model, stream)) if memo is not None else None
    if data is None:
        message = {**message, "model": ctx.client_model}
        data = encode_all(replay_events(message)) if stream else orjson.dumps(message)
        if memo is not None and len(memo) < 8:
            memo[(ctx.client_model, stream)] = data
    if not stream:
        return json_response(ctx, data)
    resp = await open_sse(request, ctx)
    # Headers, every event and the end of the body in one write.
    await resp.write_eof(data)
    return resp


async def read_json(gw: Gateway, ctx: Context, upstream: Response) -> tuple[bytes, dict[str, Any]]:
    """The whole upstream body, and it parsed as a JSON object."""
    try:
        if upstream.content.is_eof():  # all there already: no timer needed
            raw = await upstream.read()
        else:
            timing = gw.timing(ctx)
            loop = asyncio.get_running_loop()
            when = min(loop.time() + timing.idle_timeout, timing.deadline)
            raw = await wait_until(upstream.read(), when, loop)
    except TimeoutError:
        upstream.close()
        raise ApiError(
            504, f"upstream {ctx.provider} stalled sending its answer (provider.idle_timeout)"
        ) from None
    except TransportError as exc:
        upstream.close()
        raise ApiError(
            502, f"upstream {ctx.provider} broke the response: {exc}", transient=True
        ) from None
    upstream.release()
    return raw, _json_object(raw, ctx.provider)


async def native_json(
    gw: Gateway, ctx: Context, upstream: Response, key: str | None
) -> web.Response:
    """A non-streaming Anthropic-format answer: the model renamed, usage observed."""
    raw, message = await read_json(gw, ctx, upstream)
    ctx.usage(message.get("usage"))
    if gw.audit_full:
        ctx.answer = message
    if message.get("model") != ctx.client_model:
        message["model"] = ctx.client_model
        raw = orjson.dumps(message)
    if key is not None and cacheable(message):
        gw.cache_put(key, message)
    return json_response(ctx, raw)


async def translated_json(
    gw: Gateway,
    ctx: Context,
    upstream: Response,
    key: str | None,
    estimate: Estimate | None = None,
) -> web.Response:
    """A non-streaming chat-completions answer translated to a Message."""
    message = await translated_message(gw, ctx, upstream, estimate)
    if gw.audit_full:
        ctx.answer = message
    if key is not None and cacheable(message):
        gw.cache_put(key, message)
    return json_response(ctx, orjson.dumps(message))


async def translated_message(
    gw: Gateway, ctx: Context, upstream: Response, estimate: Estimate | None = None
) -> dict[str, Any]:
    from lynkr_cli.serve.translate import UpstreamStreamError, from_openai_response

    _raw, doc = await read_json(gw, ctx, upstream)
    if doc.get("error"):
        detail = doc["error"].get("message") if isinstance(doc["error"], dict) else doc["error"]
        raise ApiError(502, f"upstream {ctx.provider} answered with an error: {detail}")
    usage = doc.get("usage")
    reported = isinstance(usage, dict) and bool(usage.get("prompt_tokens"))
    input_tokens = await estimate() if estimate is not None and not reported else 0
    try:
        message = from_openai_response(doc, model=ctx.client_model, input_tokens=input_tokens)
    except UpstreamStreamError as exc:
        detail = f"upstream {ctx.provider}: {exc.message}"
        raise ApiError(502, detail, error_type=exc.error_type) from None
    except (TypeError, ValueError, KeyError) as exc:
        raise ApiError(502, f"upstream {ctx.provider} sent an unusable answer: {exc}") from None
    ctx.usage(message.get("usage"))
    return message


async def json_as_stream(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    upstream: Response,
    *,
    native: bool,
) -> web.StreamResponse:
    """An upstream that answered a streaming request with plain JSON, served as SSE."""
    if native:
        _raw, message = await read_json(gw, ctx, upstream)
    else:
        message = await translated_message(gw, ctx, upstream)
    return await replay(request, ctx, message, stream=True)


def _json_object(raw: bytes, provider: str) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw[:200].decode("utf-8", "replace")
        raise ApiError(502, f"upstream {provider} sent malformed JSON: {text!r}") from None
    if not isinstance(doc, dict):
        raise ApiError(502, f"upstream {provider} sent JSON that is not an object")
    return doc


async def relay_native_stream(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    upstream: Response,
    key: str | None,
) -> web.StreamResponse:
    """Relay an Anthropic SSE stream frame by frame, observing it on the way."""
    watch = key is not None or gw.audit_full  # accumulate only for the cache or the audit
    relay = _NativeRelay(ctx, Accumulator() if watch else None)
    out: web.StreamResponse | None = None
    try:
        async for frames in read_frames(upstream, gw.timing(ctx), ctx.provider):
            if not frames:
                if out is not None:
                    await out.write(PING)
                continue
            data = relay.observe(frames)
            if out is None:
                out = await open_sse(request, ctx)
            if relay.done:
                # The last batch and the end of the body in one write (one syscall; with
                # the headers too when the whole stream came in one read).
                await out.write_eof(data)
                break
            await out.write(data)
    except ApiError as exc:
        upstream.close()
        if out is None:
            raise
        ctx.error = exc.message
        await out.write(encode(exc.event()))
    except BaseException:  # the client hung up (cancelled): drop the upstream at once
        upstream.close()
        raise
    if out is None:
        upstream.close()
        raise ApiError(
            502, f"upstream {ctx.provider} closed the stream without any event", transient=True
        )
    if not relay.done and not ctx.error:
        ctx.error = "upstream stream ended before message_stop"
        cut = ApiError(502, f"upstream {ctx.provider} ended the stream before message_stop")
        await out.write(encode(cut.event()))
    await out.write_eof()
    await finish_upstream(upstream)
    if relay.acc is not None and relay.acc.complete():
        message = relay.acc.message
        if gw.audit_full:
            ctx.answer = message
        if key is not None and message is not None and cacheable(message):
            gw.cache_put(key, message)
    return out


async def finish_upstream(upstream: Response) -> None:
    """Let the connection go back to the pool once the upstream ends; close it if it never does.

    Closing after every stream would cost a new TCP connection per request. aiohttp
    returns the connection to the pool by itself when the end of the body arrives
    (usually it already has, or it is a moment away), so nothing here waits for it:
    a timer closes an upstream that has not ended within ``DRAIN_SECONDS``.
    """
    content = upstream.content
    if content.is_eof():
        upstream.release()
        return
    handle = asyncio.get_running_loop().call_later(DRAIN_SECONDS, _close_unfinished, upstream)
    content.on_eof(handle.cancel)


DRAIN_SECONDS = 0.5


def _close_unfinished(upstream: Response) -> None:
    if not upstream.content.is_eof():
        upstream.close()


class _NativeRelay:
    """Looks at each frame in passing: renames the model, reads usage, spots the end."""

    __slots__ = ("acc", "ctx", "done", "started")

    def __init__(self, ctx: Context, acc: Accumulator | None) -> None:
        self.ctx = ctx
        self.acc = acc
        self.done = False
        self.started = False

    def observe(self, frames: list[bytes]) -> bytes:
        _check_json(frames, self.ctx.provider)
        data = b"\n\n".join(frames) + b"\n\n"
        if (
            self.acc is None
            and self.started
            and frames[0].startswith(b"event: ")
            and b"event: message_" not in data
            and b"event: error" not in data
        ):
            return data  # only content deltas and pings: nothing to look at
        return self._join(frames) if self._watch_changed(frames, data) else data

    def _watch_changed(self, frames: list[bytes], data: bytes) -> bool:
        """Inspect the frames that matter; True when one was rewritten."""
        changed = False
        for i in self._candidates(frames, data):
            frame = frames[i]
            name = frame[7 : frame.find(b"\n")] if frame.startswith(b"event: ") else b""
            if self.acc is None and name not in _WATCHED:
                continue
            if name == b"message_stop" and self.acc is None:
                self.done = True
                continue
            event = _event_of(frame, self.ctx.provider)
            if event is None:
                continue
            kind = event.get("type")
            if kind == "message_start" and isinstance(event.get("message"), dict):
                self.started = True
                self.ctx.usage(event["message"].get("usage"))
                if event["message"].get("model") != self.ctx.client_model:
                    event["message"]["model"] = self.ctx.client_model
                    frames[i] = encode(event)[:-2]
                    changed = True
            elif kind == "message_delta":
                self.ctx.usage(event.get("usage"))
            elif kind == "message_stop":
                self.done = True
            elif kind == "error":
                self.done = True
                if _scrub_error(event):
                    frames[i] = encode(event)[:-2]
                    changed = True
                self.ctx.error = str(event["error"].get("message", "upstream error"))
            if self.acc is not None:
                self.acc.add(event)
        return changed

    def _candidates(self, frames: list[bytes], data: bytes) -> list[int]:
        """Indices of frames worth a look. message_* events open and close a stream, so
        without a cache to fill only the first frame and a short tail need checking.
        Counting is done on the joined bytes; text that happens to contain "event: "
        only makes the scan longer, never shorter."""
        if self.acc is not None or data.count(b"event: ") != len(frames):
            return list(range(len(frames)))
        wanted = data.count(b"event: message_") + data.count(b"event: error")
        picked: list[int] = []
        if frames[0].startswith(b"event: message_start"):
            picked.append(0)
            wanted -= 1
        tail: list[int] = []
        i = len(frames) - 1
        while wanted > 0 and i > (0 if picked else -1):
            if frames[i].startswith((b"event: message_", b"event: error")):
                tail.append(i)
                wanted -= 1
            i -= 1
        return picked + tail[::-1]

    @staticmethod
    def _join(frames: list[bytes]) -> bytes:
        return b"\n\n".join(frames) + b"\n\n"


_WATCHED = frozenset({b"message_start", b"message_delta", b"message_stop", b"error", b""})


def _check_json(frames: list[bytes], provider: str) -> None:
    """Every frame's data must be JSON: a malformed frame never reaches the client; the
    stream ends with an ``error`` event instead (see :func:`relay_native_stream`)."""
    loads = orjson.loads
    for frame in frames:
        start = frame.find(b"data:")
        if start < 0:
            continue
        data = frame[start + 5 :]
        if b"\ndata:" in data:  # a multi-line data field: the lines join with newlines
            data = frame_fields(frame)[1]
        try:
            loads(data)
        except orjson.JSONDecodeError:
            text = data[:200].decode("utf-8", "replace")
            raise ApiError(
                502, f"upstream {provider} sent malformed JSON in its stream: {text!r}"
            ) from None


def _scrub_error(event: dict[str, Any]) -> bool:
    """Mask secrets in an upstream ``error`` event's message; True when it changed."""
    error = event.get("error")
    if not isinstance(error, dict):
        event["error"] = {"type": "api_error", "message": str(error or "upstream error")}
        return True
    message = str(error.get("message", ""))
    clean = scrub(message)
    if clean == message:
        return False
    error["message"] = clean
    return True


def _event_of(frame: bytes, provider: str) -> dict[str, Any] | None:
    start = frame.find(b"data:")
    if start < 0:
        return None
    try:
        event = orjson.loads(frame[start + 5 :])
    except orjson.JSONDecodeError:
        text = frame[start + 5 : start + 200].decode("utf-8", "replace")
        raise ApiError(
            502, f"upstream {provider} sent malformed JSON in its stream: {text!r}"
        ) from None
    return event if isinstance(event, dict) else None


async def serve_events(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    events: AsyncIterator[Event],
    *,
    stream: bool,
    cache_key: str | None,
    cache_check: CacheCheck | None = None,
) -> web.StreamResponse:
    """Serve Anthropic events as SSE, or accumulated into one JSON Message. With
    ``cache_key``, a complete answer is stored unless ``cache_check()`` says no."""
    return await serve_batches(
        gw,
        request,
        ctx,
        _singles(events),
        stream=stream,
        cache_key=cache_key,
        cache_check=cache_check,
    )


async def _singles(events: AsyncIterator[Event]) -> AsyncIterator[list[Event]]:
    async for event in events:
        yield [event]


async def serve_batches(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    batches: AsyncIterator[list[Event]],
    *,
    stream: bool,
    cache_key: str | None,
    cache_check: CacheCheck | None = None,
) -> web.StreamResponse:
    """:func:`serve_events` for batches of events: one write per batch."""
    try:
        return await _serve_batches(
            gw, request, ctx, batches, stream=stream, cache_key=cache_key, check=cache_check
        )
    finally:
        # Ended at message_stop, the producer is still suspended: close it now, or asyncio
        # finalises it later through call_soon_threadsafe and a task of its own.
        aclose = getattr(batches, "aclose", None)
        if aclose is not None:
            await aclose()


async def _serve_batches(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    batches: AsyncIterator[list[Event]],
    *,
    stream: bool,
    cache_key: str | None,
    check: CacheCheck | None,
) -> web.StreamResponse:
    acc = Accumulator(content=not stream or cache_key is not None or gw.audit_full)
    if not stream:
        async for batch in batches:
            for event in batch:
                acc.add(event)
            if acc.error is not None:
                err = acc.error
                raise ApiError(502, str(err.get("message")), error_type=err.get("type"))
        if check is not None and not check():
            cache_key = None
        return _accumulated(gw, ctx, acc, cache_key)
    out: web.StreamResponse | None = None
    try:
        async for batch in batches:
            if out is None:
                # message_start must come first: no headers, no ping before it
                batch = [e for e in batch if e["type"] != "ping"]
                if not batch:
                    continue
                out = await open_sse(request, ctx)
            ended = _take(acc, batch)
            data = encode_all(batch if ended == len(batch) else batch[:ended])
            if ended < len(batch) or acc.stopped or acc.error is not None:
                await out.write_eof(data)  # the last events and the end in one write
                break
            await out.write(data)
    except ApiError as exc:
        if out is None:
            raise
        ctx.error = exc.message
        await out.write(encode(exc.event()))
    if out is None:
        raise ApiError(502, f"upstream {ctx.provider} produced no events")
    _observe(ctx, acc)
    await out.write_eof()
    if gw.audit_full:
        ctx.answer = acc.message
    if check is not None and not check():
        cache_key = None
    if cache_key is not None and acc.complete() and acc.message and cacheable(acc.message):
        gw.cache_put(cache_key, acc.message)
    return out


def _take(acc: Accumulator, batch: list[Event]) -> int:
    """Feed the accumulator; the number of events to send (nothing after the end)."""
    for i, event in enumerate(batch):
        acc.add(event)
        if event["type"] in ("message_stop", "error"):
            return i + 1
    return len(batch)


def _observe(ctx: Context, acc: Accumulator) -> None:
    if acc.message is not None:
        ctx.usage(acc.message.get("usage"))
    if acc.error is not None:
        ctx.error = str(acc.error.get("message", "upstream error"))


def _accumulated(gw: Gateway, ctx: Context, acc: Accumulator, key: str | None) -> web.Response:
    _observe(ctx, acc)
    if acc.message is None or not acc.stopped:
        raise ApiError(502, f"upstream {ctx.provider} ended before the message was complete")
    message = acc.message
    message["model"] = ctx.client_model
    if gw.audit_full:
        ctx.answer = message
    if key is not None and cacheable(message):
        gw.cache_put(key, message)
    return json_response(ctx, orjson.dumps(message))
