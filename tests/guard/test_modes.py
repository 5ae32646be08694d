"""Modes: off, warn, redact, block. Redaction copies; signed, opaque and binary parts stay."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from lynkr_cli.guard.api import scan, warm
from tests.conftest import fixture_path
from tests.guard.samples import AWS_ID, GITHUB, PII, SECRETS, rand, user

IMAGE = rand("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 4096)


def mixed_body() -> dict[str, Any]:
    """A Claude Code-like conversation: signed thinking, an image, a document, tools."""
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "tools": [{"name": "Bash", "description": f"run; e.g. {AWS_ID}", "input_schema": {}}],
        "metadata": {"user_id": f"user {PII['email'][1]}"},
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": f"deploy with {AWS_ID}"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": IMAGE + AWS_ID}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                                "data": IMAGE}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": f"the key {AWS_ID} is in the text",
                 "signature": "EqQBCkgIARABGAIiQL" + rand("abcdef0123456789", 64)},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy" + GITHUB},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash",
                 "input": {"command": f"gh auth login --with-token {GITHUB}"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"},
            ]},
        ],
    }  # fmt: skip


def test_off_scans_nothing() -> None:
    body = mixed_body()
    result = scan(body, mode="off")
    assert result.findings == () and result.body is body and not result.changed


def test_warn_reports_and_sends_the_body_unchanged() -> None:
    body = mixed_body()
    before = copy.deepcopy(body)
    result = scan(body, mode="warn")
    assert [(f.kind, f.location, f.redacted, f.signed) for f in result.findings] == [
        ("aws_access_key", "messages.0.content.0", False, False),
        ("aws_access_key", "messages.1.content.0", False, True),
        ("github_token", "messages.1.content.2.input.command", False, False),
    ]
    assert result.body is body and body == before and not result.changed
    assert result.counts() == {"aws_access_key": 2, "github_token": 1}
    assert not result.blocked


def test_redact_returns_a_new_body_and_leaves_the_original_alone() -> None:
    body = mixed_body()
    before = orjson.dumps(body)
    result = scan(body, mode="redact")
    assert result.changed and result.body is not body
    assert orjson.dumps(body) == before  # not mutated, down to the bytes
    new = result.body
    assert new["messages"][0]["content"][0]["text"] == "deploy with [REDACTED:aws_access_key]"
    assert new["messages"][1]["content"][2]["input"]["command"] == (
        "gh auth login --with-token [REDACTED:github_token]"
    )
    # untouched parts are the very same objects: nothing copied that did not change
    assert new["messages"][2] is body["messages"][2]
    assert new["tools"] is body["tools"] and new["system"] is body["system"]
    assert [f.redacted for f in result.findings] == [True, False, True]


def test_redact_keeps_signed_opaque_and_binary_parts_byte_identical() -> None:
    body = mixed_body()
    new = scan(body, mode="redact").body
    for i in (0, 1):  # the image and the document, base64 data with a key-shaped tail
        assert new["messages"][0]["content"][i + 1] == body["messages"][0]["content"][i + 1]
    thinking, redacted, _ = new["messages"][1]["content"]
    assert orjson.dumps(thinking) == orjson.dumps(body["messages"][1]["content"][0])
    assert orjson.dumps(redacted) == orjson.dumps(body["messages"][1]["content"][1])
    assert new["tools"] == body["tools"] and new["metadata"] == body["metadata"]


def test_block_names_each_kind_and_place_but_no_value() -> None:
    body = mixed_body()
    result = scan(body, mode="block")
    assert result.blocked and result.body is body and not result.changed
    message = result.message()
    assert "aws_access_key" in message and "messages.0.content.0" in message
    assert "github_token at messages.1.content.2.input.command" in message
    assert "messages.1.content.0" not in message  # signed thinking neither blocks nor is named
    assert AWS_ID not in message and GITHUB not in message


def test_block_on_signed_thinking_alone_does_not_block() -> None:
    block = {"type": "thinking", "thinking": SECRETS["github_token"][0], "signature": "s"}
    body = {"messages": [{"role": "assistant", "content": [block]}]}
    result = scan(body, mode="block")
    assert [f.signed for f in result.findings] == [True] and not result.blocked


def test_block_message_is_bounded_on_many_places() -> None:
    body = {"messages": [{"role": "user", "content": PII["email"][0]} for _ in range(50)]}
    result = scan(body, mode="block")
    assert result.blocked and len(result.findings) == 50
    assert "and 40 more" in result.message() and len(result.message()) < 2000


def test_to_dict_is_json_and_holds_no_value() -> None:
    result = scan(user(SECRETS["anthropic_api_key"][0]), mode="redact")
    doc = orjson.loads(orjson.dumps(result.to_dict()))
    assert doc["counts"] == {"anthropic_api_key": 1} and doc["changed"] is True
    assert doc["findings"][0] == {"kind": "anthropic_api_key", "location": "messages.0.content",
                                  "count": 1, "redacted": True, "signed": False}  # fmt: skip
    assert SECRETS["anthropic_api_key"][1] not in orjson.dumps(doc).decode()


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown guard mode 'deny'"):
        scan(user("x"), mode="deny")  # type: ignore[arg-type]


def test_nothing_found_returns_the_same_body() -> None:
    body = orjson.loads(fixture_path("tool-loop.2.messages.json").read_bytes())["body"]
    warm()
    for mode in ("warn", "redact", "block"):
        result = scan(body, mode=mode)  # type: ignore[arg-type]
        assert result.findings == () and result.body is body and not result.blocked


def test_every_captured_claude_code_request_is_clean() -> None:
    from tests.conftest import FIXTURES

    for path in sorted(FIXTURES.glob("*.json")):
        body = orjson.loads(path.read_bytes())["body"]
        assert scan(body, kinds=("all",)).findings == (), path.name
