"""The pieces alone: model ids, the event-stream decoder against botocore's parser and
hand-written frames, Bedrock's errors in Anthropic's terms, and the provider's requests
through a transport without sockets (``MockTransport``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from conftest import settings_for, static_keys
from fake_bedrock import FakeBedrock, chunk_frame, exception_frame, frame, text_events
from lynkr_bedrock.eventstream import EventStreamDecoder, http_error
from lynkr_bedrock.models import bedrock_model_id, inference_profile

from lynkr_cli.serve.transport import ReadError

US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
ARN = "arn:aws:bedrock:us-east-1:1:inference-profile/x"
IDS = [
    ("claude-sonnet-4-5-20250929", "auto", "us-east-1", US_SONNET),
    ("claude-sonnet-4-5", "auto", "eu-west-1", "eu" + US_SONNET[2:]),
    ("claude-haiku-4-5-20251001[1m]", "auto", "ap-northeast-1",
     "apac.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("claude-3-5-sonnet-20241022", "none", "us-east-1",
     "anthropic.claude-3-5-sonnet-20241022-v2:0"),
    ("claude-opus-4-1", "global", "us-east-1", "global.anthropic.claude-opus-4-1-20250805-v1:0"),
    ("claude-opus-4-8", "auto", "us-west-2", "us.anthropic.claude-opus-4-8-v1:0"),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "eu", "us-east-1",
     "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
    (ARN, "auto", "us-east-1", ARN),
]  # fmt: skip


@pytest.mark.parametrize(("model", "profile", "region", "expected"), IDS)
def test_bedrock_model_ids(model: str, profile: str, region: str, expected: str) -> None:
    assert bedrock_model_id(model, profile, region) == expected


def test_a_name_with_no_bedrock_id_names_the_fix() -> None:
    with pytest.raises(ValueError, match=r"provider\.model_map"):
        bedrock_model_id("gpt-4o", "auto", "us-east-1")
    assert inference_profile("auto", "me-south-1") == ""  # no profile known: in-region id


def test_hand_written_frames_are_what_botocore_parses() -> None:
    from botocore.eventstream import EventStreamBuffer

    event = text_events("hi", "m")[0]
    buffer = EventStreamBuffer()
    buffer.add_data(chunk_frame(event) + exception_frame("throttlingException", "slow"))
    first, second = list(buffer)
    assert first.headers[":event-type"] == "chunk"
    assert json.loads(base64.b64decode(json.loads(first.payload)["bytes"])) == event
    assert second.headers[":exception-type"] == "throttlingException"


def test_decoder_turns_frames_into_sse_whatever_the_split() -> None:
    events = text_events("Hello there", "claude")
    data = b"".join(chunk_frame(e) for e in events)
    for step in (1, 5, 64, len(data)):
        decoder = EventStreamDecoder()
        out = b"".join(decoder.feed(data[i : i + step]) for i in range(0, len(data), step))
        out += decoder.end()
        frames = [f for f in out.split(b"\n\n") if f]
        assert len(frames) == len(events)
        for raw, event in zip(frames, events, strict=True):
            head, _, body = raw.partition(b"\ndata: ")
            assert head == b"event: " + event["type"].encode()
            assert json.loads(body) == event


def test_exceptions_and_errors_become_anthropic_error_events() -> None:
    decoder = EventStreamDecoder()
    out = decoder.feed(exception_frame("throttlingException", "Too many tokens"))
    assert out.startswith(b"event: error\ndata: ")
    error = json.loads(out.split(b"data: ", 1)[1])["error"]
    assert error == {"type": "rate_limit_error",
                     "message": "Bedrock throttlingException: Too many tokens"}  # fmt: skip
    other = frame({":message-type": "error", ":error-code": "InternalFailure",
                   ":error-message": "boom"}, b"")  # fmt: skip
    assert b'"api_error"' in EventStreamDecoder().feed(other)


def test_a_corrupt_or_cut_stream_is_a_read_error() -> None:
    good = chunk_frame(text_events("x", "m")[0])
    corrupt = good[:-1] + bytes([good[-1] ^ 0xFF])  # the message CRC no longer matches
    with pytest.raises(ReadError, match="malformed AWS event-stream"):
        EventStreamDecoder().feed(corrupt)
    decoder = EventStreamDecoder()
    assert decoder.feed(good[:30]) == b""
    with pytest.raises(ReadError, match="inside an event-stream frame"):
        decoder.end()
    bad_chunk = frame({":message-type": "event", ":event-type": "chunk"}, b'{"bytes": "!!"}')
    with pytest.raises(ReadError, match="not an Anthropic event"):
        EventStreamDecoder().feed(bad_chunk)


def test_http_errors_map_by_bedrocks_error_type() -> None:
    def shape(status: int, kind: str) -> Any:
        return http_error(status, {"x-amzn-errortype": f"{kind}:http://x/"}, b'{"message":"m"}')

    assert shape(429, "ThrottlingException").error_type == "rate_limit_error"
    assert shape(400, "ValidationException").status == 400
    assert shape(424, "ModelErrorException").status == 502
    assert shape(404, "ResourceNotFoundException").error_type == "not_found_error"
    assert "provider.model_map" in shape(404, "ResourceNotFoundException").message
    assert shape(403, "ExpiredTokenException").retry is False
    assert http_error(500, {}, b"oops") is None  # not Bedrock's own: the usual mapping


async def test_signed_requests_through_a_mock_transport(monkeypatch) -> None:
    """The provider and the sender without sockets: the request as it would leave."""
    from lynkr_cli.serve.metrics import Metrics
    from lynkr_cli.serve.providers.base import Route
    from lynkr_cli.serve.transport_mock import MockResponse, MockTransport
    from lynkr_cli.serve.upstream import Sender
    from lynkr_cli.settings import get_settings

    static_keys(monkeypatch)
    settings = get_settings(settings_for(FakeBedrock(keys={}, url="https://bedrock.test")))
    from lynkr_bedrock.provider import BedrockProvider

    provider = BedrockProvider(settings.provider)

    async def handler(method: str, url: str, headers: Any, data: bytes) -> MockResponse:
        return MockResponse(200, {"content-type": "application/json"}, b'{"type":"message"}')

    transport = MockTransport(handler)
    sender = Sender(transport, settings.provider, Metrics(), "hop")
    body = {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": []}
    route = Route("bedrock", "claude-sonnet-4-5", "c")
    req = provider.prepare(body, json.dumps(body).encode(), route, {}, stream=False)
    resp = await sender.send(provider, req)
    assert await resp.read() == b'{"type":"message"}'
    _method, url, headers, _data = transport.calls[0]
    assert url.startswith("https://bedrock.test/model/us.anthropic.claude-sonnet-4-5")
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLYNKRTEST")
    assert "x-lynkr-hop" in headers["Authorization"]  # signed after the gateway's headers
