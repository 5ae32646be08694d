"""The aiohttp application: the route table, and the wrapper every route shares.

There is no middleware stack: each handler is wrapped once by :func:`_wrap`, which
assigns the request id, refuses what a web page could send (:mod:`.browser`),
checks the optional ``LYNKR_API_KEY``, turns :class:`ApiError` (and any bug) into an
Anthropic-shaped answer, and records the access-log line and metrics. That keeps the
hot path to one function call.

Routing is one dict lookup on the method and the *raw* path: ``%2f`` in a path never
routes (``/v1/messages%2fcount_tokens`` is a 404), a known path with the wrong method
is a 405 with ``Allow``, and ``OPTIONS`` answers a CORS preflight only for the origins
``LYNKR_ALLOWED_ORIGINS`` lists.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from lynkr_cli.logs import get_logger
from lynkr_cli.serve import chat, handlers, keys, pipeline
from lynkr_cli.serve.access import AccessLog
from lynkr_cli.serve.browser import BrowserGuard
from lynkr_cli.serve.context import Context, end_stream, error_frame_for, new_request_id
from lynkr_cli.serve.errors import ApiError, error_body
from lynkr_cli.serve.memory import LARGE_BODY, after_large_body
from lynkr_cli.serve.providers.base import Provider
from lynkr_cli.serve.respond import JSON
from lynkr_cli.serve.state import Gateway
from lynkr_cli.serve.upstream import HOP_HEADER
from lynkr_cli.settings import Settings

GATEWAY_KEY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
Handler = Callable[[Gateway, web.BaseRequest, Context], Awaitable[web.StreamResponse]]
Wrapped = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]

# Routes whose body is read: they accept application/json only (see browser.py).
BODY_ROUTES = frozenset({"messages", "count_tokens", "event_logging", "chat"})
_LOGGED = frozenset({"messages", "count_tokens", "models", "not_found", "event_logging", "chat"})
RECORDED = frozenset({"messages", "chat"})  # the routes with a usage record


@dataclass
class Built:
    """The gateway, its routes (method, raw path) → wrapped handler, and the catch-all."""

    gw: Gateway
    routes: dict[tuple[str, str], Wrapped]
    fallback: Wrapped
    log: AccessLog | None

    async def start(self) -> None:
        await self.gw.start()

    async def stop(self) -> None:
        await self.gw.stop()
        if self.log is not None:
            self.log.flush()

    def dispatch(self, request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        """The handler for ``request``: by method and raw path, else 405/preflight/404."""
        path = request.raw_path.partition("?")[0]
        handler = self.routes.get((request.method, path))
        return (handler or self.fallback)(request)


def build(settings: Settings, providers: dict[str, type[Provider]] | None = None) -> Built:
    """The gateway and its route table; ``providers`` defaults to every registered class."""
    if providers is None:
        from lynkr_cli.registry import providers as registered

        providers = registered()
    instances = {name: cls(settings.provider) for name, cls in providers.items()}
    gw = Gateway(settings, instances)
    log = AccessLog() if settings.server.access_log else None

    def route(name: str, handler: Handler, *, auth: bool = True, openai: bool = False) -> Wrapped:
        return _wrap(gw, name, handler, log, auth=auth, openai=openai)

    routes = {
        ("POST", "/v1/messages"): route("messages", pipeline.handle_messages),
        ("POST", "/v1/messages/count_tokens"): route("count_tokens", handlers.count_tokens),
        ("POST", "/v1/chat/completions"): route("chat", chat.handle_chat, openai=True),
        ("GET", "/v1/models"): route("models", handlers.models),
        ("GET", "/"): route("root", handlers.root, auth=False),
        ("GET", "/health/live"): route("live", handlers.live, auth=False),
        ("GET", "/health/ready"): route("ready", handlers.ready, auth=False),
        ("GET", "/metrics"): route("metrics", handlers.metrics, auth=False),
        ("POST", "/api/event_logging/batch"): route("event_logging", handlers.discard),
        ("GET", "/openapi.json"): route("openapi", handlers.openapi, auth=False),
    }
    for method, path in list(routes):  # GET routes answer HEAD too (aiohttp's allow_head)
        if method == "GET":
            routes[("HEAD", path)] = routes[(method, path)]
    allowed: dict[str, list[str]] = {}
    for method, path in routes:
        allowed.setdefault(path, []).append(method)

    async def other(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        methods = allowed.get(path)
        if methods is None:
            raise ApiError(404, f"no route for {request.method} {path[:200]}")
        if request.method == "OPTIONS" and ctx.extra:
            return _preflight(request, ctx, methods)
        raise ApiError(
            405,
            f"method {request.method} is not allowed on {path}; use {', '.join(methods)}",
            error_type="invalid_request_error",
            headers={"allow": ", ".join(methods)},
            retry=False,
        )

    return Built(gw, routes, route("not_found", other, auth=False), log)


def _preflight(request: web.BaseRequest, ctx: Context, methods: list[str]) -> web.Response:
    """A CORS preflight from an origin ``LYNKR_ALLOWED_ORIGINS`` lists."""
    ctx.status = 204
    asked = request.headers.get("access-control-request-headers", "")
    headers = {
        **(ctx.extra or {}),
        "access-control-allow-methods": ", ".join(methods),
        "access-control-allow-headers": asked or "content-type, x-api-key, authorization",
        "access-control-max-age": "600",
        "request-id": ctx.request_id,
    }
    return web.Response(status=204, headers=headers)


def create_app(
    settings: Settings, providers: dict[str, type[Provider]] | None = None
) -> web.Application:
    """The gateway as an aiohttp Application (embedding, tests); ``lynkr serve`` runs
    the same routes on :func:`create_server`, without the router's per-request cost."""
    built = build(settings, providers)
    # The body limit is enforced by read_body() with an Anthropic-shaped 413.
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    app[GATEWAY_KEY] = built.gw

    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await built.dispatch(request)

    app.router.add_route("*", "/{tail:.*}", dispatch)

    async def on_startup(_: web.Application) -> None:
        await built.start()

    async def on_cleanup(_: web.Application) -> None:
        await built.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def create_server(built: Built) -> web.Server:
    """The routes on aiohttp's low-level server: one dict lookup dispatches a request.

    The caller starts and stops ``built`` (``await built.start()`` before serving).
    A client hanging up cancels its handler, and so the upstream call, at once.
    """
    from lynkr_cli.serve.httpserver import GatewayServer

    return GatewayServer(built.dispatch, built.gw.settings.server)


