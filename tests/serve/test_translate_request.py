"""Anthropic request -> OpenAI request: one test per mapping rule and pitfall."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lynkr_cli.serve.providers.databricks import DatabricksProvider
from lynkr_cli.serve.providers.ollama import OllamaProvider
from lynkr_cli.serve.translate import strip_billing, to_openai_request
from lynkr_cli.serve.translate.common import restore_tool_name

QUIRKS = {"databricks": DatabricksProvider.quirks, "ollama": OllamaProvider.quirks}

BILLING = {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197; cch=ab12;"}


def body(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
    }
    base.update(extra)
    return base


def tr(b: dict[str, Any], flavor: str = "", **kw: Any) -> dict[str, Any]:
    """Translate ``b``; ``flavor`` names the provider whose quirks apply (OpenAI's if none)."""
    kw.setdefault("model", "gpt-4o")
    kw.setdefault("stream", False)
    if flavor:
        kw["quirks"] = QUIRKS[flavor]
    return to_openai_request(b, **kw)


def test_system_blocks_join_and_billing_block_is_stripped() -> None:
    system = [
        BILLING,
        {"type": "text", "text": "You are Claude.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be brief."},
    ]
    out = tr(body(system=system))
    assert out["messages"][0] == {"role": "system", "content": "You are Claude.\n\nBe brief."}
    assert "x-anthropic-billing-header" not in json.dumps(out)
    assert "cache_control" not in json.dumps(out)


def test_system_string_and_only_billing_block() -> None:
    assert tr(body(system="Be kind."))["messages"][0] == {"role": "system", "content": "Be kind."}
    out = tr(body(system=[BILLING]))
    assert [m["role"] for m in out["messages"]] == ["user"]


def test_strip_billing_shapes() -> None:
    assert strip_billing([BILLING, {"type": "text", "text": "a"}]) == [
        {"type": "text", "text": "a"}
    ]
    assert strip_billing(BILLING["text"]) == ""
    assert strip_billing("plain") == "plain"
    # a string that starts with the block keeps what follows it
    assert strip_billing(BILLING["text"] + "\nYou are helpful.") == "You are helpful."
    assert strip_billing([{"type": "text", "text": "  " + BILLING["text"]}]) == []


def test_one_billing_detector_for_cache_keys_providers_and_translation() -> None:
    from lynkr_cli.serve import billing
    from lynkr_cli.serve.providers import base

    assert base.is_billing_block is billing.is_billing_block
    assert base.strip_billing is billing.strip_billing
    body = {
        "system": [{"type": "text", "text": " " + BILLING["text"]}, {"type": "text", "text": "a"}]
    }
    assert base.has_billing_block(body)
    assert strip_billing(None) is None


def test_mid_conversation_system_message() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "text", "text": "Agents: x"}]},
        {"role": "assistant", "content": "hello"},
    ]
    out = tr(body(messages=messages))
    assert out["messages"][1] == {"role": "system", "content": "Agents: x"}
    dbx = tr(body(messages=messages), model="databricks-claude-sonnet-4-5", flavor="databricks")
    assert dbx["messages"][1]["role"] == "user"
    assert "Agents: x" in dbx["messages"][1]["content"]
    assert all(m["role"] != "system" for m in dbx["messages"])


def test_user_text_blocks_and_images() -> None:
    content = [
        {"type": "text", "text": "look"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
    ]
    out = tr(body(messages=[{"role": "user", "content": content}]))
    parts = out["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "look"}
    assert parts[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}


@pytest.mark.parametrize("flavor", ["databricks", "ollama"])
def test_url_image_refused_clearly_where_unsupported(flavor: str) -> None:
    content = [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]
    with pytest.raises(ValueError, match=r"messages\.0\.content\.0\.source.*base64"):
        tr(body(messages=[{"role": "user", "content": content}]), flavor=flavor)


def test_single_text_block_collapses_to_string() -> None:
    out = tr(
        body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}
                    ],
                }
            ]
        )
    )
    assert out["messages"] == [{"role": "user", "content": "hi"}]


