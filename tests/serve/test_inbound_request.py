"""OpenAI chat requests -> the gateway's internal Anthropic request (from_chat_request).

Requests are typed with the ``openai`` SDK's own param TypedDicts; every translated body is
checked against the ``anthropic`` SDK's MessageCreateParams and the gateway's own request
validator, so what the lead's route hands on is a request the rest of the gateway accepts.
"""

from __future__ import annotations

import base64
import json
import typing
from typing import Any

import pytest
import typing_extensions
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam
from openai.types.chat.completion_create_params import CompletionCreateParamsBase

from lynkr_cli.serve.errors import validate_messages_request
from lynkr_cli.serve.translate import (
    ChatRequest,
    ChatRequestError,
    from_chat_request,
    to_openai_request,
)
from lynkr_cli.serve.translate.chat_request import (
    EXTENSION_FIELDS,
    IGNORED_FIELDS,
    JSON_OBJECT_INSTRUCTION,
    KNOWN_FIELDS,
)
from tests.serve.test_translate_sdk import check

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME: ChatCompletionToolParam = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def _anthropic_params() -> Any:
    """The SDK's request type without the sampling fields, which this SDK version no longer
    lists although the Messages API and the gateway's validator take them."""
    hints = typing.get_type_hints(MessageCreateParamsNonStreaming, include_extras=True)
    keep = {k: v for k, v in hints.items()}
    keep.update({k: typing.NotRequired[Any] for k in ("temperature", "top_p", "top_k")})
    keep["stream"] = typing.NotRequired[bool]
    return typing_extensions.TypedDict("Params", keep, total=False)  # type: ignore[operator]


PARAMS = _anthropic_params()


def translate(body: dict[str, Any], **kw: Any) -> ChatRequest:
    """Translate, then prove the result is a valid internal request."""
    req = from_chat_request(body, default_max_tokens=kw.pop("default", 4096), **kw)
    check(req.body, PARAMS)
    copy = json.loads(json.dumps(req.body))
    assert validate_messages_request(copy) is False  # nothing to fill in or fix
    return req


def chat(messages: list[ChatCompletionMessageParam], **extra: Any) -> dict[str, Any]:
    body: CompletionCreateParamsBase = {"model": "gpt-4o", "messages": messages, **extra}
    return dict(body)


def error(body: dict[str, Any], **kw: Any) -> ChatRequestError:
    with pytest.raises(ChatRequestError) as info:
        from_chat_request(body, default_max_tokens=kw.pop("default", 4096), **kw)
    return info.value


# -- system, developer and user content -----------------------------------------------------


def test_system_and_developer_messages_lead_the_system_prompt() -> None:
    req = translate(
        chat(
            [
                {"role": "system", "content": "You are terse."},
                {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
                {"role": "user", "content": "hi"},
            ]
        )
    )
    assert req.body["system"] == [
        {"type": "text", "text": "You are terse."},
        {"type": "text", "text": "Use metric units."},
    ]
    assert req.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert req.body["model"] == "gpt-4o" and req.body["max_tokens"] == 4096


def test_a_later_system_message_stays_in_place() -> None:
    req = translate(
        chat(
            [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "developer", "content": "Now answer in French."},
                {"role": "user", "content": "and now?"},
            ]
        )
    )
    assert "system" not in req.body
    assert [m["role"] for m in req.body["messages"]] == ["user", "assistant", "system", "user"]
    assert req.body["messages"][2]["content"] == [{"type": "text", "text": "Now answer in French."}]


def test_user_parts_text_images_and_files() -> None:
    pdf = base64.b64encode(b"%PDF-1.4 test").decode()
    note = base64.b64encode("notes ✓".encode()).decode()
    req = translate(
        chat(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in these?"},
                        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"},
                        },
                        {
                            "type": "file",
                            "file": {
                                "file_data": f"data:application/pdf;base64,{pdf}",
                                "filename": "a.pdf",
                            },
                        },
                        {"type": "file", "file": {"file_data": f"data:text/plain;base64,{note}"}},
                    ],
                }
            ]
        )
    )
    blocks = req.body["messages"][0]["content"]
    assert blocks[0] == {"type": "text", "text": "What is in these?"}
    assert blocks[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert blocks[2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }
    assert blocks[3] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
        "title": "a.pdf",
    }
    assert blocks[4]["source"] == {"type": "text", "media_type": "text/plain", "data": "notes ✓"}