def _wrap(
    gw: Gateway, name: str, handler: Handler, log: Any, *, auth: bool, openai: bool = False
) -> Wrapped:
    api_key = gw.settings.server.api_key
    secret = api_key.get_secret_value().encode() if api_key is not None else None
    metrics = gw.metrics
    guard = BrowserGuard.create(
        gw.settings.server.allowed_hosts,
        gw.settings.server.allowed_origins,
        gw.settings.server.host,
    )
    body_route = name in BODY_ROUTES
    metrics_setting = gw.settings.team.metrics_key
    metrics_key = metrics_setting.get_secret_value().encode() if metrics_setting else None
    inflight = gw.inflight
    current_task = asyncio.current_task

    async def wrapped(request: web.BaseRequest) -> web.StreamResponse:
        ctx = Context(new_request_id(), name)
        ctx.openai = openai
        task = current_task()
        inflight[task] = ctx
        try:
            headers = request.headers
            if headers.get(HOP_HEADER) == gw.hop_id:
                raise _loop_error()
            origin = guard.check(headers, body_route=body_route)
            if origin is not None:
                ctx.extra = {"access-control-allow-origin": origin, "vary": "origin"}
            team = gw.team
            if auth and team is not None and team.active:
                keys.authenticate(team, ctx, headers)
            elif auth and secret is not None:
                _check_key(request, secret)
            elif metrics_key is not None and name == "metrics":
                _check_key(request, metrics_key, "LYNKR_METRICS_KEY")
            return await handler(gw, request, ctx)
        except ApiError as exc:
            ctx.error = exc.message
            return await _error_response(ctx, exc)
        except asyncio.CancelledError:
            if task is not None and gw.cut_at_shutdown(task):
                return await _error_response(ctx, _SHUTDOWN)
            raise
        except ConnectionError:
            # The client went away mid-answer: one line, no traceback, nothing to answer.
            ctx.status, ctx.error = 499, "client disconnected"
            get_logger("lynkr.serve").info("client.disconnected", request_id=ctx.request_id)
            return ctx.sse if ctx.sse is not None else web.Response(status=499)
        except (RecursionError, orjson.JSONEncodeError):
            # A body nested deeper than the gateway can re-encode (orjson stops at 254).
            ctx.error = _TOO_DEEP.message
            return await _error_response(ctx, _TOO_DEEP)
        except web.HTTPException:
            raise
        except Exception as exc:  # a bug must still answer in the API's shape
            get_logger("lynkr.serve").exception("unhandled", request_id=ctx.request_id)
            return await _error_response(ctx, ApiError(500, f"internal gateway error: {exc!r}"))
        finally:
            inflight.pop(task, None)
            if gw.draining and not inflight:
                gw.idle.set()
            if ctx.body_bytes > LARGE_BODY:
                after_large_body()
            elapsed = time.perf_counter() - ctx.started
            if ctx.principal is not None and name in RECORDED:
                await keys.settle(gw, ctx, elapsed)
            metrics.record(name, ctx, elapsed)
            if log is not None and name in _LOGGED:
                # Only these fields: never headers or bodies, so no credential can reach the log.
                log.add(ctx, request.method, request.path, elapsed)

    return wrapped


