"""Hostile OpenAI chat requests and malformed events never break the inbound translators.

Every location of a valid request (built like the ``openai`` SDK sends it) gets every
wrong value of the gateway fuzzer: the translator either returns a request the rest of
the gateway accepts, or raises ``ChatRequestError`` naming a field (a 400). Anything else
would be a 5xx. The stream writer gets the same treatment with Anthropic events.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from lynkr_cli.serve.errors import validate_messages_request
from lynkr_cli.serve.translate import (
    ChatRequestError,
    ChatStreamWriter,
    anthropic_message_to_events,
    from_chat_request,
    to_chat_completion,
)
from tests.security.fuzzgen import WRONG, _paths, _set

VALID: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read", "arguments": '{"path":"a"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "file body"},
        {"role": "user", "content": "and?"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "read",
                "description": "read a file",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "read"}},
    "parallel_tool_calls": False,
    "temperature": 0.5,
    "max_completion_tokens": 2000,
    "stop": ["END"],
    "user": "u",
    "stream": True,
    "stream_options": {"include_usage": True},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "r", "schema": {"type": "object"}},
    },
    "reasoning_effort": "low",
}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "m",
    "content": [
        {"type": "thinking", "thinking": "t", "signature": "s"},
        {"type": "text", "text": "x"},
        {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"path": "a"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 2},
}


def test_every_wrong_value_everywhere_is_a_400_or_a_valid_request() -> None:
    outcomes = {"ok": 0, "400": 0}
    for path in [p for p in _paths(VALID) if p]:
        for value in WRONG:
            body = _set(VALID, path, value)
            try:
                req = from_chat_request(body, default_max_tokens=100)
            except ChatRequestError as exc:
                assert str(exc) and (exc.param is None or str(exc).startswith(exc.param))
                outcomes["400"] += 1
                continue
            validate_messages_request(json.loads(json.dumps(req.body)))
            orjson.dumps(req.body)
            outcomes["ok"] += 1
    assert outcomes["ok"] > 100 and outcomes["400"] > 500, outcomes


def test_removing_any_field_is_a_400_or_a_valid_request() -> None:
    for path in [p for p in _paths(VALID) if p]:
        doc = json.loads(json.dumps(VALID))
        target = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
        try:
            req = from_chat_request(doc, default_max_tokens=100)
        except ChatRequestError:
            continue
        validate_messages_request(json.loads(json.dumps(req.body)))


def test_malformed_events_never_raise() -> None:
    events = anthropic_message_to_events(MESSAGE)
    for i, event in enumerate(events):
        for path in [p for p in _paths(event) if p]:
            for value in WRONG:
                broken = [*events[:i], _set(event, path, value), *events[i + 1 :]]
                writer = ChatStreamWriter(model="m", include_usage=True)
                frames = [f for e in broken for f in writer.feed(e)] + writer.finish()
                for frame in frames:
                    if frame != b"data: [DONE]\n\n":
                        orjson.loads(frame[6:])  # every frame stays valid JSON


def test_malformed_messages_never_raise() -> None:
    for path in [p for p in _paths(MESSAGE) if p]:
        for value in WRONG:
            out = to_chat_completion(_set(MESSAGE, path, value), model="m")
            orjson.dumps(out)
