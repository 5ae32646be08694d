"""Where the guard looks, what it skips, and how it names the place of a finding."""

from __future__ import annotations

from typing import Any

from lynkr_cli.guard.api import scan
from tests.guard.samples import AWS_ID, GITHUB, PII

EMAIL = PII["email"][1]


def where(body: dict[str, Any], **kw: Any) -> list[str]:
    return [f.location for f in scan(body, **kw).findings]


def test_system_as_string_and_as_blocks() -> None:
    assert where({"system": f"mail {EMAIL}", "messages": []}) == ["system"]
    blocks = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"},
              {"type": "text", "text": f"mail {EMAIL}"}]  # fmt: skip
    assert where({"system": blocks, "messages": []}) == ["system.2"]


def test_message_content_strings_blocks_and_tool_results() -> None:
    body = {"messages": [
        {"role": "user", "content": "hello"},
        {"role": "user", "content": [
            {"type": "text", "text": "x "}, {"type": "text", "text": EMAIL}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": EMAIL}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [
            {"type": "text", "text": "ok"}, {"type": "text", "text": f"by {EMAIL}"}]}]},
        {"role": "system", "content": f"note {EMAIL}"},
    ]}  # fmt: skip
    assert where(body) == [
        "messages.1.content.1",
        "messages.2.content.0.content",
        "messages.3.content.0.content.1",
        "messages.4.content",
    ]


def test_tool_inputs_every_string_leaf_with_parameter_names() -> None:
    secret_key = "X" + AWS_ID[1:]  # a key made of user data is not shown
    body = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "Edit", "input": {
            "file_path": "a.py", "edits": [{"old_string": "x", "new_string": f"k = {GITHUB!r}"}],
            "env": {secret_key: EMAIL}, "n": 3, "flag": None}},
        {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {"query": EMAIL}},
    ]}]}  # fmt: skip
    assert where(body) == [
        "messages.0.content.0.input.edits.0.new_string",
        "messages.0.content.0.input.env.*",
        "messages.0.content.1.input.query",
    ]
    assert all(secret_key not in f.location for f in scan(body).findings)


def test_documents_search_results_and_urls() -> None:
    body = {"messages": [{"role": "user", "content": [
        {"type": "document", "title": f"from {EMAIL}",
         "source": {"type": "text", "media_type": "text/plain", "data": f"x {EMAIL}"}},
        {"type": "document", "source": {"type": "content", "content": [
            {"type": "text", "text": EMAIL}]}},
        {"type": "search_result", "source": "s", "title": "t", "content": [
            {"type": "text", "text": EMAIL}]},
        {"type": "image", "source": {"type": "url", "url": f"https://x.io/a?k={AWS_ID}"}},
    ]}]}  # fmt: skip
    assert where(body) == [
        "messages.0.content.0.title",
        "messages.0.content.0.source.data",
        "messages.0.content.1.source.content.0",
        "messages.0.content.2.content.0",
        "messages.0.content.3.source.url",
    ]


def test_tools_metadata_and_unknown_blocks_are_not_scanned() -> None:
    body = {
        "tools": [{"name": "T", "description": f"mail {EMAIL}", "input_schema": {}}],
        "metadata": {"user_id": EMAIL},
        "stop_sequences": [EMAIL],
        "messages": [{"role": "user", "content": [
            {"type": "web_search_tool_result", "tool_use_id": "s",
             "content": [{"type": "web_search_result", "url": "u", "title": EMAIL,
                          "encrypted_content": EMAIL}]},
            {"type": "future_block", "text": EMAIL},
            {"type": "redacted_thinking", "data": EMAIL},
        ]}],
    }  # fmt: skip
    assert where(body) == []


def test_counts_per_place() -> None:
    body = {"messages": [{"role": "user", "content": f"{EMAIL}, {EMAIL} and {AWS_ID}"}]}
    result = scan(body)
    assert [(f.kind, f.count) for f in result.findings] == [("email", 2), ("aws_access_key", 1)]
    assert result.counts() == {"email": 2, "aws_access_key": 1}


def test_a_secret_split_across_adjacent_text_blocks_is_one_finding() -> None:
    blocks = [{"type": "text", "text": f"key {AWS_ID[:9]}"},
              {"type": "text", "text": f"{AWS_ID[9:]} ok"}]  # fmt: skip
    body = {"messages": [{"role": "user", "content": blocks}]}
    result = scan(body, mode="redact")
    assert [(f.kind, f.location) for f in result.findings] == [
        ("aws_access_key", "messages.0.content.0")
    ]
    first, second = result.body["messages"][0]["content"]
    assert first["text"] == "key [REDACTED:aws_access_key]" and second["text"] == " ok"