def test_documents() -> None:
    doc_text = {
        "type": "document",
        "title": "T",
        "source": {"type": "text", "media_type": "text/plain", "data": "body"},
    }
    pdf = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
    }
    out = tr(body(messages=[{"role": "user", "content": [doc_text, pdf]}]))
    parts = out["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "T\n\nbody"}
    assert parts[1]["type"] == "file"
    assert parts[1]["file"]["file_data"] == "data:application/pdf;base64,JVBERi0="
    with pytest.raises(ValueError, match="document"):
        tr(body(messages=[{"role": "user", "content": [pdf]}]), flavor="databricks")


def tool_turns(
    results: list[dict[str, Any]], extra_user: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "run two"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig-abc"},
                {"type": "text", "text": "Running."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": "/a"}},
            ],
        },
        {"role": "user", "content": (extra_user or [])[:1] + results + (extra_user or [])[1:]},
    ]


def test_tool_use_and_results_map_to_tool_calls_and_tool_messages() -> None:
    results = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": "a\nb",
            "cache_control": {"type": "ephemeral"},
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_2",
            "content": [{"type": "text", "text": "no such file"}],
            "is_error": True,
        },
    ]
    out = tr(
        body(
            messages=tool_turns(
                results, [{"type": "text", "text": "before"}, {"type": "text", "text": "after"}]
            )
        )
    )
    msgs = out["messages"]
    assistant = msgs[1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == "Running."
    assert [c["id"] for c in assistant["tool_calls"]] == ["toolu_1", "toolu_2"]
    assert assistant["tool_calls"][0]["function"] == {
        "name": "Bash",
        "arguments": '{"command":"ls"}',
    }
    # one tool message per id, before any user text of the turn, then the user's text
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "a\nb"}
    assert msgs[3] == {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: no such file"}
    assert msgs[4] == {
        "role": "user",
        "content": [{"type": "text", "text": "before"}, {"type": "text", "text": "after"}],
    }
    text = json.dumps(out)
    assert "signature" not in text and "sig-abc" not in text and "hmm" not in text


def test_multi_part_result_for_one_id_is_one_tool_message() -> None:
    results = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "p1"}, {"type": "text", "text": "p2"}],
        },
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": ""},
    ]
    msgs = tr(body(messages=tool_turns(results)))["messages"]
    tools = [m for m in msgs if m["role"] == "tool"]
    assert tools == [
        {"role": "tool", "tool_call_id": "toolu_1", "content": "p1\np2"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": ""},
    ]
    assert msgs[-1]["role"] == "tool"  # no empty user message after the results


def test_tool_result_images_follow_in_a_user_message() -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
    }
    results = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "shot"}, image],
        },
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "ok"},
    ]
    msgs = tr(body(messages=tool_turns(results)))["messages"]
    assert msgs[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "shot"}
    assert msgs[3]["role"] == "tool"
    user = msgs[4]
    assert user["role"] == "user"
    assert "toolu_1" in user["content"][0]["text"]
    assert user["content"][1]["image_url"]["url"] == "data:image/png;base64,AAAA"


def test_assistant_with_only_thinking_is_dropped() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "xyz"}]},
        {"role": "user", "content": "b"},
    ]
    msgs = tr(body(messages=messages))["messages"]
    assert [m["role"] for m in msgs] == ["user", "user"]


TOOLS = [
    {
        "name": "Bash",
        "description": "Run",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
        "cache_control": {"type": "ephemeral"},
    },
    {"name": "Read", "input_schema": {"type": "object"}, "defer_loading": True, "strict": True},
]


def test_tools_keep_exact_names_and_drop_unknown_fields() -> None:
    out = tr(body(tools=TOOLS))
    assert out["tools"][0] == {
        "type": "function",
        "function": {"name": "Bash", "parameters": TOOLS[0]["input_schema"], "description": "Run"},
    }
    assert out["tools"][1] == {
        "type": "function",
        "function": {"name": "Read", "parameters": {"type": "object"}, "strict": True},
    }
    assert "tool_choice" not in out


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "Bash"}, {"type": "function", "function": {"name": "Bash"}}),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: Any) -> None:
    out = tr(body(tools=TOOLS, tool_choice=choice))
    assert out["tool_choice"] == expected
    assert "parallel_tool_calls" not in out


def test_disable_parallel_tool_use() -> None:
    out = tr(body(tools=TOOLS, tool_choice={"type": "auto", "disable_parallel_tool_use": True}))
    assert out["parallel_tool_calls"] is False


def test_tool_choice_dropped_when_tools_end_up_empty() -> None:
    server_only = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    out = tr(
        body(tools=server_only, tool_choice={"type": "any", "disable_parallel_tool_use": True})
    )
    assert "tools" not in out and "tool_choice" not in out and "parallel_tool_calls" not in out
    out = tr(body(tools=[], tool_choice={"type": "auto"}))
    assert "tool_choice" not in out


