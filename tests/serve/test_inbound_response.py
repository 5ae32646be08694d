"""Anthropic answers -> OpenAI chat completions and chunk streams, checked with the ``openai``
SDK's own models, and round trips through the outbound translators (the same mapping
tables read the other way must give the original back)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from lynkr_cli.serve.translate import (
    DONE,
    ChatStreamWriter,
    StreamTranslator,
    accumulate,
    anthropic_message_to_events,
    from_openai_response,
    to_chat_completion,
)
from lynkr_cli.serve.translate.maps import (
    EFFORT_BUDGETS,
    FINISH_PAIRS,
    TOOL_CHOICE_PAIRS,
    anthropic_usage,
    budget_to_effort,
    effort_to_budget,
    finish_to_stop_reason,
    image_source_to_url,
    image_url_to_source,
    openai_usage,
    stop_to_finish_reason,
    tool_choice_to_anthropic,
    tool_choice_to_openai,
)

USAGE = {
    "input_tokens": 100,
    "output_tokens": 42,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 900,
}


def message(content: list[dict[str, Any]], stop: str = "end_turn", **extra: Any) -> dict[str, Any]:
    msg = {
        "id": "msg_0123456789abcdef01234567",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": dict(USAGE),
        **extra,
    }
    Message.model_validate(msg)  # a real Anthropic message
    return msg


TOOLS_MESSAGE = message(
    [
        {"type": "thinking", "thinking": "Two lookups.", "signature": "EqSig"},
        {"type": "text", "text": "Checking both."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}},
    ],
    stop="tool_use",
)


# -- the shared tables, both ways -----------------------------------------------------------


def test_finish_reasons_round_trip() -> None:
    for finish, stop in FINISH_PAIRS:
        assert finish_to_stop_reason(finish) == stop and stop_to_finish_reason(stop) == finish
    assert stop_to_finish_reason("stop_sequence") == "stop"
    assert stop_to_finish_reason("pause_turn") == "stop"
    assert stop_to_finish_reason("model_context_window_exceeded") == "length"
    assert stop_to_finish_reason(None) == "stop" and finish_to_stop_reason(None) == "end_turn"


def test_tool_choice_round_trips() -> None:
    for openai, anthropic in TOOL_CHOICE_PAIRS:
        assert tool_choice_to_anthropic(openai) == {"type": anthropic}
        assert tool_choice_to_openai(anthropic) == openai
    named = tool_choice_to_openai("tool", "Bash")
    assert tool_choice_to_anthropic(named) == {"type": "tool", "name": "Bash"}
    assert tool_choice_to_anthropic("any") is None
    with pytest.raises(ValueError, match=r"tool_choice\.type"):
        tool_choice_to_openai("sometimes")


def test_images_round_trip() -> None:
    for source in (
        {"type": "base64", "media_type": "image/webp", "data": "UklGRg=="},
        {"type": "url", "url": "https://example.com/a.png"},
    ):
        url = image_source_to_url(source)
        assert url is not None and image_url_to_source(url) == source


def test_usage_round_trips() -> None:
    oai = openai_usage(USAGE)
    assert oai == {
        "prompt_tokens": 1000,
        "completion_tokens": 42,
        "total_tokens": 1042,
        "prompt_tokens_details": {"cached_tokens": 900},
    }
    assert anthropic_usage(oai) == USAGE
    written = openai_usage({**USAGE, "cache_creation_input_tokens": 50})
    assert written["prompt_tokens"] == 1050  # cache writes are ordinary prompt tokens to OpenAI


def test_effort_and_budget_round_trip() -> None:
    for effort in EFFORT_BUDGETS:
        budget = effort_to_budget(effort)
        assert budget is not None and budget_to_effort(budget) == effort
    assert effort_to_budget("none") is None and budget_to_effort(None) == "low"


# -- complete answers -------------------------------------------------------------------------


def test_message_with_thinking_text_and_parallel_tools() -> None:
    out = to_chat_completion(TOOLS_MESSAGE, model="gpt-4o", created=1700000000)
    parsed = ChatCompletion.model_validate(out)
    choice = parsed.choices[0]
    assert parsed.id == "chatcmpl-0123456789abcdef01234567" and parsed.model == "gpt-4o"
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking both."
    assert choice.message.model_extra == {"reasoning_content": "Two lookups."}
    calls = choice.message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("toolu_01A", "get_weather", {"city": "Paris"}),
        ("toolu_01B", "get_time", {}),
    ]
    assert parsed.usage is not None and parsed.usage.prompt_tokens == 1000
    assert parsed.usage.prompt_tokens_details is not None
    assert parsed.usage.prompt_tokens_details.cached_tokens == 900


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("refusal", "content_filter"),
    ],
)
def test_plain_answers(stop: str, finish: str) -> None:
    out = to_chat_completion(message([{"type": "text", "text": "Hi"}], stop), model="m")
    parsed = ChatCompletion.model_validate(out)
    assert parsed.choices[0].finish_reason == finish
    assert parsed.choices[0].message.content == "Hi"
    assert parsed.choices[0].message.tool_calls is None


def test_tool_only_answer_has_null_content_and_skips_opaque_blocks() -> None:
    msg = message(
        [
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, "✓"]}},
        ],
        "tool_use",
    )
    out = ChatCompletion.model_validate(to_chat_completion(msg, model="m"))
    assert out.choices[0].message.content is None
    assert out.choices[0].message.model_extra == {}


def test_completion_round_trips_through_the_outbound_translator() -> None:
    """Anthropic -> OpenAI (inbound writer) -> Anthropic (outbound reader) gives it back."""
    back = from_openai_response(
        to_chat_completion(TOOLS_MESSAGE, model="x"), model="claude-sonnet-4-5"
    )
    assert back["stop_reason"] == "tool_use" and back["usage"] == USAGE
    original = [dict(b) for b in TOOLS_MESSAGE["content"]]
    original[0]["signature"] = ""  # signatures cannot travel through OpenAI's shape
    assert back["content"] == original


# -- streams ----------------------------------------------------------------------------------


def frames_of(events: list[dict[str, Any]], include_usage: bool = True) -> list[bytes]:
    writer = ChatStreamWriter(model="gpt-4o", include_usage=include_usage, created=1)
    frames = [f for e in events for f in writer.feed(e)]
    return frames + writer.finish()


def chunks_of(frames: list[bytes]) -> list[ChatCompletionChunk]:
    assert frames[-1] == DONE
    out = []
    for frame in frames[:-1]:
        assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
        out.append(ChatCompletionChunk.model_validate(orjson.loads(frame[6:])))
    return out


def test_stream_order_role_deltas_finish_usage_done() -> None:
    chunks = chunks_of(frames_of(anthropic_message_to_events(TOOLS_MESSAGE)))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.id == "chatcmpl-0123456789abcdef01234567" for c in chunks)
    last_choice = chunks[-2].choices[0]
    assert last_choice.finish_reason == "tool_calls" and last_choice.delta.content is None
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 1042
    assert all(c.usage is None for c in chunks[:-1])
    extras = [c.choices[0].delta.model_extra or {} for c in chunks[:-1]]
    reasoning = "".join(e.get("reasoning_content", "") for e in extras)
    assert reasoning == "Two lookups."
    calls = [t for c in chunks[:-1] for t in (c.choices[0].delta.tool_calls or [])]
    assert [(t.index, t.id) for t in calls if t.id] == [(0, "toolu_01A"), (1, "toolu_01B")]
    args: dict[int, str] = {}
    for t in calls:
        args[t.index] = args.get(t.index, "") + (t.function.arguments or "")  # type: ignore[union-attr]
    assert {i: json.loads(a) for i, a in args.items()} == {0: {"city": "Paris"}, 1: {}}


def test_stream_without_include_usage_has_no_usage_chunk() -> None:
    chunks = chunks_of(frames_of(anthropic_message_to_events(TOOLS_MESSAGE), include_usage=False))
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert b'"usage"' not in b"".join(frames_of(anthropic_message_to_events(TOOLS_MESSAGE), False))


def test_stream_round_trips_through_the_outbound_stream_translator() -> None:
    """Events -> our chunks -> StreamTranslator (OpenAI reader) -> the same message."""
    frames = frames_of(anthropic_message_to_events(TOOLS_MESSAGE))
    reader = StreamTranslator(model="claude-sonnet-4-5")
    events = [e for f in frames[:-1] for e in reader.feed(orjson.loads(f[6:]))] + reader.finish()
    back = accumulate(events)
    original = [dict(b) for b in TOOLS_MESSAGE["content"]]
    original[0]["signature"] = ""
    assert back["content"] == original and back["usage"] == USAGE
    assert back["stop_reason"] == "tool_use"


def test_fragments_go_out_as_they_arrive() -> None:
    events = anthropic_message_to_events(TOOLS_MESSAGE)
    # split the first tool's arguments into one-character fragments
    start = next(
        i for i, e in enumerate(events) if e.get("delta", {}).get("type") == "input_json_delta"
    )
    whole = events[start]["delta"]["partial_json"]
    pieces = [
        {
            "type": "content_block_delta",
            "index": events[start]["index"],
            "delta": {"type": "input_json_delta", "partial_json": ch},
        }
        for ch in whole
    ]
    writer = ChatStreamWriter(model="m", created=1)
    out = [writer.feed(e) for e in events[:start] + pieces]
    assert all(len(f) == 1 for f in out[-len(pieces) :])  # one chunk per fragment, no buffering


def test_error_event_mid_stream() -> None:
    events = anthropic_message_to_events(message([{"type": "text", "text": "partial"}]))[:4]
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    frames = frames_of(events)
    assert DONE not in frames
    assert orjson.loads(frames[-1][6:]) == {
        "error": {"message": "busy", "type": "server_error", "param": None, "code": None}
    }


def test_cut_stream_ends_with_an_error_not_done() -> None:
    events = anthropic_message_to_events(message([{"type": "text", "text": "partial"}]))[:4]
    frames = frames_of(events)
    assert DONE not in frames and b'"error"' in frames[-1]
    writer = ChatStreamWriter(model="m")
    assert writer.finish() and writer.finish() == []  # only once


def test_pings_signatures_and_server_tools_make_no_chunks() -> None:
    writer = ChatStreamWriter(model="m", created=1)
    first = writer.feed({"type": "message_start", "message": {"id": "msg_1", "usage": {}}})
    assert len(first) == 1
    quiet = [
        {"type": "ping"},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {},
            },
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"q":1}'},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "signature_delta", "signature": "s"},
        },
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": ""}},
        {"type": "made_up_event"},
    ]
    assert [writer.feed(e) for e in quiet] == [[]] * len(quiet)
    writer.feed(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 3},
        }
    )
    end = writer.feed({"type": "message_stop"})
    assert b'"finish_reason":"stop"' in end[0]  # only a server tool ran: nothing to call
    assert end[-1] == DONE and writer.feed({"type": "message_stop"}) == []


def test_model_names_are_json_escaped() -> None:
    writer = ChatStreamWriter(model='we"ird\nname', created=1)
    frame = writer.feed({"type": "message_start", "message": {"id": "msg_1"}})[0]
    assert ChatCompletionChunk.model_validate(orjson.loads(frame[6:])).model == 'we"ird\nname'
