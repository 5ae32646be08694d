"""Anthropic's Messages shapes, its errors and the gateway's own small documents.

From ``/work/shared/docs/protocol.md`` §1-3. Known block, delta and event types are
described exactly; a type the gateway does not know is allowed through (``Other``),
because native upstreams' new kinds are relayed untouched and clients must ignore what
they do not know. Objects allow unknown properties for the same reason.
"""

from __future__ import annotations

from lynkr_cli.serve.errors import ERROR_TYPES
from lynkr_cli.serve.openapi.kit import (
    BOOL,
    COUNT,
    INT,
    NULL,
    NUM,
    OBJ,
    STR,
    Schema,
    array,
    block,
    const,
    enum,
    json_text,
    maybe,
    obj,
    ref,
    sse,
    typed,
)

CACHE_CONTROL = obj({"type": const("ephemeral"), "ttl": enum("5m", "1h")}, ("type",))
IMAGE_SOURCE: Schema = {
    "anyOf": [
        obj(
            {
                "type": const("base64"),
                "media_type": enum("image/jpeg", "image/png", "image/gif", "image/webp"),
                "data": STR,
            },
            ("type", "media_type", "data"),
        ),
        obj({"type": const("url"), "url": STR}, ("type", "url")),
    ]
}
BLOCKS: dict[str, Schema] = {
    "text": block(
        "text",
        {"text": STR, "cache_control": CACHE_CONTROL, "citations": maybe(array(OBJ))},
        ("text",),
    ),
    "image": block("image", {"source": IMAGE_SOURCE, "cache_control": CACHE_CONTROL}, ("source",)),
    "document": block(
        "document",
        {
            "source": obj({"type": STR}, ("type",)),
            "title": maybe(STR),
            "context": maybe(STR),
            "citations": OBJ,
            "cache_control": CACHE_CONTROL,
        },
        ("source",),
    ),
    "tool_use": block(
        "tool_use",
        {"id": STR, "name": STR, "input": OBJ, "cache_control": CACHE_CONTROL},
        ("id", "name", "input"),
    ),
    "tool_result": block(
        "tool_result",
        {
            "tool_use_id": STR,
            "content": {"anyOf": [STR, array(OBJ)]},
            "is_error": BOOL,
            "cache_control": CACHE_CONTROL,
        },
        ("tool_use_id",),
    ),
    "thinking": block("thinking", {"thinking": STR, "signature": STR}, ("thinking",)),
    "redacted_thinking": block("redacted_thinking", {"data": STR}, ("data",)),
}
CONTENT_BLOCK = typed(
    {k: ref(f"{''.join(p.title() for p in k.split('_'))}Block") for k in BLOCKS},
    "another block kind (server-tool blocks such as server_tool_use, web_search_tool_result), "
    "relayed as it is",
)
STOP_REASON = enum(
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)
_USAGE: dict[str, Schema] = {
    "input_tokens": COUNT,
    "output_tokens": COUNT,
    "cache_creation_input_tokens": maybe(COUNT),
    "cache_read_input_tokens": maybe(COUNT),
    "cache_creation": maybe(OBJ),
    "server_tool_use": maybe(OBJ),
    "service_tier": maybe(STR),
}
USAGE = obj(
    _USAGE,
    ("input_tokens", "output_tokens"),
    description="Token counts. The total input is input_tokens + cache_creation_input_tokens "
    "+ cache_read_input_tokens.",
)