def test_consecutive_user_messages_merge_and_empty_ones_vanish() -> None:
    req = translate(
        chat(
            [
                {"role": "user", "content": "one"},
                {"role": "user", "content": ""},
                {"role": "user", "content": [{"type": "text", "text": "two"}]},
            ]
        )
    )
    assert req.body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        }
    ]


def test_a_final_assistant_message_is_a_prefill_without_trailing_space() -> None:
    req = translate(
        chat([{"role": "user", "content": "JSON please"}, {"role": "assistant", "content": "{ \n"}])
    )
    assert req.body["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "{"}],
    }


# -- tools ----------------------------------------------------------------------------------


def parallel_conversation() -> list[ChatCompletionMessageParam]:
    return [
        {"role": "user", "content": "Weather and time in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": ""},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "18°C"},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "14:02"}]},
        {"role": "user", "content": "Thanks. Tomorrow?"},
    ]


def test_parallel_tool_calls_and_results_become_one_turn_each() -> None:
    req = translate(chat(parallel_conversation(), tools=[WEATHER, TIME]))
    messages = req.body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_b", "name": "get_time", "input": {}},
    ]
    # tool_result blocks first, in order, then the user's own text: as Anthropic requires
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_a", "content": "18°C"},
        {
            "type": "tool_result",
            "tool_use_id": "call_b",
            "content": [{"type": "text", "text": "14:02"}],
        },
        {"type": "text", "text": "Thanks. Tomorrow?"},
    ]
    assert req.body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": WEATHER["function"]["parameters"],
        },
        {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
    ]


def test_tool_call_ids_are_normalised_the_same_for_call_and_result() -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "functions.get_time:0",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "functions.get_time:0", "content": "noon"},
    ]
    body = translate(chat(messages, tools=[TIME])).body
    call, result = body["messages"][1]["content"][0], body["messages"][2]["content"][0]
    assert call["id"] == result["tool_use_id"] == "toolu_functions_get_time_0"


def test_a_system_message_between_calls_and_results_waits_for_the_results() -> None:
    messages = parallel_conversation()
    messages.insert(3, {"role": "system", "content": "Be brief."})
    body = translate(chat(messages, tools=[WEATHER, TIME])).body
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "system", "user"]
    assert [b["type"] for b in body["messages"][2]["content"]] == ["tool_result", "tool_result"]


def test_request_round_trips_through_the_outbound_request_translator() -> None:
    """OpenAI request -> internal Anthropic -> OpenAI request (the outbound translator, the
    same mapping tables read the other way) keeps the conversation and the parameters."""
    messages = parallel_conversation()
    messages.insert(0, {"role": "system", "content": "Be terse."})
    body = chat(
        messages,
        tools=[WEATHER, TIME],
        tool_choice="required",
        parallel_tool_calls=False,
        temperature=0.5,
        stop=["END"],
        max_completion_tokens=300,
    )
    back = to_openai_request(translate(body).body, model="gpt-4o", stream=False)
    expected = json.loads(json.dumps(messages))
    expected[2]["tool_calls"][1]["function"]["arguments"] = "{}"  # "" means no arguments
    expected[4]["content"] = "14:02"  # text parts of a tool result travel as one string
    assert back["messages"] == expected
    assert back["tools"] == [WEATHER, TIME]
    assert back["tool_choice"] == "required" and back["parallel_tool_calls"] is False
    assert back["max_tokens"] == 300 and back["temperature"] == 0.5 and back["stop"] == ["END"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", {"type": "none"}),
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"type": "tool", "name": "get_time"},
        ),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    body = translate(
        chat([{"role": "user", "content": "x"}], tools=[WEATHER, TIME], tool_choice=choice)
    ).body
    assert body["tool_choice"] == expected


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    base = chat([{"role": "user", "content": "x"}], tools=[TIME], parallel_tool_calls=False)
    assert translate(base).body["tool_choice"] == {
        "type": "auto",
        "disable_parallel_tool_use": True,
    }
    forced = translate({**base, "tool_choice": "required"}).body["tool_choice"]
    assert forced == {"type": "any", "disable_parallel_tool_use": True}
    assert translate({**base, "tool_choice": "none"}).body["tool_choice"] == {"type": "none"}
    assert "tool_choice" not in translate({**base, "parallel_tool_calls": True}).body


