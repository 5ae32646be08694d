"""Real Claude Code request fixtures and real SDK types on both sides of the translation.

Requests are checked against the ``openai`` SDK's own TypedDicts (every key known, every
required key present, literal values allowed); events go through the ``anthropic`` SDK's
stream accumulator, both in-process and over a real SSE connection from a local aiohttp app.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
import typing_extensions
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message, RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)
from pydantic import TypeAdapter

from lynkr_cli.serve.providers.databricks import DatabricksProvider
from lynkr_cli.serve.providers.ollama import OllamaProvider
from lynkr_cli.serve.providers.openai import OpenAIProvider
from lynkr_cli.serve.translate import (
    StreamTranslator,
    accumulate,
    anthropic_message_to_events,
    to_openai_request,
)
from tests.conftest import fixture_path

QUIRKS = {
    "openai": OpenAIProvider.quirks,
    "databricks": DatabricksProvider.quirks,
    "ollama": OllamaProvider.quirks,
}
FIXTURES = [
    "tool-loop.1.messages.json",
    "tool-loop.2.messages.json",
    "count-tokens.1.messages.json",
    "count-tokens.3.messages.json",
]
FLAVORS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-5"),
    ("databricks", "databricks-claude-sonnet-4-5"),
    ("ollama", "qwen3:8b"),
]


def check(value: Any, tp: Any, path: str = "$") -> None:
    """Strict structural check of ``value`` against an SDK TypedDict type; raises AssertionError."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated or origin in (typing.Required, typing.NotRequired):
        return check(value, args[0], path)
    if tp is typing.Any or tp is object:
        return None
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return check(value, option, path)
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: matches no option of {tp}: {errors}")
    if origin is typing.Literal:
        assert value in args, f"{path}: {value!r} not in {args}"
        return None
    if typing_extensions.is_typeddict(tp):
        assert isinstance(value, dict), f"{path}: expected object"
        hints = typing.get_type_hints(tp, include_extras=True)
        unknown = set(value) - set(hints)
        assert not unknown, f"{path}: unknown keys {sorted(unknown)}"
        missing = set(tp.__required_keys__) - set(value)
        assert not missing, f"{path}: missing {sorted(missing)}"
        for key, item in value.items():
            check(item, hints[key], f"{path}.{key}")
        return None
    if tp is type(None):
        assert value is None, f"{path}: expected null"
        return None
    name = getattr(origin, "__name__", "")
    if (
        origin in (list, Iterable, typing.Iterable)
        or "Sequence" in name
        or origin is typing.Sequence
    ):
        assert isinstance(value, list), f"{path}: expected array"
        for i, item in enumerate(value):
            check(item, args[0] if args else Any, f"{path}.{i}")
        return None
    if origin in (dict, Mapping) or tp is dict:
        assert isinstance(value, dict), f"{path}: expected object"
        return None
    if tp is float:
        assert isinstance(value, int | float) and not isinstance(value, bool), (
            f"{path}: expected number"
        )
        return None
    if isinstance(tp, type):
        assert isinstance(value, tp), f"{path}: expected {tp.__name__}, got {type(value).__name__}"
        return None
    raise AssertionError(f"{path}: checker does not understand {tp!r}")


def fixture_body(name: str) -> dict[str, Any]:
    return json.loads(fixture_path(name).read_text())["body"]


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize(("flavor", "model"), FLAVORS)
def test_claude_code_fixtures_translate_to_valid_openai_requests(
    name: str, flavor: str, model: str
) -> None:
    body = fixture_body(name)
    for stream, params in (
        (True, CompletionCreateParamsStreaming),
        (False, CompletionCreateParamsNonStreaming),
    ):
        out = to_openai_request(body, model=model, stream=stream, quirks=QUIRKS[flavor])
        extra = {"thinking"} if flavor == "databricks" else set()
        check({k: v for k, v in out.items() if k not in extra}, params)
        text = json.dumps(out)
        for forbidden in (
            "x-anthropic-billing-header",
            "cache_control",
            "signature",
            "context_management",
            "defer_loading",
            "output_config",
        ):
            assert forbidden not in text, (forbidden, flavor)
        names = [t["function"]["name"] for t in out.get("tools", [])]
        assert names == [t["name"] for t in body["tools"]]  # exact names, same order
        assert out["messages"][0]["role"] == "system"


def test_tool_loop_fixture_pairs_tool_call_and_result() -> None:
    out = to_openai_request(fixture_body("tool-loop.2.messages.json"), model="gpt-4o", stream=True)
    calls = [
        c for m in out["messages"] if m["role"] == "assistant" for c in m.get("tool_calls", [])
    ]
    results = [m for m in out["messages"] if m["role"] == "tool"]
    assert [c["id"] for c in calls] == [r["tool_call_id"] for r in results]
    assert json.loads(calls[0]["function"]["arguments"])["command"] == "echo hi"
    assert results[0]["content"] == "hi"


