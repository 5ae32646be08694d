"""OpenAI chat completion -> Anthropic Message, validated by both real SDKs' models."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic.types import Message
from openai.types.chat import ChatCompletion

from lynkr_cli.serve.translate import UpstreamStreamError, from_openai_response
from lynkr_cli.serve.translate.common import shorten_tool_name


def completion(
    message: dict[str, Any], finish: str | None = "stop", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    resp = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        "usage": usage or {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107},
    }
    return resp


def translate(resp: dict[str, Any], model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    # The upstream fixture itself must be a valid OpenAI response...
    ChatCompletion.model_validate(resp)
    out = from_openai_response(resp, model=model)
    # ...and what we return a valid Anthropic Message.
    Message.model_validate(out)
    return out


def test_text_reply_echoes_client_model_and_usage() -> None:
    out = translate(completion({"content": "Hello!"}))
    assert out["model"] == "claude-sonnet-4-5"
    assert out["id"].startswith("msg_")
    assert out["content"] == [{"type": "text", "text": "Hello!"}]
    assert out["stop_reason"] == "end_turn" and out["stop_sequence"] is None
    assert out["usage"] == {
        "input_tokens": 100,
        "output_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
        ("function_call", "tool_use"),
        (None, "end_turn"),
    ],
)
def test_finish_reason_mapping(finish: str | None, stop: str) -> None:
    resp = completion({"content": "x"}, finish)
    assert from_openai_response(resp, model="m")["stop_reason"] == stop


def test_cached_tokens_excluded_from_input() -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 5,
        "total_tokens": 1005,
        "prompt_tokens_details": {"cached_tokens": 800},
    }
    out = translate(completion({"content": "x"}, usage=usage))
    assert out["usage"]["input_tokens"] == 200
    assert out["usage"]["cache_read_input_tokens"] == 800


def test_tool_calls_parsed_ids_normalised_and_order() -> None:
    message = {
        "content": "Let me check.",
        "reasoning_content": "The user wants files.",
        "tool_calls": [
            {
                "id": "functions.Bash:0",
                "type": "function",
                "function": {"name": "Bash", "arguments": '{"command": "ls"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "Read", "arguments": "not json"},
            },
            {"id": "", "type": "function", "function": {"name": "Glob", "arguments": ""}},
        ],
    }
    resp = completion({})
    resp["choices"][0]["message"].update(message)
    resp["choices"][0]["finish_reason"] = "tool_calls"
    out = from_openai_response(resp, model="claude-x")
    Message.model_validate(out)
    kinds = [b["type"] for b in out["content"]]
    assert kinds == ["thinking", "text", "tool_use", "tool_use", "tool_use"]
    assert out["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants files.",
        "signature": "",
    }
    first, second, third = out["content"][2:]
    assert first["id"] == "toolu_functions_Bash_0" and first["input"] == {"command": "ls"}
    assert second["id"] == "call_2" and second["input"] == {"raw_arguments": "not json"}
    assert third["id"].startswith("toolu_") and len(third["id"]) > 6 and third["input"] == {}
    assert out["stop_reason"] == "tool_use"


def test_stop_with_tool_calls_becomes_tool_use() -> None:
    resp = completion(
        {
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "Bash", "arguments": "{}"}}
            ],
        },
        "stop",
    )
    assert translate(resp)["stop_reason"] == "tool_use"


def test_long_tool_name_mapped_back() -> None:
    long = "mcp__server__" + "x" * 80
    short = shorten_tool_name(long)
    resp = completion(
        {
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": short, "arguments": "{}"}}
            ]
        },
        "tool_calls",
    )
    assert translate(resp)["content"][0]["name"] == long
    assert (
        from_openai_response(resp, model="m", tool_names={short: "Explicit"})["content"][0]["name"]
        == "Explicit"
    )


def test_reasoning_field_variant() -> None:
    out = translate(completion({"content": "4", "reasoning": "2+2"}))
    assert out["content"][0]["thinking"] == "2+2"


def test_databricks_list_shaped_content_with_real_signature() -> None:
    content = [
        {
            "type": "reasoning",
            "summary": [
                {"type": "summary_text", "text": "Think ", "signature": ""},
                {"type": "summary_text", "text": "hard.", "signature": "EqQBsig"},
            ],
        },
        {"type": "text", "text": "Answer."},
    ]
    resp = completion({})
    resp["choices"][0]["message"]["content"] = content
    out = from_openai_response(resp, model="claude-sonnet-4-5")
    Message.model_validate(out)
    assert out["content"] == [
        {"type": "thinking", "thinking": "Think hard.", "signature": "EqQBsig"},
        {"type": "text", "text": "Answer."},
    ]


def test_refusal_and_empty_response() -> None:
    out = translate(completion({"content": None, "refusal": "I can't help."}, "content_filter"))
    assert out["content"] == [{"type": "text", "text": "I can't help."}]
    assert out["stop_reason"] == "refusal"
    empty = from_openai_response({"choices": []}, model="m")
    Message.model_validate(empty)
    assert empty["content"] == [] and empty["usage"]["input_tokens"] == 0


def test_error_body_and_bad_shapes() -> None:
    with pytest.raises(UpstreamStreamError) as info:
        from_openai_response(
            {"error": {"message": "slow down", "type": "rate_limit_exceeded"}}, model="m"
        )
    assert info.value.error_type == "rate_limit_error" and info.value.message == "slow down"
    with pytest.raises(TypeError, match="response"):
        from_openai_response("nope", model="m")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="choices"):
        from_openai_response({"choices": {}}, model="m")
    with pytest.raises(TypeError, match=r"choices\.0\.message"):
        from_openai_response({"choices": [{"message": "x"}]}, model="m")


def test_missing_usage_falls_back_to_the_estimate() -> None:
    resp = completion({"content": "hi"})
    del resp["usage"]
    out = from_openai_response(resp, model="m", input_tokens=321)
    Message.model_validate(out)
    assert out["usage"]["input_tokens"] == 321
    assert out["usage"]["output_tokens"] == 1  # "hi", counted locally


def test_refusal_with_stop_is_still_a_refusal() -> None:
    out = translate(completion({"content": None, "refusal": "No."}, "stop"))
    assert out["stop_reason"] == "refusal"