def test_tool_choice_without_tools() -> None:
    assert (
        "tool_choice"
        not in translate(chat([{"role": "user", "content": "x"}], tool_choice="auto")).body
    )
    err = error(chat([{"role": "user", "content": "x"}], tool_choice="required"))
    assert err.param == "tool_choice" and "tools" in err.problem


def test_strict_tools_follow_the_structured_output_switch() -> None:
    strict: ChatCompletionToolParam = {
        "type": "function",
        "function": {**WEATHER["function"], "strict": True},
    }
    body = chat([{"role": "user", "content": "x"}], tools=[strict])
    assert translate(body).body["tools"][0]["strict"] is True
    assert "strict" not in translate(body, structured_output=False).body["tools"][0]


# -- parameters -----------------------------------------------------------------------------


def test_max_tokens_fields_and_the_default() -> None:
    base = chat([{"role": "user", "content": "x"}])
    assert translate(base, default=777).body["max_tokens"] == 777
    assert translate({**base, "max_tokens": 50}).body["max_tokens"] == 50
    assert translate({**base, "max_completion_tokens": 60}).body["max_tokens"] == 60
    both = {**base, "max_tokens": 50, "max_completion_tokens": 60}
    assert translate(both).body["max_tokens"] == 60  # OpenAI's current name wins
    assert translate({**base, "max_tokens": None}, default=9).body["max_tokens"] == 9


def test_sampling_stop_and_user() -> None:
    base = chat([{"role": "user", "content": "x"}])
    body = translate({**base, "temperature": 1.7, "stop": "END", "user": "u-1"}).body
    assert body["temperature"] == 1.0  # Anthropic's range ends at 1
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-1"}
    req = translate({**base, "top_p": 0.5, "stop": ["a", "\n", " b "], "metadata": {"user": "m"}})
    assert req.body["top_p"] == 0.5 and req.body["stop_sequences"] == ["a", " b "]
    assert req.body["metadata"] == {"user_id": "m"}
    assert "stop (whitespace-only sequences)" in req.ignored
    both = translate({**base, "temperature": 0.2, "top_p": 0.9})
    assert both.body["temperature"] == 0.2 and "top_p" not in both.body
    long_id = translate({**base, "safety_identifier": "x" * 300}).body["metadata"]["user_id"]
    assert len(long_id) == 64  # a digest, within Anthropic's limit


def test_stream_and_include_usage() -> None:
    base = chat([{"role": "user", "content": "x"}])
    req = translate({**base, "stream": True, "stream_options": {"include_usage": True}})
    assert (req.stream, req.include_usage, req.body["stream"]) == (True, True, True)
    req = translate({**base, "stream": True})
    assert (req.stream, req.include_usage) == (True, False)
    req = translate({**base, "stream": False})
    assert (req.stream, "stream" in req.body) == (False, False)


def test_response_format_json_schema_is_structured_output() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": schema, "strict": True},
    }
    body = chat([{"role": "user", "content": "x"}], response_format=fmt)
    assert translate(body).body["output_config"] == {
        "format": {"type": "json_schema", "schema": schema}
    }
    fallback = translate(body, structured_output=False).body
    assert "output_config" not in fallback
    assert json.dumps(schema, separators=(",", ":")) in fallback["system"][-1]["text"]


def test_response_format_json_object_and_text() -> None:
    base = chat([{"role": "system", "content": "s"}, {"role": "user", "content": "x"}])
    body = translate({**base, "response_format": {"type": "json_object"}}).body
    assert body["system"] == [
        {"type": "text", "text": "s"},
        {"type": "text", "text": JSON_OBJECT_INSTRUCTION},
    ]
    assert translate({**base, "response_format": {"type": "text"}}).body["system"] == [
        {"type": "text", "text": "s"}
    ]


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 1024), ("low", 1024), ("medium", 8192), ("high", 24576), ("xhigh", 31999)],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort: str, budget: int) -> None:
    body = chat(
        [{"role": "user", "content": "x"}], reasoning_effort=effort, max_completion_tokens=32000
    )
    assert translate(body).body["thinking"] == {"type": "enabled", "budget_tokens": budget}