def test_checker_rejects_unknown_keys() -> None:
    with pytest.raises(AssertionError, match="unknown keys"):
        check(
            {"model": "m", "messages": [], "stream": True, "top_k": 3},
            CompletionCreateParamsStreaming,
        )
    with pytest.raises(AssertionError, match="unknown keys"):
        check(
            {
                "model": "m",
                "messages": [{"role": "assistant", "content": "x", "signature": "s"}],
                "stream": True,
            },
            CompletionCreateParamsStreaming,
        )


def sdk_accumulate(events: list[dict[str, Any]]) -> Message:
    adapter = TypeAdapter(RawMessageStreamEvent)
    snapshot: Any = None
    bufs: dict[int, bytes] = {}
    for event in events:
        snapshot = accumulate_event(
            event=adapter.validate_python(event), current_snapshot=snapshot, json_bufs=bufs
        )
    return Message.model_validate(snapshot.model_dump())


OPENAI_TOOL_STREAM = [
    {
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        ]
    },
    {
        "choices": [
            {"index": 0, "delta": {"reasoning_content": "User wants ls."}, "finish_reason": None}
        ]
    },
    {"choices": [{"index": 0, "delta": {"content": "Listing."}, "finish_reason": None}]},
    {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "Bash", "arguments": ""},
                        }
                    ]
                },
                "finish_reason": None,
            }
        ]
    },
    {
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"comma'}}]},
                "finish_reason": None,
            }
        ]
    },
    {
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'nd":"ls -la"}'}}]},
                "finish_reason": None,
            }
        ]
    },
    {
        "choices": [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "Read", "arguments": '{"file_path":"/etc/hosts"}'},
                        }
                    ]
                },
                "finish_reason": None,
            }
        ]
    },
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    {
        "choices": [],
        "usage": {
            "prompt_tokens": 900,
            "completion_tokens": 40,
            "total_tokens": 940,
            "prompt_tokens_details": {"cached_tokens": 512},
        },
    },
]


def openai_chunks() -> list[dict[str, Any]]:
    chunks = []
    for raw in OPENAI_TOOL_STREAM:
        c = {
            "id": "chatcmpl-x",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o",
            **raw,
        }
        ChatCompletionChunk.model_validate(c)  # the fake upstream speaks real OpenAI
        chunks.append(c)
    return chunks


def translated_events() -> list[dict[str, Any]]:
    t = StreamTranslator(model="claude-sonnet-4-5", input_tokens=1000)
    return [e for c in openai_chunks() for e in t.feed(c)] + t.finish()


def test_sdk_accumulator_agrees_with_ours() -> None:
    events = translated_events()
    theirs = sdk_accumulate(events)
    ours = Message.model_validate(accumulate(events))
    assert theirs.model_dump() == ours.model_dump()
    assert [b.type for b in theirs.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert theirs.content[2].input == {"command": "ls -la"}  # type: ignore[union-attr]
    assert theirs.stop_reason == "tool_use"
    assert theirs.usage.input_tokens == 388 and theirs.usage.cache_read_input_tokens == 512
    assert theirs.model == "claude-sonnet-4-5"


def test_message_to_events_round_trip() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-8",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "EqRealSig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Hi ✓"},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "Bash",
                "input": {"command": 'echo "x"', "n": [1, 2]},
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 3,
        },
    }
    Message.model_validate(message)
    events = anthropic_message_to_events(message)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert sdk_accumulate(events).model_dump(exclude_none=True) == Message.model_validate(
        message
    ).model_dump(exclude_none=True)
    assert accumulate(events) == message


async def test_anthropic_sdk_streams_translated_events_over_real_sse() -> None:
    from aiohttp import web
    from anthropic import AsyncAnthropic

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        t = StreamTranslator(model=body["model"], input_tokens=1000)
        for c in openai_chunks():
            for e in t.feed(c):
                await response.write(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode())
        for e in t.finish():
            await response.write(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode())
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        client = AsyncAnthropic(
            base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=0, timeout=10
        )
        async with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "ls"}]
        ) as stream:
            final = await stream.get_final_message()
        await client.close()
    finally:
        await runner.cleanup()
    assert final.model == "claude-haiku-4-5"
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert final.content[3].input == {"file_path": "/etc/hosts"}  # type: ignore[union-attr]
    assert final.usage.output_tokens == 40