_TOO_DEEP = ApiError(400, "body: JSON nested too deeply (more than 254 levels)", retry=False)
_SHUTDOWN = ApiError(529, "gateway shutting down: retry the request", error_type="overloaded_error")


async def _error_response(ctx: Context, exc: ApiError) -> web.StreamResponse:
    """The error as an Anthropic error body (OpenAI's on OpenAI routes), or as an SSE
    ``error`` frame once a stream began."""
    if ctx.sse is not None:
        stream: web.StreamResponse = ctx.sse
        await end_stream(stream, error_frame_for(ctx, exc))
        return stream
    headers = {**ctx.headers(), **exc.headers, "content-type": JSON}
    if ctx.openai:
        return _openai_error(ctx, exc, headers)
    ctx.status = exc.status
    return web.Response(body=exc.body(ctx.request_id), status=exc.status, headers=headers)


def _openai_error(ctx: Context, exc: ApiError, headers: dict[str, str]) -> web.Response:
    from lynkr_cli.serve.translate import openai_error, openai_ratelimit_headers

    tokens = "token" in exc.message.lower()
    status, doc = openai_error(
        exc.status, exc.message, param=exc.param, limit="tokens" if tokens else "requests"
    )
    ctx.status = status
    headers.update(openai_ratelimit_headers(headers))
    return web.Response(body=orjson.dumps(doc), status=status, headers=headers)


def _check_key(request: web.BaseRequest, secret: bytes, setting: str = "LYNKR_API_KEY") -> None:
    given = request.headers.get("x-api-key", "")
    if not given:
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), secret):
        raise ApiError(
            401,
            f"invalid or missing key: send {setting} as x-api-key or Authorization: Bearer"
            + (" (in Claude Code: ANTHROPIC_API_KEY)" if setting == "LYNKR_API_KEY" else ""),
            retry=False,
        )


def _loop_error() -> ApiError:
    return ApiError(
        508,
        "lynkr is forwarding to itself: the provider endpoint points at this gateway. "
        "Set ANTHROPIC_ENDPOINT (or the provider's endpoint setting) to the real upstream; "
        "ANTHROPIC_BASE_URL is the client's variable and must not be used for the upstream.",
        retry=False,
    )


__all__ = ["GATEWAY_KEY", "build", "create_app", "create_server", "error_body"]
