"""The guard under attack-style input: split secrets, deep nesting, look-alikes, huge and
hostile bodies. It never raises on any JSON shape, never shifts a redaction, and stays
bounded on bodies built to be expensive."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest

from lynkr_cli.guard import engine
from lynkr_cli.guard.api import scan
from tests.guard.samples import AWS_ID, CARD, GITHUB, PII, SECRETS, rand, user
from tests.security.fuzzgen import VALID


def kinds_at(body: Any, **kw: Any) -> list[tuple[str, str]]:
    return [(f.kind, f.location) for f in scan(body, **kw).findings]


def test_a_secret_split_across_three_text_blocks_is_found_and_removed() -> None:
    parts = [GITHUB[:10], GITHUB[10:25], GITHUB[25:]]
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": p} for p in parts]}]}
    result = scan(body, mode="redact")
    assert [(f.kind, f.location) for f in result.findings] == [
        ("github_token", "messages.0.content.0")
    ]
    texts = [b["text"] for b in result.body["messages"][0]["content"]]
    assert texts == ["[REDACTED:github_token]", "", ""] and GITHUB not in str(result.body)


def test_texts_that_are_not_adjacent_are_not_joined() -> None:
    # Two messages, or text around a tool result, are read apart: no finding across them.
    body = {"messages": [
        {"role": "user", "content": AWS_ID[:10]}, {"role": "user", "content": AWS_ID[10:]},
        {"role": "user", "content": [{"type": "text", "text": AWS_ID[:10]},
                                     {"type": "tool_result", "tool_use_id": "t", "content": "x"},
                                     {"type": "text", "text": AWS_ID[10:]}]},
    ]}  # fmt: skip
    assert kinds_at(body) == []


def test_secret_in_a_deeply_nested_tool_input() -> None:
    node: Any = {"leaf": f"token {GITHUB}"}
    for i in range(3000):  # deeper than any JSON parser allows: no recursion in the walk
        node = {"k": node} if i % 2 else [node]
    body = {"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "x", "input": {"a": node}}]}]}  # fmt: skip
    result = scan(body, mode="redact")
    (finding,) = result.findings
    assert finding.kind == "github_token" and finding.location.endswith("more)")
    assert len(finding.location) < 200
    leaf = result.body["messages"][0]["content"][0]["input"]["a"]
    while "leaf" not in leaf:
        leaf = leaf["k"] if isinstance(leaf, dict) else leaf[0]
    assert leaf["leaf"] == "token [REDACTED:github_token]"


def test_a_key_made_of_user_data_never_appears_in_a_location() -> None:
    use = {"type": "tool_use", "id": "t", "name": "x", "input": {AWS_ID: GITHUB, GITHUB: 1}}
    body = {"messages": [{"role": "assistant", "content": [use]}]}
    result = scan(body, mode="block")
    assert [f.location for f in result.findings] == ["messages.0.content.0.input.*"]
    assert AWS_ID not in result.message() and GITHUB not in result.message()


@pytest.mark.parametrize(
    "text",
    [
        "\u0410KIA" + AWS_ID[4:],  # Cyrillic A: no AWS key id can contain it
        "AK\u0406A" + AWS_ID[4:],
        "".join(chr(0xFF10 + int(c)) for c in CARD),  # fullwidth digits
        AWS_ID[:8] + "\u200b" + AWS_ID[8:],  # a zero-width space splits it
    ],
)
def test_look_alikes_are_not_the_secret_they_imitate(text: str) -> None:
    # None of these can authenticate as written (a key with a Cyrillic letter is another
    # string). The guard matches ASCII shapes; docs/guard.md says what that leaves out.
    assert kinds_at(user(f"key {text} end")) == []


@pytest.mark.parametrize(
    "around",
    ["\U0001f600", "é", "\u0301", "日本語", "\ud800", "\u2028", "\x00", "\n\x00\n"],
)
def test_non_ascii_around_a_secret_never_shifts_the_redaction(around: str) -> None:
    text = f"{around * 3}{AWS_ID}{around} and {around}{PII['email'][1]}{around * 2}"
    result = scan(user(text), mode="redact")
    assert [f.kind for f in result.findings] == ["aws_access_key", "email"]
    assert result.body["messages"][0]["content"] == (
        f"{around * 3}[REDACTED:aws_access_key]{around} and {around}[REDACTED:email]{around * 2}"
    )


def test_a_huge_body_is_scanned_to_its_end() -> None:
    filler = " ".join(rand("abcdefghij klmnop", 60) for _ in range(60_000))  # ~3.6 MB
    body = {"messages": [{"role": "user", "content": filler + f" {GITHUB}"}] * 2}
    result = scan(body, mode="redact")
    assert [(f.kind, f.location) for f in result.findings] == [
        ("github_token", "messages.0.content"),
        ("github_token", "messages.1.content"),
    ]
    assert result.complete and result.body["messages"][1]["content"].endswith(
        "[REDACTED:github_token]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "1234567890" * 200_000,  # one run of digits
        "4111 " * 200_000,  # digit groups without end
        "@" * 1_000_000,
        "+1 " * 300_000,
        ("a" * 63 + "@") * 20_000,
        "-----BEGIN RSA " + "PRIVATE KEY-----\n" + "A" * 2_000_000,
        "AccountKey=" * 100_000,
        "https://" + "a:b@" * 200_000,
    ],
)
def test_bodies_built_to_be_expensive_stay_bounded(text: str) -> None:
    result = scan(user(text), mode="redact", kinds=("all",))
    assert result.body is not None  # finishes: pytest-timeout bounds the run


def test_too_many_candidates_fail_closed_in_redact_and_block() -> None:
    text = " ".join(f"u{i}@mail{i % 97}.com" for i in range(engine.MAX_COST + 10))
    warn, redact, block = (scan(user(text), mode=m) for m in ("warn", "redact", "block"))  # type: ignore[arg-type]
    assert not warn.complete and not warn.blocked and warn.findings
    assert not redact.complete and redact.blocked and not redact.changed
    assert block.blocked and "more strings shaped like" in block.message()
    assert "u1@mail1.com" not in block.message()


def _mutants(seed: int) -> list[Any]:
    rng = random.Random(seed)
    junk: list[Any] = [
        None, 1, 1.5, True, "", "x", [], {}, [1, "a"], {"type": 3}, {"text": None},
        {"type": "text", "text": 5}, {"type": "text"}, {"type": "tool_use", "input": "s"},
        {"type": "tool_result", "content": {"a": GITHUB}}, {"type": "document", "source": "x"},
        {"type": "image", "source": {"type": "url", "url": 7}},
    ]  # fmt: skip
    out = []
    for _ in range(300):
        body = copy.deepcopy(VALID)
        where = rng.choice(["system", "messages", "content", "block", "input"])
        value = rng.choice(junk)
        if where == "system":
            body["system"] = value
        elif where == "messages":
            body["messages"] = value if rng.random() < 0.5 else [value, *body["messages"]]
        elif where == "content":
            body["messages"][0]["content"] = value
        elif where == "block":
            body["messages"][1]["content"].append(value)
        else:
            body["messages"][1]["content"][1]["input"] = value
        out.append(body)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_no_body_shape_makes_the_guard_raise(seed: int) -> None:
    for body in [*_mutants(seed), [], "text", None, {"messages": None, "system": 3}]:
        before = orjson.dumps(body)
        for mode in ("warn", "redact", "block"):
            scan(body, mode=mode, kinds=("all",))  # type: ignore[arg-type]
        assert orjson.dumps(body) == before


def test_secrets_in_fields_the_upstream_never_reads_as_text_stay_put() -> None:
    body = {"model": GITHUB, "metadata": {"user_id": GITHUB}, "stop_sequences": [GITHUB],
            "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": GITHUB * 10}},
                {"type": "redacted_thinking", "data": GITHUB}]}]}  # fmt: skip
    result = scan(body, mode="redact")
    assert result.findings == () and result.body is body


def test_every_secret_kind_is_redacted_inside_a_tool_result_block() -> None:
    content = [{"type": "text", "text": text + "\n"} for text, _ in SECRETS.values()]
    body = {"messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "content": content}]}]}  # fmt: skip
    result = scan(body, mode="redact")
    dumped = orjson.dumps(result.body).decode()
    assert sorted(f.kind for f in result.findings) == sorted(SECRETS)
    assert not [k for k, (_, value) in SECRETS.items() if value in dumped]
