"""OpenAI stream chunks -> Anthropic events: the protocol.md §4 state machine and its pitfalls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

from lynkr_cli.serve.translate import StreamTranslator, UpstreamStreamError, accumulate

EVENT = TypeAdapter(RawMessageStreamEvent)


def chunk(
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    c: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "up"}
    c["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []
    if usage is not None:
        c["usage"] = usage
    return c


def run(chunks: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
    kw.setdefault("model", "claude-sonnet-4-5")
    t = StreamTranslator(**kw)
    events: list[dict[str, Any]] = []
    for c in chunks:
        events.extend(t.feed(c))
    events.extend(t.finish())
    for e in events:  # every event is a valid Anthropic stream event
        EVENT.validate_python(e)
    return events


def tool_chunk(
    index: int, args: str, call_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    fn: dict[str, Any] = {"arguments": args}
    call: dict[str, Any] = {"index": index, "function": fn}
    if call_id:
        call["id"] = call_id
        call["type"] = "function"
    if name:
        fn["name"] = name
    return chunk({"tool_calls": [call]})


USAGE = {
    "prompt_tokens": 50,
    "completion_tokens": 9,
    "total_tokens": 59,
    "prompt_tokens_details": {"cached_tokens": 20},
}


def test_text_stream_order_usage_and_model_echo() -> None:
    events = run(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}),
            chunk(finish="stop"),
            chunk(usage=USAGE, choices=False),
        ],
        input_tokens=42,
    )
    types = [e["type"] for e in events]
    assert types == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0]["message"]
    assert start["model"] == "claude-sonnet-4-5" and start["usage"]["input_tokens"] == 42
    delta = events[-2]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    # held until the usage chunk that came after finish_reason
    assert delta["usage"] == {
        "input_tokens": 30,
        "output_tokens": 9,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 20,
    }
    message = accumulate(events)
    assert message["content"] == [{"type": "text", "text": "Hello"}]


def test_message_start_first_even_for_usage_only_or_empty_stream() -> None:
    t = StreamTranslator(model="m")
    assert [e["type"] for e in t.feed(chunk(usage=USAGE, choices=False))] == ["message_start"]
    assert [e["type"] for e in StreamTranslator(model="m").finish()] == [
        "message_start",
        "message_delta",
        "message_stop",
    ]


def test_no_usage_falls_back_to_estimates() -> None:
    events = run([chunk({"content": "hello world"}), chunk(finish="stop")], input_tokens=12)
    usage = events[-2]["usage"]
    assert usage["input_tokens"] == 12 and usage["output_tokens"] >= 2


def test_content_and_finish_in_one_chunk_are_split() -> None:
    events = run([chunk({"content": "all at once"}, finish="length")])
    assert [e["type"] for e in events][1:4] == [
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
    ]
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"


def test_text_chunks_carrying_more_than_text_leave_the_fast_path() -> None:
    """Plain text chunks take a short cut once a text block is open; a chunk that also
    carries usage, a finish, a tool call or reasoning must still be read in full."""
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    events = run(
        [
            chunk({"content": "a"}),
            chunk({"content": "b"}),  # fast
            {**chunk({"content": "c"}), "usage": usage},  # text + usage
            chunk({"reasoning_content": "hmm"}),  # closes the text block
            chunk({"content": "d"}),  # a new text block
            chunk({"content": "e"}, finish="length"),  # text + finish
        ]
    )
    texts = [e["delta"].get("text") for e in events if e["type"] == "content_block_delta"]
    assert texts == ["a", "b", "c", None, "d", "e"]
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["text", "thinking", "text"]
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2]["usage"]["output_tokens"] == 3


def test_empty_tool_calls_list_is_absent() -> None:
    events = run(
        [
            chunk({"content": "hi", "tool_calls": []}),
            chunk({"content": "!", "tool_calls": []}, finish="stop"),
        ]
    )
    assert not any(e.get("delta", {}).get("type") == "input_json_delta" for e in events)
    assert accumulate(events)["content"] == [{"type": "text", "text": "hi!"}]
    assert events[-2]["delta"]["stop_reason"] == "end_turn"


def test_combined_delta_split_thinking_text_tool() -> None:
    combined = {
        "reasoning_content": "plan",
        "content": "ok",
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "Bash", "arguments": '{"command":"ls"}'},
            }
        ],
    }
    events = run([chunk(combined, finish="tool_calls")])
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "text", "tool_use"]
    message = accumulate(events)
    assert message["content"][0] == {"type": "thinking", "thinking": "plan", "signature": ""}
    assert message["content"][2]["input"] == {"command": "ls"}
    assert message["stop_reason"] == "tool_use"
    # no signature is ever synthesised
    assert not any(e.get("delta", {}).get("type") == "signature_delta" for e in events)


def test_parallel_tool_calls_raw_fragments() -> None:
    chunks = [
        chunk({"content": "Two calls."}),
        tool_chunk(0, "", "call_a", "Bash"),
        tool_chunk(0, '{"comm'),
        tool_chunk(0, 'and":"ls"}'),
        tool_chunk(1, '{"file_', "call_b", "Read"),
        tool_chunk(1, 'path":"/x"}'),
        chunk(finish="tool_calls"),
        chunk(usage=USAGE, choices=False),
    ]
    events = run(chunks)
    fragments = [
        e["delta"]["partial_json"]
        for e in events
        if e.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert fragments == [
        '{"comm',
        'and":"ls"}',
        '{"file_',
        'path":"/x"}',
    ]  # streamed raw, not buffered
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [(s["index"], s["content_block"].get("name")) for s in starts] == [
        (0, None),
        (1, "Bash"),
        (2, "Read"),
    ]
    assert starts[1]["content_block"]["input"] == {}
    message = accumulate(events)
    assert [b.get("input") for b in message["content"][1:]] == [
        {"command": "ls"},
        {"file_path": "/x"},
    ]
    assert [b["id"] for b in message["content"][1:]] == ["call_a", "call_b"]


ARGS = json.dumps(
    {
        "command": 'echo "héllo wörld" && ls -la /tmp',
        "description": "Print ✓ and list",
        "timeout": 1200,
    },
    ensure_ascii=False,
)


@pytest.mark.parametrize("ascii_only", [True, False])
def test_split_at_every_byte_offset_yields_identical_input(ascii_only: bool) -> None:
    """Property: however the upstream splits the argument string, the input is the same."""
    args = json.dumps(json.loads(ARGS), ensure_ascii=ascii_only)
    raw = args.encode("utf-8")
    expected = json.loads(args)
    for cut in range(1, len(raw)):
        # split on bytes; a cut inside a UTF-8 sequence moves to the next boundary, as a
        # decoder streaming text would produce it
        head = raw[:cut].decode("utf-8", errors="ignore")
        tail = args[len(head) :]
        for second_cut in (None, len(tail) // 2):
            parts = (
                [head, tail] if second_cut is None else [head, tail[:second_cut], tail[second_cut:]]
            )
            chunks = (
                [tool_chunk(0, "", "call_1", "Bash")]
                + [tool_chunk(0, p) for p in parts]
                + [chunk(finish="tool_calls")]
            )
            t = StreamTranslator(model="m")
            events = [e for c in chunks for e in t.feed(c)] + t.finish()
            assert accumulate(events)["content"][0]["input"] == expected, cut


def test_tool_call_name_arriving_late_and_missing_index() -> None:
    chunks = [
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"arguments": '{"a":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "Edit", "arguments": "1}"}}]}),
        chunk(
            {"tool_calls": [{"id": "call_2", "function": {"name": "Read", "arguments": '{"b":2}'}}]}
        ),
        chunk(finish="stop"),
    ]
    message = accumulate(run(chunks))
    assert [(b["name"], b["input"]) for b in message["content"]] == [
        ("Edit", {"a": 1}),
        ("Read", {"b": 2}),
    ]
    assert message["stop_reason"] == "tool_use"


def test_reasoning_deltas_then_text() -> None:
    events = run(
        [
            chunk({"reasoning": "Let me "}),
            chunk({"reasoning": "think."}),
            chunk({"content": "Done."}),
            chunk(finish="stop"),
        ]
    )
    message = accumulate(events)
    assert message["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": ""},
        {"type": "text", "text": "Done."},
    ]


def test_databricks_list_shaped_deltas_carry_real_signature() -> None:
    chunks = [
        chunk(
            {
                "content": [
                    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Hmm, "}]}
                ]
            }
        ),
        chunk(
            {
                "content": [
                    {
                        "type": "reasoning",
                        "summary": [{"type": "summary_text", "text": "yes.", "signature": "EqSig"}],
                    }
                ]
            }
        ),
        chunk({"content": [{"type": "text", "text": "Yes"}]}),
        chunk({"content": "!"}, finish="stop"),
    ]
    events = run(chunks)
    sig = [e for e in events if e.get("delta", {}).get("type") == "signature_delta"]
    assert len(sig) == 1 and sig[0]["index"] == 0
    # the signature arrives just before that block's stop
    assert events[events.index(sig[0]) + 1] == {"type": "content_block_stop", "index": 0}
    assert accumulate(events)["content"] == [
        {"type": "thinking", "thinking": "Hmm, yes.", "signature": "EqSig"},
        {"type": "text", "text": "Yes!"},
    ]


def test_content_filter_and_refusal() -> None:
    events = run([chunk({"refusal": "No."}), chunk(finish="content_filter")])
    assert events[-2]["delta"]["stop_reason"] == "refusal"
    events = run([chunk({"refusal": "No."}), chunk(finish="stop")])
    assert events[-2]["delta"]["stop_reason"] == "refusal"
    assert accumulate(events)["content"] == [{"type": "text", "text": "No."}]


def test_error_chunk_raises_and_finish_is_not_called_by_us() -> None:
    t = StreamTranslator(model="m")
    t.feed(chunk({"content": "partial"}))
    with pytest.raises(UpstreamStreamError) as info:
        t.feed({"error": {"message": "Overloaded", "type": "overloaded_error"}})
    assert info.value.error_type == "overloaded_error" and info.value.message == "Overloaded"
    with pytest.raises(UpstreamStreamError) as info:
        StreamTranslator(model="m").feed({"error": "boom"})
    assert info.value.error_type == "api_error"


def test_bad_chunk_type_and_after_finish() -> None:
    t = StreamTranslator(model="m")
    with pytest.raises(TypeError, match="chunk"):
        t.feed("data")  # type: ignore[arg-type]
    t.finish()
    assert t.feed(chunk({"content": "late"})) == [] and t.finish() == []


def test_odd_chunks_are_tolerated() -> None:
    events = run(
        [
            {"choices": None},
            {"choices": [None]},
            chunk({"content": None, "tool_calls": None}),
            {"choices": [{"delta": "x"}]},
            chunk({"content": "ok"}, finish="stop"),
        ]
    )
    assert accumulate(events)["content"] == [{"type": "text", "text": "ok"}]


def test_servers_that_number_every_call_zero() -> None:
    chunks = [
        tool_chunk(0, '{"command":"ls"}', "call_a", "Bash"),
        tool_chunk(0, '{"file_path":', "call_b", "Read"),
        tool_chunk(0, '"/x"}'),
        chunk(finish="tool_calls"),
    ]
    message = accumulate(run(chunks))
    assert [(b["id"], b["input"]) for b in message["content"]] == [
        ("call_a", {"command": "ls"}),
        ("call_b", {"file_path": "/x"}),
    ]


def test_repeated_id_on_every_fragment_is_one_call() -> None:
    chunks = [
        tool_chunk(0, '{"a":', "call_a", "Bash"),
        tool_chunk(0, "1}", "call_a"),
        chunk(finish="tool_calls"),
    ]
    message = accumulate(run(chunks))
    assert [(b["id"], b["input"]) for b in message["content"]] == [("call_a", {"a": 1})]
