"""``POST /v1/chat/completions``: OpenAI-format clients on the same gateway.

The request is translated into the gateway's internal Anthropic form
(``translate.from_chat_request``), routed like a Messages request (model map,
``[routing]``, fallback), sent, and the answer rendered back in OpenAI's shapes: a
``chat.completion``, or ``chat.completion.chunk`` frames ending in ``data: [DONE]``.

**Passthrough.** When the upstream itself speaks OpenAI (the ``openai`` and ``ollama``
providers, Databricks in chat mode), the client's request goes as it is — only the
model replaced by the upstream's, and ``stream_options.include_usage`` asked for so the
gateway can count — and the answer's bytes are relayed as they come, observed for usage
and checked to be JSON, with the usage chunk dropped when the client did not ask for
one. The answer names the model the upstream reports (OpenAI itself answers a snapshot
name, ``gpt-4o-2024-08-06`` for ``gpt-4o``); on the internal path it is the client's.

Errors are OpenAI's shape (``app`` renders them, see ``openai_error``): a client mistake
is a 400 naming the field OpenAI's way (``messages[2].content``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from lynkr_cli.serve import guarding, keys, pipeline, respond
from lynkr_cli.serve.errors import ApiError, parse_json_body
from lynkr_cli.serve.providers.base import Route, UpstreamRequest
from lynkr_cli.serve.streams import Event, native_events, openai_events, read_frames

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.state import Gateway
    from lynkr_cli.serve.transport import Response


async def handle_chat(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    from lynkr_cli.serve.translate import ChatRequestError, from_chat_request

    raw = await pipeline.read_body(gw, request, ctx)
    doc = parse_json_body(raw)
    try:
        chat = from_chat_request(doc, default_max_tokens=gw.settings.server.default_max_tokens)
    except ChatRequestError as exc:
        raise ApiError(400, exc.problem, param=exc.param, retry=False) from None
    body = chat.body
    ctx.client_model = body["model"]
    routes = gw.routes_for(body, None, ctx)
    ctx.provider, ctx.upstream_model = routes[0].provider, routes[0].upstream_model
    provider = gw.require_provider(routes[0])
    if ctx.principal is not None:  # the team gateway: the key's models and limits
        await keys.admit(gw, ctx, len(raw))
        if gw.audit_full:
            ctx.body = body
        rate = ctx.take_rate_headers()
        if rate:  # OpenAI clients read OpenAI's rate-limit header names
            from lynkr_cli.serve.translate import openai_ratelimit_headers

            rate.update(openai_ratelimit_headers(rate))
            ctx.extra = {**(ctx.extra or {}), **rate}
    guarded = guarding.check(gw, ctx, body)  # scanned in the internal form (docs/guard.md)
    if guarded is not None:
        body = guarded  # redacted: sent through the internal form, not passed through
    elif provider.wire == "openai":
        return await _passthrough(
            gw, request, ctx, doc, route=routes[0], include_usage=chat.include_usage
        )
    _provider, req, resp = await pipeline.dispatch(
        gw, body, raw=gw.dumps(body), routes=routes, headers=request.headers, ctx=ctx,
        stream=chat.stream,
    )  # fmt: skip
    if chat.stream:
        events = _events(gw, ctx, req, resp, body)
        return await _serve_chunks(gw, request, ctx, events, chat.include_usage)
    message = await _message(gw, ctx, req, resp, body)
    if gw.audit_full:
        ctx.answer = message
    return _completion(ctx, message)


# --------------------------------------------------------------------------- via the internal form


def _events(
    gw: Gateway, ctx: Context, req: UpstreamRequest, resp: Response, body: dict[str, Any]
) -> AsyncIterator[Event]:
    timing = gw.timing(ctx)
    if req.wire == "anthropic":
        return native_events(resp, timing, ctx.provider, ctx.client_model)
    return openai_events(resp, timing, ctx.provider, ctx.client_model, _estimate(body))


async def _message(
    gw: Gateway, ctx: Context, req: UpstreamRequest, resp: Response, body: dict[str, Any]
) -> dict[str, Any]:
    if req.wire == "anthropic":
        _raw, message = await respond.read_json(gw, ctx, resp)
        ctx.usage(message.get("usage"))
        return message
    return await respond.translated_message(gw, ctx, resp, _estimate(body))


def _estimate(body: dict[str, Any]) -> Any:
    async def count() -> int:
        return await pipeline.local_count(body)

    return count


def _completion(ctx: Context, message: dict[str, Any]) -> web.Response:
    from lynkr_cli.serve.translate import to_chat_completion

    doc = to_chat_completion(message, model=ctx.client_model)
    return respond.json_response(ctx, orjson.dumps(doc))


async def _serve_chunks(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    events: AsyncIterator[Event],
    include_usage: bool,
) -> web.StreamResponse:
    """Anthropic events as ``chat.completion.chunk`` frames, each batch written as it comes."""
    from lynkr_cli.serve.translate import KEEPALIVE, ChatStreamWriter, error_frame

    writer = ChatStreamWriter(model=ctx.client_model, include_usage=include_usage)
    out: web.StreamResponse | None = None
    try:
        async for event in events:
            if event["type"] == "ping":
                if out is not None:
                    await out.write(KEEPALIVE)
                continue
            frames = writer.feed(event)
            if not frames:
                continue
            if out is None:
                out = await respond.open_sse(request, ctx)
            await out.write(b"".join(frames))
    except ApiError as exc:
        if out is None:
            raise
        ctx.error = exc.message
        await out.write(error_frame(exc.error_type, exc.message))
        await out.write_eof()
        return out
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    ctx.usage(writer.usage)
    tail = writer.finish()
    if out is None:
        raise ApiError(502, f"upstream {ctx.provider} produced no events")
    await out.write_eof(b"".join(tail))
    return out


# --------------------------------------------------------------------------- passthrough


async def _passthrough(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    doc: dict[str, Any],
    *,
    route: Route,
    include_usage: bool,
) -> web.StreamResponse:
    provider = gw.require_provider(route)
    stream = doc.get("stream") is True
    upstream_doc = {**doc, "model": route.upstream_model}
    if stream:  # the gateway counts tokens from the usage chunk; the client may not want it
        upstream_doc["stream_options"] = {**(doc.get("stream_options") or {}),
                                          "include_usage": True}  # fmt: skip
    req = provider.request(route, orjson.dumps(upstream_doc), request.headers)
    req.stream = stream
    resp = await gw.sender.send(provider, req)
    if not stream or resp.content_type == "application/json":
        raw, answer = await respond.read_json(gw, ctx, resp)
        _observe_usage(ctx, answer.get("usage"))
        return respond.json_response(ctx, raw)
    return await _relay_chunks(gw, request, ctx, resp, include_usage=include_usage)


def _observe_usage(ctx: Context, usage: Any) -> None:
    """OpenAI usage (``prompt_tokens`` counts cached tokens too) into the context."""
    if isinstance(usage, dict):
        ctx.usage({"input_tokens": usage.get("prompt_tokens") or 0,
                   "output_tokens": usage.get("completion_tokens") or 0})  # fmt: skip


async def _relay_chunks(
    gw: Gateway,
    request: web.BaseRequest,
    ctx: Context,
    resp: Response,
    *,
    include_usage: bool,
) -> web.StreamResponse:
    """The upstream's chunk frames as they come, observed for usage and ``[DONE]``."""
    from lynkr_cli.serve.translate import error_frame

    out: web.StreamResponse | None = None
    done = False
    try:
        async for frames in read_frames(resp, gw.timing(ctx), ctx.provider):
            if not frames:
                if out is not None:
                    await out.write(b": keep-alive\n\n")
                continue
            kept = _observe_frames(ctx, frames, include_usage)
            done = done or any(f.strip() == b"data: [DONE]" for f in frames)
            if not kept:
                continue
            if out is None:
                out = await respond.open_sse(request, ctx)
            await out.write(b"\n\n".join(kept) + b"\n\n")
    except ApiError as exc:
        resp.close()
        if out is None:
            raise
        ctx.error = exc.message
        await out.write(error_frame(exc.error_type, exc.message))
        await out.write_eof()
        return out
    except BaseException:
        resp.close()
        raise
    if out is None:
        raise ApiError(502, f"upstream {ctx.provider} closed the stream without any chunk")
    if not done:
        ctx.error = "upstream stream ended before [DONE]"
        await out.write(error_frame("api_error", f"upstream {ctx.provider} ended the stream early"))
    await out.write_eof()
    await respond.finish_upstream(resp)
    return out


def _observe_frames(ctx: Context, frames: list[bytes], include_usage: bool) -> list[bytes]:
    """Every frame checked to be JSON (as on the Anthropic passthrough), usage read, and the
    usage-only chunk dropped when the client did not ask for it."""
    kept = []
    for frame in frames:
        data = frame[6:] if frame.startswith(b"data: ") else frame.partition(b"data:")[2]
        data = data.strip()
        if not data or data == b"[DONE]":
            kept.append(frame)
            continue
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            text = data[:200].decode("utf-8", "replace")
            raise ApiError(
                502, f"upstream {ctx.provider} sent malformed JSON in its stream: {text!r}"
            ) from None
        if isinstance(chunk, dict) and chunk.get("usage"):
            _observe_usage(ctx, chunk["usage"])
            if not include_usage and not chunk.get("choices"):
                continue
        if isinstance(chunk, dict) and isinstance(chunk.get("error"), dict):
            raise ApiError(502, f"upstream {ctx.provider}: {chunk['error'].get('message')}")
        kept.append(frame)
    return kept
