"""The document: every route as operations, and the whole rendered once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from lynkr_cli import __version__
from lynkr_cli.serve.openapi.anthropic import schemas as anthropic_schemas
from lynkr_cli.serve.openapi.chat import schemas as chat_schemas
from lynkr_cli.serve.openapi.kit import STR, Schema, ref
from lynkr_cli.serve.openapi.responses import (
    ANTHROPIC_LIMITS,
    ANY_ROUTE,
    BODY,
    ERRORS,
    OPENAI_LIMITS,
    error_responses,
    headers,
    refs,
)


@dataclass(frozen=True)
class Route:
    """One path of the route table, as the document describes it."""

    path: str
    method: str
    summary: str
    ok: dict[str, Schema]  # media type -> schema of the 200
    errors: tuple[int, ...] = ANY_ROUTE
    request: str | None = None  # schema name of the JSON body
    auth: str = "key"  # key | metrics | none
    openai: bool = False
    routed: bool = False  # x-lynkr-route and the rate-limit headers
    upstream: bool = False  # may relay another status of the upstream's
    params: tuple[Schema, ...] = ()
    description: str = ""


def _param(name: str, where: str, description: str, schema: Schema = STR) -> Schema:
    return {"name": name, "in": where, "description": description, "schema": schema}


_CLAUDE_PARAMS = (
    _param("beta", "query", "ignored (Claude Code sends `?beta=true`)"),
    _param("anthropic-version", "header", "forwarded to native upstreams"),
    _param("anthropic-beta", "header", "forwarded to native upstreams"),
)
_KEYED = (*ANY_ROUTE, 401, 503)


def routes() -> tuple[Route, ...]:
    """Every route of the gateway, in the route table's order."""
    events = (
        "an event stream when `stream` is true (MessageStream: each event's data is a "
        "MessageStreamEvent)"
    )
    return (
        Route(
            "/v1/messages",
            "post",
            "Create a message (JSON, or SSE with `stream: true`)",
            {"application/json": ref("Message"), "text/event-stream": ref("MessageStream")},
            tuple(ERRORS),
            "MessagesRequest",
            routed=True,
            upstream=True,
            params=(
                *_CLAUDE_PARAMS,
                _param(
                    "cache-control", "header", "`no-cache` or `no-store` bypass the prompt cache"
                ),
            ),
            description="Anthropic's Messages API. " + events + "; a stream that fails after "
            "the 200 ends with an `error` event.",
        ),
        Route(
            "/v1/messages/count_tokens",
            "post",
            "Count a request's input tokens",
            {"application/json": ref("CountTokensResponse")},
            (*_KEYED, 400, *BODY),
            "CountTokensRequest",
            routed=True,
            params=_CLAUDE_PARAMS,
            description="Forwarded to native upstreams that serve it, otherwise counted "
            "locally; always an integer.",
        ),
        Route(
            "/v1/chat/completions",
            "post",
            "Create a chat completion (OpenAI's API)",
            {"application/json": ref("ChatCompletion"), "text/event-stream": ref("ChatStream")},
            tuple(s for s in ERRORS if s != 529),
            "ChatCompletionRequest",
            openai=True,
            routed=True,
            upstream=True,
            description="OpenAI's Chat Completions on the same keys, limits, routing and "
            "upstreams; errors in OpenAI's shape. With `stream: true`, `data:` lines of "
            "ChatCompletionChunk ending with `data: [DONE]`. See docs/openai-clients.md.",
        ),
        Route(
            "/v1/models",
            "get",
            "List the models (Anthropic's shape, or OpenAI's)",
            {"application/json": {"anyOf": [ref("ModelList"), ref("OpenAIModelList")]}},
            (*_KEYED, 400),
            params=(
                _param(
                    "limit",
                    "query",
                    "page size, 1 to 1000 (others are clamped); not an integer: 400",
                    {"type": "integer", "default": 20},
                ),
                _param("after_id", "query", "the page after this id"),
                _param("before_id", "query", "the page before this id"),
                _param(
                    "anthropic-version",
                    "header",
                    "absent, with `Authorization: Bearer`, the answer is OpenAI's list shape",
                ),
            ),
            description="The model map's literal names and the default model. OpenAI's "
            "shape (OpenAIModelList) for a call with `Authorization: Bearer` and no "
            "`anthropic-version`, else Anthropic's (ModelList), paginated.",
        ),
        Route(
            "/",
            "get",
            "Claude Code's warm-up probe",
            {"application/json": ref("Root")},
            auth="none",
        ),
        Route(
            "/health/live",
            "get",
            "Liveness: 200 while the process runs",
            {"application/json": ref("Live")},
            auth="none",
        ),
        Route(
            "/health/ready",
            "get",
            "Readiness: the default provider is configured",
            {"application/json": ref("Ready")},
            (*ANY_ROUTE, 503),
            auth="none",
            params=(
                _param(
                    "deep",
                    "query",
                    "`1`, `true` or `yes`: also reach the upstream with lynkr's credential",
                ),
            ),
            description="503 with `status: unavailable` and the problem when not ready.",
        ),
        Route(
            "/metrics",
            "get",
            "Prometheus metrics",
            {"text/plain": STR},
            (*ANY_ROUTE, 401),
            auth="metrics",
            description="The Prometheus text format; a key only with LYNKR_METRICS_KEY.",
        ),
        Route(
            "/api/event_logging/batch",
            "post",
            "Claude Code's telemetry: accepted, discarded",
            {"application/json": ref("Empty")},
            (*_KEYED, 400, *BODY),
            "any",
        ),
        Route(
            "/openapi.json",
            "get",
            "This document",
            {"application/json": {"type": "object"}},
            auth="none",
            description="docs/openapi.json in the repository, byte for byte.",
        ),
    )


