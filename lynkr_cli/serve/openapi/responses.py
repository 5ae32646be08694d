"""The headers the gateway sets and its error answers, per status, in both shapes."""

from __future__ import annotations

from lynkr_cli.serve.errors import ERROR_TYPES
from lynkr_cli.serve.openapi.kit import INT, STR, Schema, enum, ref
from lynkr_cli.serve.translate.openai_api import openai_error

LIMIT_KINDS = ("requests", "tokens")
LIMIT_PARTS = ("limit", "remaining", "reset")
ANTHROPIC_LIMITS = tuple(f"anthropic-ratelimit-{k}-{p}" for k in LIMIT_KINDS for p in LIMIT_PARTS)
OPENAI_LIMITS = tuple(f"x-ratelimit-{p}-{k}" for k in LIMIT_KINDS for p in LIMIT_PARTS)
_LIMITED = "only for an issued key with limits (lynkr keys create --rpm/--tpm/...)"


def _header(description: str, schema: Schema = STR, *, required: bool = False) -> Schema:
    doc: Schema = {"description": description, "schema": schema}
    if required:
        doc["required"] = True
    return doc


def headers() -> dict[str, Schema]:
    """``components.headers``: every header the gateway sets, by its name."""
    out = {
        "request-id": _header(
            "this answer's id, also in error bodies and the access log",
            {**STR, "pattern": "^req_"},
            required=True,
        ),
        "x-lynkr-cache": _header(
            "the prompt cache's verdict", enum("hit", "miss", "bypass"), required=True
        ),
        "x-lynkr-route": _header(
            "the [routing] scenario that chose the upstream (only with "
            "[routing] configured; see docs/routing.md)"
        ),
        "retry-after": _header("seconds to wait before retrying (a limit, the upstream's 429)"),
        "x-should-retry": _header("whether the SDKs should retry", enum("true", "false")),
        "allow": _header("the methods the path answers", required=True),
        "cache-control": _header("`no-cache` on event streams"),
        "access-control-allow-origin": _header("the Origin, when LYNKR_ALLOWED_ORIGINS lists it"),
        "vary": _header("`origin`, with access-control-allow-origin"),
        "access-control-allow-methods": _header("the methods of the path", required=True),
        "access-control-allow-headers": _header("the headers the preflight asked for"),
        "access-control-max-age": _header("seconds a browser may keep the preflight", INT),
    }
    for name in ANTHROPIC_LIMITS:
        kind, part = name.split("-")[2:4]
        fmt = "an RFC 3339 time" if part == "reset" else "an integer"
        out[name] = _header(f"the key's {kind} {part}, {fmt}; {_LIMITED}")
    for name in OPENAI_LIMITS:
        part, kind = name.split("-")[2:4]
        fmt = "time left (`1s`, `6m0s`, `12ms`)" if part == "reset" else "an integer"
        out[name] = _header(f"the {kind} {part} in OpenAI's names, {fmt}; {_LIMITED}")
    return out


def refs(*names: str) -> dict[str, Schema]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


# -- errors ---------------------------------------------------------------------------------

ERRORS: dict[int, str] = {
    400: "a malformed request: not JSON, a wrong type or a missing field (the message starts "
    "with the field: `messages.1.content: ...`), a body that does not decode; or the "
    "upstream's own 400, with its type",
    401: "a key is required (LYNKR_API_KEY set, or keys issued) and none or a wrong one was "
    "sent (on /metrics: LYNKR_METRICS_KEY); or the upstream rejected lynkr's credential "
    "(the message names the setting to fix)",
    403: "refused: a request a web browser sent (Host, Origin, Sec-Fetch-Site), a model the "
    "key may not use, or the upstream refusing lynkr's credential",
    404: "the upstream answered 404 (its endpoint setting, or the model name)",
    408: "the request body stalled for server.body_timeout",
    413: "the body is larger than server.max_body_bytes (32 MB)",
    415: "the body is not `Content-Type: application/json`, or its Content-Encoding is not "
    "gzip or deflate",
    429: "a key's limit (requests or tokens per minute, tokens per day or month, monthly "
    "budget) or the upstream's rate limit; retry-after says when",
    500: "a bug in the gateway, still in the API's shape",
    502: "the upstream failed, was unreachable or answered something that is not HTTP/1.1 "
    "or not the API; or lynkr's token command or HTTP proxy failed",
    503: "no provider configured (the message names the variables to set), or the team "
    "key store unreadable",
    504: "no response headers from the upstream within provider.first_byte_timeout",
    508: "the gateway is forwarding to itself: the provider endpoint points at it",
    529: "the upstream is overloaded, or the gateway is shutting down",
}
# The types the gateway answers per status (ERROR_TYPES), where an upstream's may differ.
_TYPES: dict[int, tuple[str, ...]] = {
    405: ("invalid_request_error",),
    408: ("invalid_request_error",),
    413: ("request_too_large", "invalid_request_error"),
    415: ("invalid_request_error",),
    503: ("api_error", "overloaded_error"),
}
UPSTREAM = "another status the upstream answered, with its error type and message"
BODY = (408, 413, 415)
ANY_ROUTE = (403, 500, 508)
HEAD_ERRORS = (*ANY_ROUTE, 400, 401, 503)  # the statuses a GET route may answer


