"""The native relay's observer: whatever the chunking, it sees start, usage, end and errors."""

from __future__ import annotations

import json

import pytest

from lynkr_cli.serve.context import Context
from lynkr_cli.serve.respond import _NativeRelay
from lynkr_cli.serve.sse import FrameSplitter
from tests.serve import fakes


def relay_all(events: list[dict], chunk: int) -> tuple[_NativeRelay, bytes]:
    data = b"".join(fakes.sse(e) for e in events)
    ctx = Context("req_test", "messages")
    ctx.client_model = "claude-client"
    relay = _NativeRelay(ctx, None)
    splitter = FrameSplitter()
    out = b""
    for i in range(0, len(data), chunk):
        frames = splitter.feed(data[i : i + chunk])
        if frames:
            out += relay.observe(frames)
    return relay, out


@pytest.mark.parametrize("chunk", [1, 7, 50, 333, 100_000])
def test_observer_sees_everything_at_any_chunking(chunk: int) -> None:
    events = fakes.text_events("event: message_stop is just text here", "upstream-model")
    relay, out = relay_all(events, chunk)
    assert relay.done and relay.ctx.error == ""
    assert relay.ctx.input_tokens == 11 and relay.ctx.output_tokens == 5
    sent = [json.loads(line[6:]) for line in out.decode().splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in sent] == [e["type"] for e in events]
    assert sent[0]["message"]["model"] == "claude-client"


@pytest.mark.parametrize("chunk", [9, 100_000])
def test_observer_spots_an_error_event_mid_stream(chunk: int) -> None:
    events = fakes.text_events("partial", "m")[:4]
    events.append({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    relay, _ = relay_all(events, chunk)
    assert relay.done and relay.ctx.error == "busy"