def test_reasoning_effort_edges() -> None:
    base = chat([{"role": "user", "content": "x"}], reasoning_effort="high", temperature=0.3)
    req = translate(base)
    assert "temperature" not in req.body and "temperature (thinking is on)" in req.ignored
    assert "thinking" not in translate({**base, "reasoning_effort": "none"}).body
    small = translate({**base, "max_tokens": 1000})
    assert "thinking" not in small.body and small.body["temperature"] == 0.3
    forced = translate({**base, "tools": [TIME], "tool_choice": "required"})
    assert "thinking" not in forced.body
    loop = translate(chat(parallel_conversation(), tools=[WEATHER, TIME], reasoning_effort="low"))
    assert (
        "thinking" not in loop.body and "reasoning_effort (continuing a tool call)" in loop.ignored
    )
    adaptive = translate({**base, "thinking": {"type": "adaptive"}})
    assert adaptive.body["thinking"] == {"type": "adaptive"}


def test_ignored_fields_are_listed() -> None:
    body = chat(
        [{"role": "user", "content": "x"}],
        seed=3,
        presence_penalty=0.5,
        frequency_penalty=0.1,
        logit_bias={"50256": -100},
        store=False,
        n=1,
        logprobs=False,
        modalities=["text"],
    )
    req = translate(body)
    assert set(req.ignored) == {
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "store",
    }


def test_every_sdk_request_field_is_decided() -> None:
    """A field added to the SDK must be handled, ignored or rejected on purpose."""
    sdk = set(typing.get_type_hints(CompletionCreateParamsBase)) | {"stream"}
    assert sdk <= KNOWN_FIELDS, sorted(sdk - KNOWN_FIELDS)
    assert not (EXTENSION_FIELDS & sdk) and not (IGNORED_FIELDS & EXTENSION_FIELDS)


# -- client mistakes name their field ---------------------------------------------------------


