"""OpenAI's Chat Completions shapes (docs/openai-clients.md) as the gateway answers them.

The request allows only the fields the translator knows (``KNOWN_FIELDS``): the gateway
rejects others as OpenAI does. Answers relayed from an OpenAI-format upstream keep that
upstream's own extra fields.
"""

from __future__ import annotations

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
    const,
    enum,
    json_text,
    maybe,
    obj,
    ref,
    sse,
)
from lynkr_cli.serve.translate.chat_request import EFFORTS, KNOWN_FIELDS

_TEXT_PART = obj({"type": const("text"), "text": STR}, ("type", "text"))
_PARTS = {
    "text": _TEXT_PART,
    "image_url": obj(
        {"type": const("image_url"), "image_url": obj({"url": STR, "detail": STR}, ("url",))},
        ("type", "image_url"),
    ),
    "file": obj(
        {"type": const("file"), "file": obj({"file_data": STR, "filename": STR, "file_id": STR})},
        ("type", "file"),
    ),
}
_CALL = obj(
    {
        "id": STR,
        "type": const("function"),
        "function": obj({"name": STR, "arguments": STR}, ("name", "arguments")),
    },
    ("id", "function"),
)
CHAT_MESSAGE: Schema = {
    "anyOf": [
        obj(
            {
                "role": enum("system", "developer"),
                "content": {"anyOf": [STR, array(_TEXT_PART)]},
                "name": STR,
            },
            ("role", "content"),
        ),
        obj(
            {
                "role": const("user"),
                "name": STR,
                "content": {"anyOf": [STR, array({"anyOf": list(_PARTS.values())})]},
            },
            ("role", "content"),
        ),
        obj(
            {
                "role": const("assistant"),
                "name": STR,
                "refusal": maybe(STR),
                "content": {"anyOf": [STR, NULL, array(OBJ)]},
                "tool_calls": array(_CALL),
            },
            ("role",),
        ),
        obj(
            {
                "role": const("tool"),
                "tool_call_id": STR,
                "content": {"anyOf": [STR, array(_TEXT_PART)]},
            },
            ("role", "tool_call_id", "content"),
        ),
    ]
}
_CHAT_FIELDS: dict[str, Schema] = {
    "model": {**STR, "minLength": 1},
    "messages": array(ref("ChatMessage"), minItems=1),
    "max_completion_tokens": {**INT, "minimum": 1, "description": "wins over max_tokens"},
    "max_tokens": {**INT, "minimum": 1},
    "temperature": {**NUM, "minimum": 0, "maximum": 2, "description": "capped at 1 upstream"},
    "top_p": NUM,
    "stop": {"anyOf": [STR, array(STR), NULL]},
    "stream": maybe(BOOL),
    "stream_options": maybe(obj({"include_usage": BOOL})),
    "tools": array(
        obj(
            {
                "type": const("function"),
                "function": obj(
                    {"name": STR, "description": STR, "parameters": OBJ, "strict": maybe(BOOL)},
                    ("name",),
                ),
            },
            ("type", "function"),
        )
    ),
    "tool_choice": {
        "anyOf": [
            enum("none", "auto", "required"),
            obj(
                {"type": const("function"), "function": obj({"name": STR}, ("name",))},
                ("type", "function"),
            ),
        ]
    },
    "parallel_tool_calls": BOOL,
    "response_format": {
        "anyOf": [
            obj({"type": enum("text", "json_object")}, ("type",)),
            obj(
                {
                    "type": const("json_schema"),
                    "json_schema": obj(
                        {"name": STR, "schema": OBJ, "strict": maybe(BOOL), "description": STR},
                        ("name",),
                    ),
                },
                ("type", "json_schema"),
            ),
        ]
    },
    "reasoning_effort": maybe(enum(*EFFORTS)),
    "user": STR,
    "safety_identifier": STR,
    "metadata": maybe(OBJ),
    "n": maybe({**INT, "const": 1, "description": "only 1: another value is a 400"}),
    "logprobs": maybe({**BOOL, "const": False, "description": "true is a 400"}),
    "modalities": maybe(array(const("text"))),
    "top_k": {**INT, "minimum": 0},
    "thinking": obj({"type": STR}, ("type",), description="Anthropic's own object"),
}
_REFUSED = {"top_logprobs", "audio", "functions", "function_call", "web_search_options"}
_IGNORED = "accepted without effect (as Anthropic's own OpenAI compatibility layer does)"
CHAT_REQUEST = obj(
    {
        **_CHAT_FIELDS,
        **{
            k: {"description": _IGNORED}
            for k in sorted(KNOWN_FIELDS - set(_CHAT_FIELDS) - _REFUSED)
        },
        **{k: {"not": {}, "description": "refused with a 400"} for k in sorted(_REFUSED)},
    },
    ("model", "messages"),
    additionalProperties=False,
    description="Unknown fields are a 400 (Unrecognized request argument supplied), as at "
    "OpenAI. docs/openai-clients.md has how each field is translated.",
)
CHAT_USAGE = obj(
    {
        "prompt_tokens": COUNT,
        "completion_tokens": COUNT,
        "total_tokens": COUNT,
        "prompt_tokens_details": maybe(obj({"cached_tokens": COUNT})),
        "completion_tokens_details": maybe(OBJ),
    },
    ("prompt_tokens", "completion_tokens", "total_tokens"),
)
FINISH = enum("stop", "length", "tool_calls", "content_filter", "function_call")
_REPLY = obj(
    {
        "role": const("assistant"),
        "content": maybe(STR),
        "refusal": maybe(STR),
        "reasoning_content": maybe(STR),
        "tool_calls": array(_CALL),
    },
    ("role",),
)
_DELTA = obj(
    {
        "role": const("assistant"),
        "content": maybe(STR),
        "refusal": maybe(STR),
        "reasoning_content": maybe(STR),
        "tool_calls": array(
            obj(
                {
                    "index": COUNT,
                    "id": STR,
                    "type": const("function"),
                    "function": obj({"name": STR, "arguments": STR}),
                },
                ("index",),
            )
        ),
    },
)
_PASSED = (
    "On an OpenAI-format upstream (passthrough) the upstream's own fields are relayed too, "
    "and it names the model the upstream reports."
)
CHAT_COMPLETION = obj(
    {
        "id": STR,
        "object": const("chat.completion"),
        "created": INT,
        "model": STR,
        "choices": array(
            obj(
                {
                    "index": COUNT,
                    "message": _REPLY,
                    "logprobs": maybe(OBJ),
                    "finish_reason": FINISH,
                },
                ("index", "message", "finish_reason"),
            )
        ),
        "usage": ref("ChatUsage"),
    },
    ("id", "object", "model", "choices"),
    description=_PASSED,
)
CHAT_CHUNK = obj(
    {
        "id": STR,
        "object": const("chat.completion.chunk"),
        "created": INT,
        "model": STR,
        "choices": array(
            obj(
                {
                    "index": COUNT,
                    "delta": _DELTA,
                    "logprobs": maybe(OBJ),
                    "finish_reason": maybe(FINISH),
                },
                ("index", "delta"),
            )
        ),
        "usage": maybe(ref("ChatUsage")),
    },
    ("id", "object", "choices"),
    description="One `data:` line of a chat stream. With stream_options.include_usage the "
    "last chunk has `choices: []` and the usage. " + _PASSED,
)
OPENAI_ERROR_OBJECT = obj(
    {"message": STR, "type": STR, "param": maybe(STR), "code": maybe(STR)},
    ("message", "type", "param", "code"),
)


def schemas() -> dict[str, Schema]:
    """The chat route's schemas."""
    return {
        "ChatCompletionRequest": CHAT_REQUEST,
        "ChatMessage": CHAT_MESSAGE,
        "ChatCompletion": CHAT_COMPLETION,
        "ChatCompletionChunk": CHAT_CHUNK,
        "ChatStream": sse(
            {"type": "string", "if": {"const": "[DONE]"}, "else": json_text("ChatStreamData")},
            event=False,
            description="One event of a chat stream: a `data:` line, without an event name. "
            "The last is `data: [DONE]` (not JSON), unless an error ended the stream.",
        ),
        "ChatStreamData": {
            "anyOf": [ref("ChatCompletionChunk"), ref("OpenAIError")],
            "description": "The data of a chat stream line: a chunk, or an error that ends a "
            "stream which failed after the 200 (no [DONE] follows).",
        },
        "ChatUsage": CHAT_USAGE,
        "OpenAIError": obj(
            {"error": ref("OpenAIErrorObject")},
            ("error",),
            description="Every error on /v1/chat/completions, as api.openai.com sends it.",
        ),
        "OpenAIErrorObject": OPENAI_ERROR_OBJECT,
    }
