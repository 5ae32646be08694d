"""The aiohttp application: routes, the per-request wrapper, probes and metrics.

There is no middleware stack: each handler is wrapped once by :func:`_wrap`, which
assigns the request id, checks the optional ``LYNKR_API_KEY``, turns
:class:`ApiError` (and any bug) into an Anthropic-shaped answer, and records the
access-log line and metrics. That keeps the hot path to one function call.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from lynkr_cli.logs import get_logger
from lynkr_cli.serve import pipeline
from lynkr_cli.serve.access import AccessLog
from lynkr_cli.serve.api import ApiError, error_body, parse_json_body, validate_messages_request
from lynkr_cli.serve.providers.base import Provider
from lynkr_cli.serve.respond import JSON, json_response
from lynkr_cli.serve.state import Context, Gateway, new_request_id
from lynkr_cli.serve.upstream import HOP_HEADER, authorize
from lynkr_cli.settings import Settings

GATEWAY_KEY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)
Handler = Callable[[Gateway, web.BaseRequest, Context], Awaitable[web.StreamResponse]]
Wrapped = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


@dataclass
class Built:
    """The gateway, its routes (method, path) → wrapped handler, and the catch-all."""

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


def build(settings: Settings, providers: dict[str, type[Provider]] | None = None) -> Built:
    """The gateway and its route table; ``providers`` defaults to every registered class."""
    if providers is None:
        from lynkr_cli.registry import providers as registered

        providers = registered()
    instances = {name: cls(settings.provider) for name, cls in providers.items()}
    gw = Gateway(settings, instances)
    log = AccessLog() if settings.server.access_log else None

    def route(name: str, handler: Handler, *, auth: bool = True) -> Wrapped:
        return _wrap(gw, name, handler, log, auth=auth)

    routes = {
        ("POST", "/v1/messages"): route("messages", pipeline.handle_messages),
        ("POST", "/v1/messages/count_tokens"): route("count_tokens", count_tokens),
        ("GET", "/v1/models"): route("models", models),
        ("GET", "/"): route("root", root, auth=False),
        ("HEAD", "/"): route("root", root, auth=False),
        ("GET", "/health/live"): route("live", live, auth=False),
        ("GET", "/health/ready"): route("ready", ready, auth=False),
        ("GET", "/metrics"): route("metrics", metrics, auth=False),
        ("POST", "/api/event_logging/batch"): route("event_logging", discard),
    }
    for method, path in list(routes):  # GET routes answer HEAD too (aiohttp's allow_head)
        if method == "GET":
            routes.setdefault(("HEAD", path), routes[(method, path)])
    return Built(gw, routes, route("not_found", not_found, auth=False), log)


def create_app(
    settings: Settings, providers: dict[str, type[Provider]] | None = None
) -> web.Application:
    """The gateway as an aiohttp Application (embedding, tests); ``lynkr serve`` runs
    the same routes on :func:`create_server`, without the router's per-request cost."""
    built = build(settings, providers)
    # The body limit is enforced by read_body() with an Anthropic-shaped 413.
    app = web.Application(client_max_size=settings.server.max_body_bytes)
    app[GATEWAY_KEY] = built.gw
    for (method, path), handler in built.routes.items():
        app.router.add_route(method, path, handler)
    app.router.add_route("*", "/{tail:.*}", built.fallback)

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
    routes = built.routes
    fallback = built.fallback
    limit = built.gw.settings.server.max_body_bytes
    loop = asyncio.get_running_loop()

    def dispatch(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        return routes.get((request.method, request.path), fallback)(request)

    def make_request(
        message: Any, payload: Any, protocol: Any, writer: Any, task: Any
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=limit
        )

    return web.Server(
        dispatch, request_factory=make_request, handler_cancellation=True, access_log=None
    )


def _wrap(gw: Gateway, name: str, handler: Handler, log: Any, *, auth: bool) -> Wrapped:
    api_key = gw.settings.server.api_key
    secret = api_key.get_secret_value().encode() if api_key is not None else None
    metrics = gw.metrics

    async def wrapped(request: web.BaseRequest) -> web.StreamResponse:
        ctx = Context(new_request_id(), name)
        try:
            if request.headers.get(HOP_HEADER) == gw.hop_id:
                raise _loop_error(request)
            if auth and secret is not None:
                _check_key(request, secret)
            return await handler(gw, request, ctx)
        except ApiError as exc:
            ctx.error = exc.message
            return _error_response(ctx, exc)
        except (ConnectionResetError, web.HTTPException):
            raise
        except Exception as exc:  # a bug must still answer in the API's shape
            get_logger("lynkr.serve").exception("unhandled", request_id=ctx.request_id)
            return _error_response(ctx, ApiError(500, f"internal gateway error: {exc!r}"))
        finally:
            elapsed = time.perf_counter() - ctx.started
            metrics.record(name, ctx, elapsed)
            if log is not None and name in _LOGGED:
                # Only these fields: never headers or bodies, so no credential can reach the log.
                log.add(ctx, request.method, request.path, elapsed)

    return wrapped


_LOGGED = frozenset({"messages", "count_tokens", "models", "not_found", "event_logging"})


def _error_response(ctx: Context, exc: ApiError) -> web.Response:
    ctx.status = exc.status
    headers = {**ctx.headers(), **exc.headers, "content-type": JSON}
    return web.Response(body=exc.body(ctx.request_id), status=exc.status, headers=headers)


def _check_key(request: web.BaseRequest, secret: bytes) -> None:
    given = request.headers.get("x-api-key", "")
    if not given:
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not given or not hmac.compare_digest(given.encode(), secret):
        raise ApiError(
            401,
            "invalid or missing gateway key: send LYNKR_API_KEY as x-api-key or "
            "Authorization: Bearer (in Claude Code: ANTHROPIC_API_KEY)",
            retry=False,
        )


def _loop_error(request: web.BaseRequest) -> ApiError:
    return ApiError(
        508,
        "lynkr is forwarding to itself: the provider endpoint points at this gateway. "
        "Set ANTHROPIC_ENDPOINT (or the provider's endpoint setting) to the real upstream; "
        "ANTHROPIC_BASE_URL is the client's variable and must not be used for the upstream.",
        retry=False,
    )


# --------------------------------------------------------------------------- handlers


async def count_tokens(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """Forward to the upstream when it counts; otherwise count locally. Always an integer."""
    raw = await pipeline.read_body(gw, request)
    body = parse_json_body(raw)
    validate_messages_request(body, need_max_tokens=False)
    ctx.client_model = body["model"]
    route = gw.router.routes(ctx.client_model)[0]
    ctx.provider, ctx.upstream_model = route.provider, route.upstream_model
    count = await _upstream_count(gw, body, raw, route, request)
    if count is None:
        count = await pipeline.local_count(body)
    ctx.input_tokens = count
    return json_response(ctx, orjson.dumps({"input_tokens": count}))


async def _upstream_count(
    gw: Gateway, body: dict[str, Any], raw: bytes, route: Any, request: web.BaseRequest
) -> int | None:
    provider = gw.providers.get(route.provider)
    if provider is None or gw.problems.get(route.provider) or provider.wire != "anthropic":
        return None
    url = provider.count_tokens_url(route)
    if url is None:
        return None
    import aiohttp

    req = provider.prepare(body, raw, route, request.headers, stream=False)
    headers = {**req.headers, HOP_HEADER: gw.hop_id}
    await authorize(provider, headers)
    r = None
    try:
        async with asyncio.timeout(min(30.0, gw.settings.provider.first_byte_timeout)):
            r = await gw.sender.pool.request("POST", url, headers, req.data)
            if r.status != 200:
                return None  # no such route upstream, or it failed: count locally instead
            doc = orjson.loads(await r.read())
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError):
        return None
    finally:
        if r is not None:
            r.release()
    value = doc.get("input_tokens") if isinstance(doc, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def models(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """The configured model aliases in Anthropic's list shape, paginated like the real API."""
    names = gw.router.aliases()
    default = gw.providers.get(gw.settings.provider.name)
    if default is not None and default.default_model() and default.default_model() not in names:
        names.append(default.default_model())
    created = datetime.fromtimestamp(0, UTC).isoformat().replace("+00:00", "Z")
    data = [{"type": "model", "id": n, "display_name": n, "created_at": created} for n in names]
    data = _page(data, request.query)
    doc = {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
    return json_response(ctx, orjson.dumps(doc))


def _page(data: list[dict[str, Any]], query: Any) -> list[dict[str, Any]]:
    ids = [d["id"] for d in data]
    if query.get("after_id") in ids:
        data = data[ids.index(query["after_id"]) + 1 :]
    elif query.get("before_id") in ids:
        data = data[: ids.index(query["before_id"])]
    try:
        limit = max(1, min(1000, int(query.get("limit", 20))))
    except ValueError:
        raise ApiError(400, "limit: expected an integer between 1 and 1000") from None
    return data[:limit]


async def root(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    if request.method == "HEAD":
        return web.Response(status=200, headers=ctx.headers())
    return json_response(ctx, orjson.dumps({"name": "lynkr", "status": "ok"}))


async def live(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    return json_response(ctx, b'{"status":"ok"}')


async def ready(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """Ready when the default provider is configured; ``?deep=1`` also reaches the upstream."""
    problem = gw.configuration_problem()
    doc: dict[str, Any] = {"status": "ok", "provider": gw.settings.provider.name or None}
    if problem is None and request.query.get("deep") in ("1", "true", "yes"):
        problem = await _probe(gw, doc)
    if problem is not None:
        doc.update(status="unavailable", problem=problem)
    return json_response(ctx, orjson.dumps(doc), 200 if problem is None else 503)


async def _probe(gw: Gateway, doc: dict[str, Any]) -> str | None:
    import aiohttp

    provider = gw.providers[gw.settings.provider.name]
    route = gw.router.routes("claude-probe")[0]
    url = provider.url(route)
    headers = {**provider.auth_headers(), HOP_HEADER: gw.hop_id}
    try:
        await authorize(provider, headers)  # provider.token_command, when set
    except ApiError as exc:
        return exc.message
    started = time.perf_counter()
    try:
        async with asyncio.timeout(min(10.0, gw.settings.provider.connect_timeout)):
            # A GET with lynkr's credential: any answer proves reachability, 401/403 a bad key.
            r = await gw.sender.pool.request("GET", url, headers)
            doc["upstream_status"] = r.status
            r.release()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"upstream {provider.name} is unreachable: {exc or type(exc).__name__}"
    doc["upstream_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if doc["upstream_status"] in (401, 403):
        setting = provider.credential_setting()
        return f"upstream {provider.name} rejected lynkr's credential: check {setting}"
    return None


async def metrics(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    from prometheus_client import CONTENT_TYPE_LATEST

    return web.Response(
        body=gw.metrics.render(), headers={**ctx.headers(), "content-type": CONTENT_TYPE_LATEST}
    )


async def discard(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    await pipeline.read_body(gw, request)
    return json_response(ctx, b"{}")


async def not_found(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    raise ApiError(404, f"no route for {request.method} {request.path}")


__all__ = ["GATEWAY_KEY", "build", "create_app", "create_server", "error_body"]