def calls_then(after: list[ChatCompletionMessageParam]) -> dict[str, Any]:
    return chat([*parallel_conversation()[:2], *after], tools=[WEATHER, TIME])


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("not an object", [], "body", "JSON object"),
    (
        "unknown field",
        {**chat([{"role": "user", "content": "x"}]), "foo": 1},
        "foo",
        "Unrecognized",
    ),
    ("no model", {"messages": [{"role": "user", "content": "x"}]}, "model", "non-empty string"),
    ("no messages", {"model": "m", "messages": []}, "messages", "at least one"),
    ("only system", chat([{"role": "system", "content": "s"}]), "messages", "user or assistant"),
    ("bad role", chat([{"role": "bot", "content": "x"}]), "messages[0].role", "expected"),
    (
        "function role",
        chat([{"role": "function", "name": "f", "content": "x"}]),
        "messages[0].role",
        "deprecated",
    ),
    (
        "arguments not JSON",
        chat(
            [
                {"role": "user", "content": "x"},
                {"role": "user", "content": "y"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{oops"},
                        }
                    ],
                },
            ]
        ),
        "messages[2].tool_calls[0].function.arguments",
        "not valid JSON",
    ),
    (
        "arguments not an object",
        chat(
            [
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "[1]"},
                        }
                    ],
                },
            ]
        ),
        "messages[1].tool_calls[0].function.arguments",
        "JSON object",
    ),
    (
        "missing result",
        calls_then(
            [
                {"role": "tool", "tool_call_id": "call_a", "content": "18"},
                {"role": "user", "content": "?"},
            ]
        ),
        "messages[3]",
        "'call_b'",
    ),
    (
        "result for nothing",
        calls_then(
            [
                {"role": "tool", "tool_call_id": "call_a", "content": "1"},
                {"role": "tool", "tool_call_id": "call_b", "content": "2"},
                {"role": "tool", "tool_call_id": "call_a", "content": "again"},
            ]
        ),
        "messages[4].tool_call_id",
        "no tool call 'call_a'",
    ),
    ("calls never answered", calls_then([]), "messages", "have no results"),
    (
        "bad image",
        chat(
            [
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}],
                }
            ]
        ),
        "messages[0].content[0].image_url.url",
        "http(s) URL",
    ),
    (
        "bad image type",
        chat(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AA=="}}
                    ],
                }
            ]
        ),
        "messages[0].content[0].image_url.url",
        "image/bmp",
    ),
    (
        "audio input",
        chat(
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}
                    ],
                }
            ]
        ),
        "messages[0].content[0].type",
        "audio",
    ),
    (
        "uploaded file",
        chat([{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]),
        "messages[0].content[0].file.file_id",
        "file_data",
    ),
    (
        "tool name",
        chat(
            [{"role": "user", "content": "x"}],
            tools=[{"type": "function", "function": {"name": "bad name"}}],
        ),
        "tools[0].function.name",
        "letters",
    ),
    (
        "tool schema",
        chat(
            [{"role": "user", "content": "x"}],
            tools=[
                {"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}
            ],
        ),
        "tools[0].function.parameters.type",
        "'object'",
    ),
    (
        "duplicate tool",
        chat([{"role": "user", "content": "x"}], tools=[TIME, TIME]),
        "tools[1].function.name",
        "duplicate",
    ),
    (
        "custom tool",
        chat(
            [{"role": "user", "content": "x"}], tools=[{"type": "custom", "custom": {"name": "g"}}]
        ),
        "tools[0].type",
        "'function'",
    ),
    (
        "unknown tool choice",
        chat(
            [{"role": "user", "content": "x"}],
            tools=[TIME],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        ),
        "tool_choice.function.name",
        "no tool named 'nope'",
    ),
    (
        "tool choice shape",
        chat([{"role": "user", "content": "x"}], tools=[TIME], tool_choice="any"),
        "tool_choice",
        "'required'",
    ),
    ("n", chat([{"role": "user", "content": "x"}], n=2), "n", "n=1"),
    (
        "logprobs",
        chat([{"role": "user", "content": "x"}], logprobs=True),
        "logprobs",
        "not available",
    ),
    (
        "audio output",
        chat([{"role": "user", "content": "x"}], modalities=["text", "audio"]),
        "modalities",
        "text",
    ),
    (
        "legacy functions",
        chat([{"role": "user", "content": "x"}], functions=[{"name": "f"}]),
        "functions",
        "tools",
    ),
    (
        "temperature",
        chat([{"role": "user", "content": "x"}], temperature=3),
        "temperature",
        "0 to 2",
    ),
    (
        "max tokens",
        chat([{"role": "user", "content": "x"}], max_completion_tokens=0),
        "max_completion_tokens",
        "positive",
    ),
    ("stop item", chat([{"role": "user", "content": "x"}], stop=["a", 5]), "stop[1]", "string"),
    ("stream type", chat([{"role": "user", "content": "x"}], stream="yes"), "stream", "boolean"),
    (
        "stream options alone",
        chat([{"role": "user", "content": "x"}], stream_options={"include_usage": True}),
        "stream_options",
        "stream is true",
    ),
    (
        "schema name",
        chat(
            [{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"schema": {}}},
        ),
        "response_format.json_schema.name",
        "required",
    ),
    (
        "effort",
        chat([{"role": "user", "content": "x"}], reasoning_effort="extreme"),
        "reasoning_effort",
        "one of",
    ),
    (
        "assistant content",
        chat([{"role": "user", "content": "x"}, {"role": "assistant", "content": 5}]),
        "messages[1].content",
        "expected",
    ),
    (
        "system part",
        chat([{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
        "messages[0].content[0].type",
        "'text'",
    ),
]


@pytest.mark.parametrize(("name", "body", "param", "words"), BAD, ids=[b[0] for b in BAD])
def test_client_mistakes_name_their_field(
    name: str, body: dict[str, Any], param: str, words: str
) -> None:
    err = error(body)
    assert err.param == param, str(err)
    assert words in str(err), str(err)
    assert str(err).startswith(param)
