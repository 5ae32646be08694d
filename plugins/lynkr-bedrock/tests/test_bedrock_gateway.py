"""lynkr serve with the bedrock provider, against a fake Bedrock that checks SigV4 itself,
through the real anthropic SDK."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest
from conftest import KEY_ID, SECRET, settings_for, static_keys
from fake_bedrock import MARKER


def sdk(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0, timeout=20)


HI = [{"role": "user", "content": "hi"}]


async def test_create_goes_to_invoke_signed_with_the_bedrock_body(
    gateway, bedrock, monkeypatch
) -> None:
    static_keys(monkeypatch)
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    async with sdk(gw.url) as client:
        msg = await client.messages.create(
            model="claude-sonnet-4-5-20250929",
            max_tokens=64,
            system=[{"type": "text", "text": "x-anthropic-billing-header: cc_version=2; cch=1;"},
                    {"type": "text", "text": "Be brief."}],
            messages=HI,
            extra_headers={"anthropic-beta": "context-1m-2025-08-07, fine-grained-tool-streaming"},
        )  # fmt: skip
    assert msg.content[0].text == "Hello from Bedrock"  # type: ignore[union-attr]
    assert msg.model == "claude-sonnet-4-5-20250929"
    assert msg.usage.output_tokens == 5
    assert fake.problems == []  # signature recomputed and matched; body as Bedrock wants it
    seen = fake.seen[0]
    # The region's inference profile, the model id URL-encoded (":" → %3A) in the path.
    assert seen["path"] == "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
    body = seen["body"]
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert body["anthropic_beta"] == ["context-1m-2025-08-07", "fine-grained-tool-streaming"]
    assert body["system"] == [{"type": "text", "text": "Be brief."}]  # billing block removed
    assert "x-api-key" not in {k.lower() for k in seen["headers"]}  # no client key upstream


async def test_stream_decodes_event_stream_into_the_sdk_accumulator(
    gateway, bedrock, monkeypatch
) -> None:
    static_keys(monkeypatch, token="session-token-value")
    fake = await bedrock(keys={KEY_ID: (SECRET, "session-token-value")})
    gw = await gateway(**settings_for(fake))
    async with (
        sdk(gw.url) as client,
        client.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=HI) as stream,
    ):
        texts = [t async for t in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(texts) == "Hello from Bedrock"
    assert final.model == "claude-haiku-4-5" and final.stop_reason == "end_turn"
    assert fake.problems == []
    assert fake.seen[0]["path"].endswith(
        "/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream"
    )


async def test_raw_sse_is_anthropic_framing_message_start_first(gateway, bedrock, monkeypatch):
    static_keys(monkeypatch)
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    body = {"model": "claude-sonnet-4-5", "max_tokens": 16, "stream": True, "messages": HI}
    async with httpx.AsyncClient(timeout=20) as http:
        r = await http.post(f"{gw.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    names = [line[7:] for line in r.text.splitlines() if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "amazon-bedrock-invocationMetrics" in r.text  # Bedrock's own field passes through


async def test_a_tool_loop_through_the_sdk(gateway, bedrock, monkeypatch) -> None:
    static_keys(monkeypatch)
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    schema = {"type": "object", "properties": {"command": {"type": "string"}}}
    tools: Any = [{"name": "Bash", "description": "Run a command", "input_schema": schema}]
    ask: Any = [{"role": "user", "content": "run the marker"}]
    async with sdk(gw.url) as client:
        async with client.messages.stream(
            model="claude-sonnet-4-5", max_tokens=64, messages=ask, tools=tools
        ) as stream:
            first = await stream.get_final_message()
        call = next(b for b in first.content if b.type == "tool_use")
        assert first.stop_reason == "tool_use" and call.input["command"] == f"echo {MARKER}"  # type: ignore[index]
        result: Any = [
            *ask,
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                          "content": MARKER}]},
        ]  # fmt: skip
        second = await client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=result, tools=tools
        )
    assert second.content[0].text == f"tool said: {MARKER}"  # type: ignore[union-attr]
    assert fake.problems == [] and len(fake.seen) == 2


async def test_model_map_targets_a_bedrock_id_as_is(gateway, bedrock, monkeypatch) -> None:
    static_keys(monkeypatch)
    fake = await bedrock()
    profile_arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
    haiku = "anthropic.claude-3-haiku-20240307-v1:0"
    model_map = {"claude-opus-*": f"bedrock:{profile_arn}", "claude-haiku-*": f"bedrock:{haiku}"}
    gw = await gateway(
        **settings_for(fake),
        **{"provider.model_map": model_map, "provider.bedrock.inference_profile": "none"},
    )
    async with sdk(gw.url) as client:
        await client.messages.create(model="claude-opus-4-1", max_tokens=8, messages=HI)
        await client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=HI)
        await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    models = [s["model"] for s in fake.seen]
    assert models == [
        profile_arn,
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",  # inference_profile none: in-region id
    ]
    assert fake.problems == []


async def test_an_unmappable_model_is_a_400_naming_the_fix(gateway, bedrock, monkeypatch):
    static_keys(monkeypatch)
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    async with sdk(gw.url) as client:
        with pytest.raises(anthropic.BadRequestError) as info:
            await client.messages.create(model="gpt-4o", max_tokens=8, messages=HI)
    assert "provider.model_map" in str(info.value) and fake.seen == []


@pytest.mark.parametrize(
    ("status", "kind", "error", "sdk_error"),
    [
        (429, "ThrottlingException", "rate_limit_error", anthropic.RateLimitError),
        (400, "ValidationException", "invalid_request_error", anthropic.BadRequestError),
        (403, "AccessDeniedException", "permission_error", anthropic.PermissionDeniedError),
        (503, "ServiceUnavailableException", "overloaded_error", anthropic.InternalServerError),
    ],
)
async def test_bedrock_errors_come_in_anthropic_shapes(
    gateway, bedrock, monkeypatch, status, kind, error, sdk_error
) -> None:
    static_keys(monkeypatch)
    fake = await bedrock(faults=[("http", status, kind, "the reason, from Bedrock")])
    gw = await gateway(**settings_for(fake))
    async with sdk(gw.url) as client:
        with pytest.raises(sdk_error) as info:
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    doc = info.value.body
    assert isinstance(doc, dict) and doc["error"]["type"] == error
    assert "the reason, from Bedrock" in doc["error"]["message"]
    if error == "permission_error":  # lynkr's AWS identity, not the client's key
        assert "AWS" in doc["error"]["message"]
        assert info.value.response.headers["x-should-retry"] == "false"


async def test_throttling_is_retried_before_the_first_byte(gateway, bedrock, monkeypatch):
    static_keys(monkeypatch)
    fake = await bedrock(faults=[("http", 429, "ThrottlingException", "slow down")])
    gw = await gateway(**settings_for(fake), **{"provider.max_retries": 1,
                                               "provider.retry_max_wait": 0.05})  # fmt: skip
    async with sdk(gw.url) as client:
        msg = await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    assert msg.content[0].text == "Hello from Bedrock"  # type: ignore[union-attr]
    assert len(fake.seen) == 2 and fake.problems == []  # re-signed: both signatures valid


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (("exception", "throttlingException", "Too many tokens"), "rate_limit_error"),
        (("exception", "modelStreamErrorException", "model broke"), "api_error"),
        (("cut",), "api_error"),
    ],
)
async def test_a_stream_broken_mid_way_ends_with_an_error_event(
    gateway, bedrock, monkeypatch, fault, expected
) -> None:
    static_keys(monkeypatch)
    fake = await bedrock(faults=[fault])
    gw = await gateway(**settings_for(fake))
    body = {"model": "claude-sonnet-4-5", "max_tokens": 16, "stream": True, "messages": HI}
    async with httpx.AsyncClient(timeout=20) as http:
        r = await http.post(f"{gw.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    lines = r.text.splitlines()
    names = [line[7:] for line in lines if line.startswith("event: ")]
    assert names[0] == "message_start" and names[-1] == "error", names
    assert "message_stop" not in names  # never a made-up success
    error = json.loads(lines[lines.index("event: error") + 1][6:])["error"]
    assert error["type"] == expected


async def test_no_aws_credentials_is_a_502_that_says_how(gateway, bedrock) -> None:
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    async with sdk(gw.url) as client:
        with pytest.raises(anthropic.InternalServerError) as info:
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    message = info.value.body["error"]["message"]  # type: ignore[index]
    assert "no AWS credentials found" in message and "aws sso login" in message
    assert info.value.response.headers["x-should-retry"] == "false"
    assert fake.seen == []  # nothing unsigned went out


async def test_a_wrong_secret_is_lynkrs_credential_not_the_clients(
    gateway, bedrock, monkeypatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret-0000000000000000000")
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    async with sdk(gw.url) as client:
        with pytest.raises(anthropic.AuthenticationError) as info:
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
    message = info.value.body["error"]["message"]  # type: ignore[index]
    assert "AWS" in message and "not-the-right-secret" not in message
    assert fake.problems == ["signature does not match"]