def count_request() -> Schema:
    """What count_tokens checks: the Messages request's shape as far as a count needs it."""
    blocks = {"anyOf": [STR, array(obj({"type": STR}, ("type",)))]}
    return obj(
        {
            "model": {**STR, "minLength": 1},
            "messages": array(
                obj(
                    {"role": enum("user", "assistant", "system"), "content": blocks},
                    ("role", "content"),
                )
            ),
            "system": {"anyOf": [STR, NULL, array(obj({"text": STR}, ("text",)))]},
            "tools": maybe(array(obj({"name": STR}, ("name",)))),
            "tool_choice": maybe(obj({"type": STR}, ("type",))),
            "stream": maybe(BOOL),
            "stop_sequences": maybe(array(STR)),
            "temperature": maybe(NUM),
            "top_p": maybe(NUM),
        },
        ("model", "messages"),
        description="The Messages request without max_tokens (MessagesRequest has every "
        "field). The gateway checks these; the rest is not judged: a native upstream that "
        "counts gets it all, and when that upstream refuses or cannot count, the gateway "
        "counts locally, so a count always comes back.",
    )


def messages_request() -> Schema:
    """The Messages request."""
    props: dict[str, Schema] = {
        "model": {**STR, "minLength": 1, "description": "routed by the model map and [routing]"},
        "messages": array(ref("MessageParam")),
        "max_tokens": {
            **INT,
            "minimum": 1,
            "description": "when absent, server.default_max_tokens (LYNKR_DEFAULT_MAX_TOKENS)",
        },
        "system": {"anyOf": [STR, array(ref("TextBlock"))]},
        "stream": BOOL,
        "tools": array(
            obj(
                {
                    "name": STR,
                    "description": STR,
                    "input_schema": OBJ,
                    "type": STR,
                    "strict": BOOL,
                    "cache_control": CACHE_CONTROL,
                },
                ("name",),
            )
        ),
        "tool_choice": obj(
            {
                "type": enum("auto", "any", "tool", "none"),
                "name": STR,
                "disable_parallel_tool_use": BOOL,
            },
            ("type",),
        ),
        "stop_sequences": array(STR),
        "temperature": {**NUM, "minimum": 0, "maximum": 1},
        "top_p": NUM,
        "top_k": {**INT, "minimum": 0},
        "metadata": obj({"user_id": maybe(STR)}),
        "thinking": obj(
            {
                "type": enum("enabled", "disabled", "adaptive"),
                "budget_tokens": {**INT, "minimum": 1024},
            },
            ("type",),
        ),
        "output_config": OBJ,
        "cache_control": CACHE_CONTROL,
        "service_tier": STR,
    }
    return obj(
        props,
        ("model", "messages"),
        description="Fields not listed here are forwarded to native upstreams unchanged.",
    )


EVENTS: dict[str, Schema] = {
    "message_start": obj({"message": ref("Message")}, ("message",)),
    "content_block_start": obj(
        {"index": COUNT, "content_block": ref("ContentBlock")}, ("index", "content_block")
    ),
    "content_block_delta": obj(
        {
            "index": COUNT,
            "delta": typed(
                {
                    "text_delta": block("text_delta", {"text": STR}, ("text",)),
                    "input_json_delta": block(
                        "input_json_delta", {"partial_json": STR}, ("partial_json",)
                    ),
                    "thinking_delta": block("thinking_delta", {"thinking": STR}, ("thinking",)),
                    "signature_delta": block("signature_delta", {"signature": STR}, ("signature",)),
                    "citations_delta": block("citations_delta", {"citation": OBJ}, ("citation",)),
                },
                "another delta kind, relayed as it is",
            ),
        },
        ("index", "delta"),
    ),
    "content_block_stop": obj({"index": COUNT}, ("index",)),
    "message_delta": obj(
        {
            "delta": obj(
                {"stop_reason": maybe(STOP_REASON), "stop_sequence": maybe(STR)},
                ("stop_reason",),
            ),
            "usage": obj(_USAGE, ("output_tokens",), description="cumulative counts"),
        },
        ("delta", "usage"),
    ),
    "message_stop": obj({}),
    "ping": obj({}),
    "error": obj({"error": ref("ErrorObject")}, ("error",)),
}


def _event(kind: str, schema: Schema) -> Schema:
    props = {"type": const(kind), **schema["properties"]}
    return obj(props, ("type", *schema.get("required", ())))