def anthropic_error(status: int) -> Schema:
    """The ``Error`` schema, with the error types this status comes with."""
    kinds = _TYPES.get(status) or ((ERROR_TYPES[status],) if status != 400 else ())
    if not kinds:
        return ref("Error")
    pinned = {"properties": {"error": {"properties": {"type": enum(*kinds)}}}}
    return {"allOf": [ref("Error"), pinned]}


def chat_error(status: int) -> Schema:
    """``OpenAIError`` with the type and code ``openai_error`` gives this status."""
    docs = [openai_error(status, "", limit=limit)[1]["error"] for limit in ("requests", "tokens")]
    kinds = sorted({d["type"] for d in docs})
    codes = sorted({d["code"] for d in docs if d["code"]})
    code: Schema = enum(*codes) if codes else {"type": "null"}
    if status == 404:
        code = {"anyOf": [enum("model_not_found"), {"type": "null"}]}
    if status == 0:  # an upstream's other status: any 4xx type
        return ref("OpenAIError")
    pinned = {"properties": {"error": {"properties": {"type": enum(*kinds), "code": code}}}}
    return {"allOf": [ref("OpenAIError"), pinned]}


def error_responses() -> dict[str, Schema]:
    """``components.responses``: each error status in both shapes, 404 and 405."""
    base = (
        "request-id",
        "x-lynkr-cache",
        "x-lynkr-route",
        "x-should-retry",
        "retry-after",
        "access-control-allow-origin",
        "vary",
    )
    out: dict[str, Schema] = {}
    for status, text in ERRORS.items():
        out[f"Error{status}"] = {
            "description": text,
            "headers": refs(*base, *ANTHROPIC_LIMITS),
            "content": {"application/json": {"schema": anthropic_error(status)}},
        }
        if status == 529:
            continue  # OpenAI's clients get a 503 for it
        described = text + (" (Anthropic's 529 overloaded comes as 503)" if status == 503 else "")
        out[f"ChatError{status}"] = {
            "description": described,
            "headers": refs(*base, *ANTHROPIC_LIMITS, *OPENAI_LIMITS),
            "content": {"application/json": {"schema": chat_error(status)}},
        }
    for status in HEAD_ERRORS:
        out[f"HeadError{status}"] = {
            k: v for k, v in out[f"Error{status}"].items() if k != "content"
        }
    names = (
        "request-id",
        "access-control-allow-origin",
        "vary",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-max-age",
    )
    out["Preflight"] = {
        "description": "the preflight of an allowed origin",
        "headers": refs(*names),
    }
    out["UpstreamError"] = {
        "description": UPSTREAM,
        "headers": refs(*base),
        "content": {"application/json": {"schema": ref("Error")}},
    }
    out["ChatUpstreamError"] = {
        "description": UPSTREAM,
        "headers": refs(*base, *OPENAI_LIMITS),
        "content": {"application/json": {"schema": chat_error(0)}},
    }
    out["MalformedRequest"] = {
        "description": "the HTTP server's answer to a request it cannot parse (request line, "
        "a header, a Content-Encoding aiohttp cannot decode), before any route: no request-id",
        "content": {"application/json": {"schema": anthropic_error(400)}},
    }
    out["TooManyConnections"] = {
        "description": "one connection over server.max_connections, answered before any "
        "request is read, then closed",
        "headers": refs("retry-after", "x-should-retry"),
        "content": {"application/json": {"schema": anthropic_error(503)}},
    }
    out["NotFound"] = {
        "description": "no route for this path (the path as sent: `%2f` never routes)",
        "headers": refs(*base),
        "content": {"application/json": {"schema": anthropic_error(404)}},
    }
    out["MethodNotAllowed"] = {
        "description": "a known path with a method it does not answer (on every path, "
        "in Anthropic's shape); also an OPTIONS that is no preflight of an allowed origin",
        "headers": refs(*base, "allow"),
        "content": {"application/json": {"schema": anthropic_error(405)}},
    }
    return out
