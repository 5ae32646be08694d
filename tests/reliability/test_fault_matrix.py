"""The fault matrix: every upstream fault, in JSON and SSE, on every path through a real
``lynkr serve``, answered with a well-formed Anthropic error (or an SSE ``error`` event
after the 200), in bounded time, without a leaked socket or a traceback in the log.

Paths: passthrough (a native Anthropic upstream), translation (an OpenAI upstream),
and the server-tool loop (a request without client tools in ``auto`` mode).
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gatewayproc import GatewayProcess, settle_to
from tests.reliability.faultserver import FAULTS, FaultServer

pytestmark = pytest.mark.timeout(240)

PATHS = ("passthrough", "translation", "tool_loop")
COMMON = {
    "LYNKR_IDLE_TIMEOUT": "1",  # a stalled upstream is given up after a second
    "LYNKR_FIRST_BYTE_TIMEOUT": "5",
    "LYNKR_MAX_RETRIES": "1",
    "LYNKR_RETRY_MAX_WAIT": "0.05",
    "LYNKR_CONNECT_TIMEOUT": "2",
}
# What the client must get: a status, or "event" for an SSE error event after the 200.
EXPECTED: dict[str, tuple[int, int | str]] = {
    # fault: (JSON answer, SSE answer)
    "refused": (502, 502),
    "no_headers": (502, 502),
    "stall": (504, "event"),
    "reset": (502, "event"),
    "malformed_json": (502, 502),
    "malformed_sse": (502, "event"),
    "429": (429, 429),
    "500": (502, 502),
    "529": (529, 529),
    "401": (401, 401),
    "400": (400, 400),
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def path_env(path: str, base: str, workspace: Path) -> dict[str, str]:
    if path == "translation":
        return {
            "LYNKR_PROVIDER": "openai",
            "LYNKR_OPENAI_API_KEY": "up-key",
            "LYNKR_OPENAI_ENDPOINT": base + "/v1/chat/completions",
            "LYNKR_OPENAI_MODEL": "gpt-t",
        }
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": base + "/v1/messages",
    }
    if path == "tool_loop":
        env |= {"LYNKR_TOOLS_MODE": "auto", "LYNKR_WORKSPACE": str(workspace)}
    return env


def body(fault: str, stream: bool) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 50,
        "stream": stream,
        "messages": [{"role": "user", "content": f"FAULT:{fault} please"}],
    }


async def exchange(url: str, fault: str, stream: bool) -> tuple[int, dict[str, str], bytes]:
    async with (
        httpx.AsyncClient(base_url=url, timeout=30) as http,
        http.stream("POST", "/v1/messages", json=body(fault, stream)) as resp,
    ):
        data = await resp.aread()
        return resp.status_code, dict(resp.headers), data


def check(fault: str, stream: bool, status: int, headers: dict[str, str], data: bytes) -> None:
    expected = EXPECTED[fault][1 if stream else 0]
    where = f"{fault} {'SSE' if stream else 'JSON'}"
    if expected == "event":
        assert status == 200, (where, status, data[:300])
        events = sse_events(data)
        assert events, where
        assert events[0]["type"] == "message_start", where
        assert events[-1]["type"] == "error", (where, events[-1])
        assert not any(e["type"] == "message_stop" for e in events), where
        err = events[-1]["error"]
        assert isinstance(err["type"], str) and err["message"], where
        return
    assert status == expected, (where, status, data[:300])
    doc = json.loads(data)
    assert doc["type"] == "error", where
    assert doc["request_id"] == headers["request-id"], where
    assert isinstance(doc["error"]["type"], str) and doc["error"]["message"], where
    if fault == "429":
        assert headers.get("retry-after") == "120", where


def sse_events(data: bytes) -> list[dict[str, Any]]:
    """Every frame's data parsed: a malformed frame fails the test here."""
    events = []
    for frame in data.decode().split("\n\n"):
        lines = [ln[5:].strip() for ln in frame.splitlines() if ln.startswith("data:")]
        if lines:
            events.append(json.loads("\n".join(lines)))
    return [e for e in events if e["type"] != "ping"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_fault_is_a_well_formed_error(path: str, tmp_path: Path) -> None:
    upstream = await FaultServer(stall_seconds=20).start()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    try:
        async with GatewayProcess({**COMMON, **path_env(path, upstream.url, workspace)}) as gw:
            for stream in (False, True):  # warm up: one good answer per mode
                status, _headers, data = await asyncio.wait_for(exchange(gw.url, "ok", stream), 60)
                assert status == 200, data[:300]
            baseline = gw.sockets()
            for fault in FAULTS:
                for stream in (False, True):
                    answer = await asyncio.wait_for(exchange(gw.url, fault, stream), 60)
                    check(fault, stream, *answer)
            # Nothing held: no upstream or client socket outlives its request.
            assert await settle_to(gw.sockets, baseline) <= baseline
            assert await gw.terminate() == 0
        assert "Traceback" not in gw.stderr, gw.stderr[-3000:]
        refused = f"http://127.0.0.1:{closed_port()}"
        async with GatewayProcess({**COMMON, **path_env(path, refused, workspace)}) as gw2:
            for stream in (False, True):
                answer = await asyncio.wait_for(exchange(gw2.url, "refused", stream), 60)
                check("refused", stream, *answer)
            assert await gw2.terminate() == 0
        assert "Traceback" not in gw2.stderr, gw2.stderr[-3000:]
    finally:
        await upstream.stop()
