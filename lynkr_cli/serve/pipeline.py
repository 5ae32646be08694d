"""The request pipeline: one place where a Messages request is dispatched.

``POST /v1/messages`` → :func:`handle_messages`:

1. parse and validate (a 400 naming the field on bad input);
2. route the client's model → ``[Route, *fallbacks]`` (:mod:`.routing`);
3. prompt-cache lookup (hit → replay as JSON or SSE);
4. server tools: when ``lynkr_cli.serve.tools.loop`` exists and its
   ``should_offer(body, settings)`` says so, the request runs through
   ``run_loop(body, call_upstream, settings)`` where ``call_upstream(body)`` is
   :func:`upstream_events` bound to the route; its events are served as SSE or
   accumulated JSON;
5. otherwise the fast paths: Anthropic-format upstreams are relayed as bytes
   (observed for usage, model name and cache), OpenAI-format upstreams are
   translated event by event.

:func:`upstream_events` is the seam other code builds on:
``async def upstream_events(gw, body, route) -> AsyncIterator[dict]`` performs ONE
streaming upstream call (with retries before the first event) and yields its
Anthropic stream events, ``ping`` included, the model renamed to the client's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from lynkr_cli.cache import canonical_key
from lynkr_cli.serve import guarding, keys, respond
from lynkr_cli.serve.billing import strip_billing
from lynkr_cli.serve.errors import ApiError, parse_json_body, validate_messages_request
from lynkr_cli.serve.providers.base import Provider, Route, UpstreamRequest
from lynkr_cli.serve.streams import (
    Event,
    native_events,
    openai_batches,
    openai_events,
    wait_until,
)
from lynkr_cli.serve.transport import Response

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.state import Gateway

# Statuses after which the next provider in provider.fallback is worth trying.
FALLBACK_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})


async def handle_messages(
    gw: Gateway, request: web.BaseRequest, ctx: Context
) -> web.StreamResponse:
    raw = await read_body(gw, request, ctx)
    body = parse_json_body(raw)
    if validate_messages_request(body, default_max_tokens=gw.settings.server.default_max_tokens):
        raw = gw.dumps(body)  # max_tokens was filled in
    ctx.client_model = body["model"]
    stream = body.get("stream") is True
    routes = gw.routes_for(body, raw, ctx)
    ctx.provider, ctx.upstream_model = routes[0].provider, routes[0].upstream_model
    gw.require_provider(routes[0])
    if ctx.principal is not None:  # the team gateway: the key's models and limits
        await keys.admit(gw, ctx, len(raw))
        if gw.audit_full:
            ctx.body = body
    guarded = guarding.check(gw, ctx, body)  # what leaves for the upstream (docs/guard.md)
    if guarded is not None:
        body = guarded
        raw = gw.dumps(body)
    key = cache_lookup_key(gw, request, routes[0], body, ctx)
    if key is not None:
        hit = gw.cache_get(key)
        if hit is not None:
            ctx.cache = "hit"
            memo = gw.hot.renders(key)
            return await respond.replay(request, ctx, hit, stream=stream, memo=memo)
    mode = keys.tools_mode(gw, ctx) if ctx.principal is not None else None
    if gw.loop is not None and gw.loop.should_offer(body, gw.settings, mode):
        return await _with_server_tools(
            gw, request, ctx, body, route=routes[0], key=key, stream=stream, mode=mode
        )
    for attempt in range(gw.settings.provider.max_retries + 1):
        try:
            return await answer(
                gw, request, ctx, body=body, raw=raw, routes=routes, key=key, stream=stream
            )
        except ApiError as exc:
            # Broke after the 200 but before any byte reached the client: still retryable.
            if not exc.transient or attempt == gw.settings.provider.max_retries:
                raise
            gw.metrics.inc("lynkr_retries", ctx.provider)
    raise AssertionError("unreachable")


async def _with_server_tools(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    body: dict[str, Any],
    *,
    route: Route,
    key: str | None,
    stream: bool,
    mode: str | None = None,
) -> web.StreamResponse:
    """The server-tool loop. Its answer is cached like any other when no tool ran; once a
    tool ran it is not (its result came from the workspace, not the request), and the
    answer says ``x-lynkr-cache: bypass`` (a stream, whose headers left before any tool
    ran, says ``miss``; its access-log line says ``bypass``)."""
    assert gw.loop is not None
    headers = request.headers
    report: dict[str, int] = {}
    steps = [0]

    def call_upstream(step_body: dict[str, Any]) -> AsyncIterator[Event]:
        steps[0] += 1
        if steps[0] > 1:  # later steps carry the gateway's own tool results: scan those too
            step_body = guarding.check(gw, ctx, step_body, tools=True) or step_body
        return upstream_events(gw, step_body, route, headers)

    events = gw.loop.run_loop(
        body,
        call_upstream,
        gw.settings,
        report=report,
        mode=mode,
    )

    def no_tool_ran() -> bool:
        ctx.tool_rounds = report.get("steps", 0)
        if report.get("tool_calls", 0):
            ctx.cache = "bypass"
            return False
        return True

    return await respond.serve_events(
        gw, request, ctx, events, stream=stream, cache_key=key, cache_check=no_tool_ran
    )


async def answer(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    *,
    body: dict[str, Any],
    raw: bytes,
    routes: list[Route],
    key: str | None,
    stream: bool,
) -> web.StreamResponse:
    """One dispatch, answered on the fast path for its wire format."""
    provider, req, resp = await dispatch(
        gw, body, raw=raw, routes=routes, headers=request.headers, ctx=ctx, stream=stream
    )
    if stream and resp.content_type == "application/json":
        return await respond.json_as_stream(gw, request, ctx, resp, native=req.wire == "anthropic")
    if req.wire == "anthropic":
        if stream:
            return await respond.relay_native_stream(gw, request, ctx, resp, key)
        return await respond.native_json(gw, ctx, resp, key)
    if stream:
        estimate = partial(local_count, body)
        batches = openai_batches(resp, gw.timing(ctx), provider.name, ctx.client_model, estimate)
        try:
            out = await respond.serve_batches(gw, request, ctx, batches, stream=True, cache_key=key)
        except BaseException:
            resp.close()
            raise
        await respond.finish_upstream(resp)
        return out
    return await respond.translated_json(gw, ctx, resp, key, partial(local_count, body))


async def read_body(gw: Gateway, request: web.BaseRequest, ctx: Context) -> bytes:
    """The whole body (decoded per ``Content-Encoding``), within the size limit and the
    body timeout: a client that stalls for ``server.body_timeout`` gets a 408."""
    server = gw.settings.server
    limit = server.max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    encoding = request.headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in BODY_ENCODINGS:
        raise ApiError(
            415,
            f"unsupported Content-Encoding {encoding[:40]!r}: send the body as is, "
            "or compressed with gzip or deflate",
            error_type="invalid_request_error",
            retry=False,
        )
    content = request.content
    try:
        if content.is_eof():  # the usual case: the whole body came with the headers
            data = content.read_nowait(-1)
            if len(data) > limit:
                raise too_large(limit)
            ctx.body_bytes = len(data)
            return data
        loop = asyncio.get_running_loop()
        parts: list[bytes] = []
        size = 0
        while True:
            chunk = await wait_until(content.readany(), loop.time() + server.body_timeout, loop)
            if not chunk:
                return b"".join(parts)
            size += len(chunk)
            ctx.body_bytes = size
            if size > limit:
                raise too_large(limit)
            parts.append(chunk)
    except TimeoutError:
        raise ApiError(
            408,
            f"the request body stalled: nothing arrived for {server.body_timeout:g}s "
            "(server.body_timeout, LYNKR_BODY_TIMEOUT)",
            error_type="invalid_request_error",
        ) from None
    except (HttpProcessingError, RequestPayloadError) as exc:
        cause = exc.__cause__ or exc
        detail = getattr(cause, "message", None) or str(cause) or type(cause).__name__
        raise ApiError(
            400,
            f"body: cannot decode the request body ({detail}); check Content-Encoding",
            retry=False,
        ) from None


BODY_ENCODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate"})


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"request body is larger than the gateway's limit of {limit} bytes "
        "(server.max_body_bytes, LYNKR_MAX_BODY)",
        retry=False,
    )


def cache_lookup_key(
    gw: Gateway, request: web.BaseRequest, route: Route, body: dict[str, Any], ctx: Context
) -> str | None:
    """The cache key for this request, or None when the cache is off or bypassed."""
    if gw.cache is None:
        return None
    control = request.headers.get("cache-control", "")
    if "no-cache" in control or "no-store" in control:
        return None
    ctx.cache = "miss"
    return cache_key(route, body)


def cache_key(route: Route, body: Mapping[str, Any]) -> str:
    """Provider, upstream model, system minus the billing block, messages, tools, sampling."""
    sampling = {
        k: body.get(k)
        for k in ("temperature", "top_p", "top_k", "stop_sequences", "tool_choice", "thinking")
    }
    return canonical_key(
        "lynkr-prompt-cache-v1",
        route.provider,
        route.upstream_model,
        strip_billing(body.get("system")),
        body.get("messages"),
        body.get("tools"),
        sampling,
        body.get("output_config"),
        body.get("max_tokens"),
    )


async def dispatch(
    gw: Gateway,
    body: dict[str, Any],
    *,
    raw: bytes,
    routes: list[Route],
    headers: Mapping[str, str],
    ctx: Context,
    stream: bool,
) -> tuple[Provider, UpstreamRequest, Response]:
    """Send to the first route that answers 2xx, walking ``provider.fallback`` on outages."""
    failure: ApiError | None = None
    for route in routes:
        provider = gw.providers.get(route.provider)
        if provider is None or gw.problems.get(route.provider):
            continue
        ctx.provider, ctx.upstream_model = route.provider, route.upstream_model
        req = prepare(provider, body, raw, route, headers, stream=stream)
        try:
            return provider, req, await gw.sender.send(provider, req)
        except ApiError as exc:
            if exc.status not in FALLBACK_STATUSES:
                raise
            failure = exc
    if failure is None:
        gw.require_provider(routes[0])
        raise ApiError(503, "no configured provider could take this request")
    raise failure


def prepare(
    provider: Provider,
    body: dict[str, Any],
    raw: bytes,
    route: Route,
    headers: Mapping[str, str],
    *,
    stream: bool,
) -> UpstreamRequest:
    try:
        return provider.prepare(body, raw, route, headers, stream=stream)
    except (TypeError, ValueError, KeyError) as exc:
        # The translator names the field; the client sent something it cannot map.
        raise ApiError(400, f"cannot translate the request: {exc}", retry=False) from None


async def upstream_events(
    gw: Gateway, body: dict[str, Any], route: Route, client_headers: Mapping[str, str] | None = None
) -> AsyncIterator[Event]:
    """ONE streaming upstream call for ``route``, as Anthropic events (see module doc)."""
    provider = gw.require_provider(route)
    stream_body = {**body, "stream": True}
    raw = gw.dumps(stream_body)
    req = prepare(provider, stream_body, raw, route, client_headers or {}, stream=True)
    resp = await gw.sender.send(provider, req)
    timing = gw.timing(None)
    native = req.wire == "anthropic"
    if resp.content_type == "application/json":  # answered a stream with one JSON body
        events = _json_events(gw, resp, provider.name, route, body, native=native)
    elif native:
        events = native_events(resp, timing, provider.name, route.client_model)
    else:
        events = openai_events(
            resp, timing, provider.name, route.client_model, partial(local_count, body)
        )
    last = ""
    try:
        async for event in events:
            last = event["type"]
            yield event
    except BaseException:
        resp.close()
        raise
    if last not in ("message_stop", "error"):
        # Cut before its end: say so, as the passthrough path does; never a made-up stop.
        resp.close()
        raise ApiError(502, f"upstream {provider.name} ended the stream before message_stop")
    await respond.finish_upstream(resp)


async def _json_events(
    gw: Gateway,
    resp: Response,
    provider: str,
    route: Route,
    body: dict[str, Any],
    *,
    native: bool,
) -> AsyncIterator[Event]:
    """A JSON answer to a streaming request, as the events of that message."""
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.sse import replay_events

    ctx = Context("", "tool_loop", provider=provider, client_model=route.client_model)
    if native:
        _raw, message = await respond.read_json(gw, ctx, resp)
        if message.get("type") != "message" or not isinstance(message.get("content"), list):
            raise ApiError(502, f"upstream {provider} sent JSON that is not a message")
    else:
        message = await respond.translated_message(gw, ctx, resp, partial(local_count, body))
    for event in replay_events({**message, "model": route.client_model}):
        yield event


async def local_count(body: dict[str, Any]) -> int:
    """Count with the local BPE estimator, off the event loop (it is CPU-bound)."""
    from lynkr_cli.serve.tokens import count_request_tokens

    return await asyncio.get_running_loop().run_in_executor(None, count_request_tokens, body)