def _event_name(kind: str) -> str:
    return "".join(p.title() for p in kind.split("_")) + "Event"


def schemas() -> dict[str, Schema]:
    """The Anthropic API's schemas, the errors and the probes' documents."""
    blocks = {f"{''.join(p.title() for p in k.split('_'))}Block": s for k, s in BLOCKS.items()}
    events = {_event_name(k): _event(k, s) for k, s in EVENTS.items()}
    stream_event = typed(
        {k: ref(_event_name(k)) for k in EVENTS},
        "another event type: relayed from a native upstream, to be ignored by clients",
    )
    stream_event["description"] = (
        "The data of one SSE event of a streamed answer; the event's name (`event:`) is its "
        "`type`. Order: message_start, then per block content_block_start, deltas, "
        "content_block_stop, then message_delta and message_stop; ping anywhere; an error "
        "event ends a stream that failed after the 200 (never a made-up message_stop)."
    )
    return {
        "MessagesRequest": messages_request(),
        "CountTokensRequest": count_request(),
        "MessageParam": obj(
            {
                "role": enum("user", "assistant", "system"),
                "content": {"anyOf": [STR, array(ref("ContentBlock"))]},
            },
            ("role", "content"),
        ),
        "ContentBlock": CONTENT_BLOCK,
        **blocks,
        "Message": obj(
            {
                "id": STR,
                "type": const("message"),
                "role": const("assistant"),
                "model": STR,
                "content": array(ref("ContentBlock")),
                "stop_reason": maybe(STOP_REASON),
                "stop_sequence": maybe(STR),
                "usage": ref("Usage"),
            },
            ("id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"),
            description="The answer; `model` is the name the client sent.",
        ),
        "Usage": USAGE,
        "MessageStream": sse(
            {"type": "string", **json_text("MessageStreamEvent")},
            event=True,
            description="One event of a Messages stream: its name (`event:`) is the `type` "
            "of its data (`data:`, one JSON object).",
        ),
        "MessageStreamEvent": stream_event,
        **events,
        "CountTokensResponse": obj({"input_tokens": COUNT}, ("input_tokens",)),
        "ModelList": obj(
            {
                "data": array(ref("ModelInfo")),
                "has_more": BOOL,
                "first_id": maybe(STR),
                "last_id": maybe(STR),
            },
            ("data", "has_more", "first_id", "last_id"),
        ),
        "ModelInfo": obj(
            {
                "type": const("model"),
                "id": STR,
                "display_name": STR,
                "created_at": {**STR, "format": "date-time"},
            },
            ("type", "id", "display_name", "created_at"),
        ),
        "OpenAIModelList": obj(
            {
                "object": const("list"),
                "data": array(
                    obj(
                        {"id": STR, "object": const("model"), "created": INT, "owned_by": STR},
                        ("id", "object", "created", "owned_by"),
                    )
                ),
            },
            ("object", "data"),
        ),
        "Error": obj(
            {"type": const("error"), "error": ref("ErrorObject"), "request_id": maybe(STR)},
            ("type", "error", "request_id"),
            description="Every error on the Anthropic routes. `request_id` is null only in "
            "the HTTP server's own answers, given before any route (see x-lynkr-unrouted).",
        ),
        "ErrorObject": obj(
            {"type": {**STR, "examples": sorted(set(ERROR_TYPES.values()))}, "message": STR},
            ("type", "message"),
            description="`type` is Anthropic's error type; a message never carries a secret.",
        ),
        "Root": obj({"name": const("lynkr"), "status": const("ok")}, ("name", "status")),
        "Live": obj({"status": const("ok")}, ("status",)),
        "Ready": obj(
            {
                "status": enum("ok", "unavailable"),
                "provider": maybe(STR),
                "problem": STR,
                "upstream_status": INT,
                "upstream_ms": NUM,
            },
            ("status", "provider"),
        ),
        "Empty": {"type": "object", "maxProperties": 0},
    }
