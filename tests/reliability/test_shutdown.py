"""SIGTERM under load: in-flight answers finish within the grace period, and whatever is
still running when it ends is ended on purpose, never cut mid-frame."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.gatewayproc import GatewayProcess
from tests.reliability.faultserver import FaultServer
from tests.reliability.test_fault_matrix import sse_events

pytestmark = pytest.mark.timeout(90)


def body(text: str, stream: bool) -> dict:
    return {
        "model": "claude-x",
        "max_tokens": 20,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


async def request(http: httpx.AsyncClient, text: str, stream: bool, started: asyncio.Event) -> Any:
    async with http.stream("POST", "/v1/messages", json=body(text, stream)) as resp:
        chunks = []
        async for chunk in resp.aiter_bytes():
            chunks.append(chunk)
            started.set()
        return resp.status_code, b"".join(chunks)


@pytest.mark.parametrize("path", ["passthrough", "translation"])
async def test_sigterm_ends_every_stream_with_an_error_event(path: str) -> None:
    upstream = await FaultServer(stall_seconds=30).start()
    if path == "passthrough":
        env = {
            "LYNKR_PROVIDER": "anthropic",
            "LYNKR_ANTHROPIC_API_KEY": "up-key",
            "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
        }
    else:
        env = {
            "LYNKR_PROVIDER": "openai",
            "LYNKR_OPENAI_API_KEY": "up-key",
            "LYNKR_OPENAI_ENDPOINT": upstream.url + "/v1/chat/completions",
            "LYNKR_OPENAI_MODEL": "gpt-t",
        }
    env |= {"LYNKR_GRACE_SECONDS": "1.5", "LYNKR_IDLE_TIMEOUT": "60"}
    try:
        async with GatewayProcess(env) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=60) as http:
                started = [asyncio.Event() for _ in range(8)]
                calls = [
                    *(request(http, "FAULT:stall", True, started[i]) for i in range(5)),
                    request(http, "FAULT:stall", False, asyncio.Event()),
                    request(http, "FAULT:slow_ok", True, started[6]),
                ]
                tasks = [asyncio.ensure_future(c) for c in calls]
                for event in started[:5]:
                    await asyncio.wait_for(event.wait(), 20)
                code = await gw.terminate()
                answers = await asyncio.wait_for(asyncio.gather(*tasks), 30)
            assert code == 0
        for status, data in answers[:5]:  # streams still running at the end of the grace
            assert status == 200
            events = sse_events(data)  # every frame whole: parsing would fail otherwise
            assert events[0]["type"] == "message_start"
            assert events[-1] == {
                "type": "error",
                "error": {
                    "type": "overloaded_error",
                    "message": "gateway shutting down: retry the request",
                },
            }
            assert data.endswith(b"\n\n")
        status, data = answers[5]  # a JSON answer still pending: a 529 the SDKs retry
        assert status == 529 and json.loads(data)["error"]["type"] == "overloaded_error"
        status, data = answers[6]  # finished within the grace period: untouched
        assert status == 200 and sse_events(data)[-1]["type"] == "message_stop"
        assert "Traceback" not in gw.stderr, gw.stderr[-3000:]
    finally:
        await upstream.stop()