_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "key": [{"apiKey": []}, {"bearer": []}, {}],
    "metrics": [{}, {"apiKey": []}, {"bearer": []}],
    "none": [],
}


def _ok(route: Route, *, body: bool) -> Schema:
    names = ["request-id", "x-lynkr-cache", "access-control-allow-origin", "vary"]
    if route.routed:
        names += ["x-lynkr-route", *ANTHROPIC_LIMITS]
    if route.openai:
        names += OPENAI_LIMITS
    if "text/event-stream" in route.ok:
        names.append("cache-control")
    doc: Schema = {"description": "the answer", "headers": refs(*names)}
    if body:
        doc["content"] = {media: {"schema": schema} for media, schema in route.ok.items()}
    return doc


def operation(route: Route, method: str) -> Schema:
    """The operation object of ``route`` for ``method`` (``head`` has no bodies)."""
    body = method != "head"
    responses: dict[str, Schema] = {"200": _ok(route, body=body)}
    if route.path == "/health/ready":
        responses["503"] = {**_ok(route, body=body), "description": "not ready, and why"}
    prefix = "ChatError" if route.openai else "Error"
    for status in sorted(s for s in route.errors if str(s) not in responses):
        responses[str(status)] = {"$ref": f"#/components/responses/{prefix}{status}"}
    if route.upstream:
        name = "ChatUpstreamError" if route.openai else "UpstreamError"
        responses["default"] = {"$ref": f"#/components/responses/{name}"}
    if not body:
        responses = {k: _bodiless(v) for k, v in responses.items()}
    op: Schema = {
        "operationId": _op_id(method, route.path),
        "summary": route.summary if body else f"{route.summary} (headers only)",
        "tags": [_tag(route)],
        "security": _SECURITY[route.auth],
    }
    if route.description:
        op["description"] = route.description
    if route.params:
        op["parameters"] = list(route.params)
    if route.request is not None and body:
        schema = {} if route.request == "any" else ref(route.request)
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    op["responses"] = responses
    return op


def _bodiless(response: Schema) -> Schema:
    """A HEAD answer: the same status and headers, no body."""
    if "$ref" in response:
        return {"$ref": response["$ref"].replace("/Error", "/HeadError")}
    return {k: v for k, v in response.items() if k != "content"}


