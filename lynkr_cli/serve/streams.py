"""Reading an upstream response as events, with idle, total and ping timing.

:func:`read_frames` is the one loop that waits on upstream bytes. It yields
batches of whole SSE frames, or an empty batch when the upstream has been silent
for ``server.ping_interval`` (the caller sends a ``ping``). Silence longer than
``provider.idle_timeout``, or a stream running past ``provider.total_timeout``,
raises :class:`ApiError` (504), and a connection cut raises 502.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

import orjson

from lynkr_cli.serve.errors import ApiError
from lynkr_cli.serve.sse import FrameSplitter, frame_fields
from lynkr_cli.serve.transport import Response, TransportError

Event = dict[str, Any]
Estimate = Callable[[], Awaitable[int]]  # the local input-token count, when needed
T = TypeVar("T")


class Timing(NamedTuple):
    ping_interval: float
    idle_timeout: float
    deadline: float  # loop.time() by which the whole exchange must end


class _Expiry:
    """The timer callback of :func:`wait_until`: cancels the task and remembers it did."""

    __slots__ = ("fired", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.fired = False

    def __call__(self) -> None:
        self.fired = True
        self.task.cancel()


async def wait_until(aw: Awaitable[T], when: float, loop: asyncio.AbstractEventLoop) -> T:
    """``await aw``, raising TimeoutError at ``loop.time() == when``.

    What ``asyncio.timeout`` does for one await, at a fraction of its cost: one
    timer handle, no context manager object, no rescheduling. A cancellation from
    elsewhere (the client hung up) still propagates as CancelledError.
    """
    task = asyncio.current_task(loop)
    assert task is not None
    cancelling = task.cancelling()
    expiry = _Expiry(task)
    handle = loop.call_at(when, expiry)
    try:
        return await aw
    except asyncio.CancelledError:
        if expiry.fired and task.uncancel() <= cancelling:
            raise TimeoutError from None
        raise
    finally:
        handle.cancel()


def read_frames(resp: Response, timing: Timing, provider: str) -> FrameReader:
    """Whole SSE frames as they arrive; ``[]`` after a silence worth a ping."""
    return FrameReader(resp, timing, provider)


class FrameReader:
    """The async iterator behind :func:`read_frames`.

    A class, not an async generator: a consumer that stops at ``message_stop``
    leaves an async generator suspended, and asyncio then finalises it through
    ``call_soon_threadsafe`` and a new task (a self-pipe write and an extra loop
    wake-up per stream). An iterator object is just dropped.
    """

    __slots__ = ("content", "last", "loop", "provider", "splitter", "timing")

    def __init__(self, resp: Response, timing: Timing, provider: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.splitter: FrameSplitter | None = FrameSplitter()
        self.content = resp.content
        self.timing = timing
        self.provider = provider
        self.last = self.loop.time()

    def __aiter__(self) -> FrameReader:
        return self

    async def __anext__(self) -> list[bytes]:
        splitter = self.splitter
        if splitter is None:
            raise StopAsyncIteration
        content, loop, timing = self.content, self.loop, self.timing
        while True:
            try:
                # Bytes already buffered need no timer; only an actual wait gets one.
                chunk = content.read_nowait()
                if not chunk and not content.at_eof():
                    now = loop.time()
                    wait = min(
                        timing.ping_interval,
                        self.last + timing.idle_timeout - now,
                        timing.deadline - now,
                    )
                    if wait <= 0:
                        raise TimeoutError
                    chunk = await wait_until(content.readany(), now + wait, loop)
            except TimeoutError:
                now = loop.time()
                if now >= timing.deadline:
                    raise ApiError(
                        504, f"upstream {self.provider} exceeded provider.total_timeout mid-stream"
                    ) from None
                if now - self.last >= timing.idle_timeout:
                    raise ApiError(
                        504,
                        f"upstream {self.provider} sent nothing for {timing.idle_timeout:g}s "
                        "(provider.idle_timeout)",
                        transient=True,
                    ) from None
                return []
            except TransportError as exc:
                raise ApiError(
                    502,
                    f"upstream {self.provider} broke the stream: {exc or type(exc).__name__}",
                    transient=True,
                ) from None
            if not chunk:
                self.splitter = None
                rest = splitter.rest()
                if rest:
                    return [rest]
                raise StopAsyncIteration
            self.last = loop.time()
            frames = splitter.feed(chunk)
            if frames:
                return frames


def parse_data(data: bytes, provider: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        text = data[:200].decode("utf-8", "replace")
        raise ApiError(
            502, f"upstream {provider} sent malformed JSON in its stream: {text!r}"
        ) from None


async def native_events(
    resp: Response, timing: Timing, provider: str, client_model: str
) -> AsyncIterator[Event]:
    """An Anthropic-format upstream stream as event dicts, the model renamed for the client."""
    async for frames in read_frames(resp, timing, provider):
        if not frames:
            yield {"type": "ping"}
            continue
        for frame in frames:
            _name, data = frame_fields(frame)
            if not data:
                continue
            event = parse_data(data, provider)
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                raise ApiError(502, f"upstream {provider} sent an event without a type")
            if event["type"] == "message_start" and isinstance(event.get("message"), dict):
                event["message"]["model"] = client_model
            elif event["type"] == "error":
                error = event.get("error")
                message = error.get("message") if isinstance(error, dict) else error
                kind = error.get("type") if isinstance(error, dict) else None
                event = ApiError(
                    502, str(message or "upstream error"), error_type=kind or "api_error"
                ).event()  # scrubbed, as every error the gateway passes on
            yield event


async def openai_events(
    resp: Response,
    timing: Timing,
    provider: str,
    client_model: str,
    estimate: Estimate | None = None,
) -> AsyncIterator[Event]:
    """A chat-completions stream translated to Anthropic events, one by one."""
    async for batch in openai_batches(resp, timing, provider, client_model, estimate):
        for event in batch:
            yield event


async def openai_batches(
    resp: Response,
    timing: Timing,
    provider: str,
    client_model: str,
    estimate: Estimate | None = None,
) -> AsyncIterator[list[Event]]:
    """A chat-completions stream translated to Anthropic events, a batch per upstream read
    (so the client gets one write per read, not one per event).

    A stream that stops before ``[DONE]`` and before any ``finish_reason`` was cut:
    it raises, so the client sees an ``error`` event instead of a made-up ``message_stop``.

    An upstream that reports no usage gets ``estimate()`` (the local count) as its
    ``input_tokens``: Claude Code's auto-compact breaks on a zero. It is computed only
    then, at the end, so upstreams that do report usage pay nothing for it.
    """
    from lynkr_cli.serve.translate import StreamTranslator, UpstreamStreamError

    translator = StreamTranslator(model=client_model)
    feed = translator.feed
    loads = orjson.loads
    try:
        async for frames in read_frames(resp, timing, provider):
            if not frames:
                yield [{"type": "ping"}]
                continue
            batch: list[Event] = []
            for frame in frames:
                if frame.startswith(b"data: ") and b"\n" not in frame:
                    data = frame[6:]  # the usual one-line frame
                else:
                    data = frame_fields(frame)[1]
                    if not data:
                        continue
                if data[:1] == b"{":
                    try:
                        chunk = loads(data)
                    except orjson.JSONDecodeError:
                        chunk = parse_data(data, provider)  # raises, naming the provider
                elif data.strip() == b"[DONE]":
                    await _fill_input_tokens(translator, estimate)
                    batch.extend(translator.finish())
                    yield batch
                    return
                else:
                    chunk = parse_data(data, provider)
                if not isinstance(chunk, dict):
                    raise ApiError(502, f"upstream {provider} sent a non-object stream chunk")
                batch.extend(feed(chunk))
            if batch:
                yield batch
    except UpstreamStreamError as exc:
        raise ApiError(
            502, f"upstream {provider}: {exc.message}", error_type=exc.error_type
        ) from None
    if not translator.saw_finish:
        raise ApiError(502, f"upstream {provider} ended the stream before finishing the message")
    await _fill_input_tokens(translator, estimate)
    yield translator.finish()


async def _fill_input_tokens(translator: Any, estimate: Estimate | None) -> None:
    if estimate is not None and not translator.has_usage:
        translator.input_tokens = await estimate()