def test_long_tool_names_shortened_reversibly() -> None:
    long = "mcp__a_very_long_server_name_for_testing__" + "do_something_really_specific_" * 2
    assert len(long) > 64
    out = tr(
        body(
            tools=[{"name": long, "input_schema": {"type": "object"}}],
            tool_choice={"type": "tool", "name": long},
        )
    )
    short = out["tools"][0]["function"]["name"]
    assert len(short) == 64 and short.startswith(long[:55])
    assert out["tool_choice"]["function"]["name"] == short
    assert restore_tool_name(short) == long
    other = long + "x"
    assert (
        tr(body(tools=[{"name": other, "input_schema": {"type": "object"}}]))["tools"][0][
            "function"
        ]["name"]
        != short
    )


def test_sampling_stop_user_and_dropped_fields() -> None:
    out = tr(
        body(
            temperature=0.2,
            top_p=0.9,
            top_k=40,
            stop_sequences=["END"],
            metadata={"user_id": "u-1"},
            context_management={"edits": []},
            output_config={"effort": "high"},
            service_tier="auto",
            cache_control={"type": "ephemeral"},
        )
    )
    assert out["temperature"] == 0.2 and out["top_p"] == 0.9
    assert out["stop"] == ["END"] and out["user"] == "u-1" and out["max_tokens"] == 1024
    for key in (
        "top_k",
        "context_management",
        "output_config",
        "service_tier",
        "cache_control",
        "metadata",
        "stop_sequences",
    ):
        assert key not in out
    dbx = tr(body(metadata={"user_id": "u-1"}), flavor="databricks")
    assert "user" not in dbx


def test_stream_options() -> None:
    out = tr(body(), stream=True)
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    assert "stream" not in tr(body(stream=True), stream=False)


def test_model_is_the_upstream_model() -> None:
    assert tr(body(), model="my-endpoint")["model"] == "my-endpoint"


def test_reasoning_models_use_max_completion_tokens_and_effort() -> None:
    out = tr(body(thinking={"type": "enabled", "budget_tokens": 5000}), model="o3-mini")
    assert out["max_completion_tokens"] == 1024 and "max_tokens" not in out
    assert out["reasoning_effort"] == "medium"
    assert (
        tr(body(thinking={"type": "enabled", "budget_tokens": 1024}), model="gpt-5")[
            "reasoning_effort"
        ]
        == "low"
    )
    assert (
        tr(body(thinking={"type": "enabled", "budget_tokens": 31999}), model="gpt-5")[
            "reasoning_effort"
        ]
        == "high"
    )
    adaptive = tr(
        body(thinking={"type": "adaptive"}, output_config={"effort": "low"}), model="gpt-5"
    )
    assert adaptive["reasoning_effort"] == "low"
    assert "reasoning_effort" not in tr(body(thinking={"type": "disabled"}), model="gpt-5")


def test_non_reasoning_openai_model_gets_no_reasoning_field() -> None:
    out = tr(body(thinking={"type": "adaptive", "display": "omitted"}), model="gpt-4o")
    assert "reasoning_effort" not in out and "thinking" not in out


def test_databricks_claude_gets_thinking_passthrough() -> None:
    out = tr(
        body(thinking={"type": "enabled", "budget_tokens": 2048, "display": "summarized"}),
        model="databricks-claude-sonnet-4-5",
        flavor="databricks",
    )
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    out = tr(
        body(thinking={"type": "adaptive"}), model="databricks-claude-opus-4-5", flavor="databricks"
    )
    assert out["thinking"] == {"type": "adaptive"}
    assert "thinking" not in tr(
        body(thinking={"type": "adaptive"}), model="databricks-llama-4", flavor="databricks"
    )
    assert "reasoning_effort" not in tr(
        body(thinking={"type": "adaptive"}), model="llama3", flavor="ollama"
    )


def test_output_format_json_schema() -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    out = tr(body(output_config={"format": {"type": "json_schema", "schema": schema}}))
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema},
    }