def preflight(path: str) -> Schema:
    """``OPTIONS``: a CORS preflight for the origins LYNKR_ALLOWED_ORIGINS lists."""
    refused = {"$ref": "#/components/responses/MethodNotAllowed"}
    return {
        "operationId": _op_id("options", path),
        "summary": "CORS preflight, for the origins LYNKR_ALLOWED_ORIGINS lists",
        "tags": ["browsers"],
        "security": [],
        "parameters": [
            {**_param("origin", "header", "the page's origin"), "required": True},
            _param("access-control-request-method", "header", "the method it will send"),
            _param("access-control-request-headers", "header", "the headers it will send"),
        ],
        "responses": {
            "204": {"$ref": "#/components/responses/Preflight"},
            "403": {"$ref": "#/components/responses/Error403"},
            "405": {**refused, "description": "not a preflight of an allowed origin"},
        },
    }


def _op_id(method: str, path: str) -> str:
    words = [w for w in path.replace(".", "_").replace("/", " ").split() if w] or ["root"]
    return method + "".join(w.title().replace("_", "") for w in words)


def _tag(route: Route) -> str:
    if route.openai:
        return "openai"
    return "messages" if route.path.startswith("/v1/") else "gateway"


# -- the document ---------------------------------------------------------------------------

_ABOUT = """\
lynkr's gateway (`lynkr serve`): Anthropic's Messages API for Claude Code and the SDKs, \
OpenAI's Chat Completions for OpenAI-format clients, and its probes, in front of the \
configured upstream. docs/gateway.md describes it.

Every answer of a route carries `request-id` and `x-lynkr-cache` (a CORS preflight only \
`request-id`). Errors are Anthropic's shape \
(`Error`), on /v1/chat/completions OpenAI's (`OpenAIError`); once a stream has begun, an \
error ends it as an event instead. Beyond the operations listed: a path not listed is a \
404 (`NotFound`), a listed path with another method a 405 with `allow` \
(`MethodNotAllowed`), both in Anthropic's shape. Before any route, the HTTP server \
itself answers a request it cannot parse with a 400 (`MalformedRequest`) and one \
connection over server.max_connections with a 503 (`TooManyConnections`), without a \
`request-id`. The extension `x-lynkr-unrouted` maps these statuses to their answers.

Keys: with LYNKR_API_KEY set or keys issued (docs/team-gateway.md) the /v1/ routes and \
the telemetry sink need one, as `x-api-key` or `Authorization: Bearer`; otherwise any \
key or none is accepted. /metrics needs LYNKR_METRICS_KEY when that is set; the probes \
and this document never need a key.
"""


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    paths: dict[str, Any] = {}
    for route in routes():
        item: dict[str, Any] = {route.method: operation(route, route.method)}
        if route.method == "get":  # GET routes answer HEAD too
            item["head"] = operation(route, "head")
        item["options"] = preflight(route.path)
        paths[route.path] = item
    key = "the gateway's key (LYNKR_API_KEY), or a key issued with `lynkr keys create`"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lynkr gateway",
            "version": __version__,
            "description": _ABOUT,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "http://127.0.0.1:8080", "description": "`lynkr serve`'s default"}],
        "tags": [
            {"name": "messages", "description": "Anthropic's API, for Claude Code and the SDKs"},
            {"name": "openai", "description": "OpenAI's API (docs/openai-clients.md)"},
            {"name": "gateway", "description": "probes, metrics, telemetry, this document"},
            {
                "name": "browsers",
                "description": "CORS (docs/gateway.md, What a web page cannot do)",
            },
        ],
        "paths": paths,
        "components": {
            "schemas": {**anthropic_schemas(), **chat_schemas()},
            "responses": error_responses(),
            "headers": headers(),
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": key,
                },
                "bearer": {"type": "http", "scheme": "bearer", "description": key},
            },
        },
        "x-lynkr-unrouted": {
            "400": {"$ref": "#/components/responses/MalformedRequest"},
            "404": {"$ref": "#/components/responses/NotFound"},
            "405": {"$ref": "#/components/responses/MethodNotAllowed"},
            "503": {"$ref": "#/components/responses/TooManyConnections"},
        },
    }


@cache
def render() -> bytes:
    """The document as ``docs/openapi.json`` holds it (and ``GET /openapi.json`` serves)."""
    return orjson.dumps(document(), option=orjson.OPT_INDENT_2) + b"\n"
