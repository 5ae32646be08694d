"""The gateway's routes other than ``POST /v1/messages`` (which is :mod:`.pipeline`).

Each handler takes ``(gw, request, ctx)`` and returns a response or raises
:class:`~lynkr_cli.serve.errors.ApiError`; :mod:`.app` wraps them with the checks,
error shape, metrics and access log every route shares.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from lynkr_cli.serve import guarding, keys, pipeline
from lynkr_cli.serve.context import Context
from lynkr_cli.serve.errors import ApiError, parse_json_body, validate_messages_request
from lynkr_cli.serve.providers.base import UpstreamRequest
from lynkr_cli.serve.respond import json_response
from lynkr_cli.serve.state import Gateway
from lynkr_cli.serve.transport import TransportError


async def count_tokens(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """Forward to the upstream when it counts; otherwise count locally. Always an integer."""
    raw = await pipeline.read_body(gw, request, ctx)
    body = parse_json_body(raw)
    validate_messages_request(body, need_max_tokens=False)
    ctx.client_model = body["model"]
    route = gw.routes_for(body, raw, ctx)[0]
    keys.check_model(ctx, ctx.client_model)
    guarded = guarding.check(gw, ctx, body)
    if guarded is not None:
        body = guarded
        raw = gw.dumps(body)
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
    req = provider.prepare(body, raw, route, request.headers, stream=False)
    req.url = url
    r = None
    try:
        timeout = min(30.0, gw.settings.provider.first_byte_timeout)
        async with asyncio.timeout(timeout):
            r = await gw.sender.once(provider, req, timeout)
            if r.status != 200:
                return None  # no such route upstream, or it failed: count locally instead
            doc = orjson.loads(await r.read())
    except (TransportError, TimeoutError, orjson.JSONDecodeError):
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
    from lynkr_cli.serve.translate import openai_models, wants_openai_shape

    if wants_openai_shape(request.headers):  # Bearer and no anthropic-version: an OpenAI client
        return json_response(ctx, orjson.dumps(openai_models(names)))
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
    provider = gw.providers[gw.settings.provider.name]
    route = gw.router.routes("claude-probe")[0]
    # A GET with lynkr's credential: any answer proves reachability, 401/403 a bad key.
    req = UpstreamRequest(provider.url(route), provider.auth_headers(), b"", provider.wire, "GET")
    started = time.perf_counter()
    try:
        r = await gw.sender.once(provider, req, min(10.0, gw.settings.provider.connect_timeout))
        doc["upstream_status"] = r.status
        r.release()
    except ApiError as exc:  # provider.token_command failed
        return exc.message
    except (TransportError, TimeoutError) as exc:
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
    await pipeline.read_body(gw, request, ctx)
    return json_response(ctx, b"{}")


async def openapi(gw: Gateway, request: web.BaseRequest, ctx: Context) -> web.StreamResponse:
    """The OpenAPI document, ``docs/openapi.json`` byte for byte (rendered once)."""
    from lynkr_cli.serve.openapi.document import render

    return json_response(ctx, render())