@pytest.mark.parametrize(
    ("bad", "match", "exc"),
    [
        ({"messages": None}, "messages", TypeError),
        ({"messages": "hi"}, "messages", TypeError),
        ({"messages": [{"role": "user"}]}, r"messages\.0\.content", ValueError),
        ({"messages": [{"role": "robot", "content": "x"}]}, r"messages\.0\.role", ValueError),
        ({"messages": [{"role": "user", "content": 5}]}, r"messages\.0\.content", TypeError),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
            r"messages\.0\.content\.0\.text",
            TypeError,
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
            "tool_use_id",
            TypeError,
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t", "name": "X", "input": "s"}],
                    }
                ]
            },
            r"messages\.0\.content\.0\.input",
            TypeError,
        ),
        ({"max_tokens": "10"}, "max_tokens", TypeError),
        ({"max_tokens": True}, "max_tokens", TypeError),
        ({"temperature": "hot"}, "temperature", TypeError),
        ({"tools": [{"name": "X"}]}, r"tools\.0\.input_schema", TypeError),
        ({"tools": [{"input_schema": {}}]}, r"tools\.0\.name", TypeError),
        ({"tools": TOOLS, "tool_choice": {"type": "sometimes"}}, "tool_choice.type", ValueError),
        ({"stop_sequences": "END"}, "stop_sequences", TypeError),
        ({"system": 7}, "system", TypeError),
        ({"system": [{"type": "image"}]}, r"system\.0\.type", ValueError),
        ({"thinking": {"type": "maybe"}}, "thinking.type", ValueError),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}
                ]
            },
            "source.type",
            ValueError,
        ),
    ],
)
def test_bad_input_names_the_field(bad: dict[str, Any], match: str, exc: type[Exception]) -> None:
    with pytest.raises(exc, match=match):
        tr(body(**bad))


def test_missing_max_tokens_and_a_bad_body() -> None:
    b = body()
    del b["max_tokens"]
    with pytest.raises(ValueError, match="max_tokens"):
        tr(b)
    with pytest.raises(TypeError, match="body"):
        to_openai_request([], model="m", stream=False)  # type: ignore[arg-type]


def test_system_message_between_tool_call_and_result_moves_after_results() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}],
        },
        {"role": "system", "content": "reminder"},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "ok"},
                {"type": "text", "text": "next"},
            ],
        },
    ]
    roles = [m["role"] for m in tr(body(messages=messages))["messages"]]
    assert roles == ["user", "assistant", "tool", "system", "user"]


def test_databricks_thinking_dropped_only_inside_a_tool_loop() -> None:
    loop = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "t", "signature": "s"},
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
        },
    ]
    kw: dict[str, Any] = {"model": "databricks-claude-sonnet-4-5", "flavor": "databricks"}
    assert "thinking" not in tr(body(messages=loop, thinking={"type": "adaptive"}), **kw)
    fresh = [*loop, {"role": "assistant", "content": "done"}, {"role": "user", "content": "thanks"}]
    assert tr(body(messages=fresh, thinking={"type": "adaptive"}), **kw)["thinking"] == {
        "type": "adaptive"
    }


def test_tool_reference_results_become_text() -> None:
    results = [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "tool_reference", "tool_name": "WebFetch"}],
        },
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "x"},
    ]
    msgs = tr(body(messages=tool_turns(results)))["messages"]
    assert msgs[2]["content"] == "Tool available: WebFetch"


def test_overlong_tool_ids_shortened_consistently() -> None:
    long_id = "toolu_" + "a" * 60
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": long_id, "name": "Bash", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": long_id, "content": "ok"}],
        },
    ]
    msgs = tr(body(messages=messages))["messages"]
    call_id = msgs[1]["tool_calls"][0]["id"]
    assert len(call_id) <= 40 and msgs[2]["tool_call_id"] == call_id


def test_reasoning_models_get_no_sampling_or_stop_and_stops_capped_at_four() -> None:
    b = body(temperature=0.5, top_p=0.9, stop_sequences=["a", "b", "c", "d", "e"])
    out = tr(b, model="o3")
    assert not {"temperature", "top_p", "stop"} & set(out)
    assert tr(b)["stop"] == ["a", "b", "c", "d"]
    assert tr(b, flavor="ollama")["stop"] == ["a", "b", "c", "d", "e"]


def test_long_user_id_becomes_a_stable_digest() -> None:
    user_id = json.dumps({"device_id": "d" * 64, "account_uuid": "", "session_id": "s"})
    first = tr(body(metadata={"user_id": user_id}))["user"]
    assert len(first) == 64 and first == tr(body(metadata={"user_id": user_id}))["user"]
    assert user_id not in json.dumps(tr(body(metadata={"user_id": user_id})))
