"""A malicious or broken upstream speaking bad HTTP/1.1 to the gateway: smuggling-style
framing is a 502 naming the upstream (or an SSE ``error`` once the stream has begun),
never a relayed answer, and the refusal never quotes the upstream's header values."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.serve import fakes
from tests.serve.test_http1 import Server

BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
CANARY = "canary-cookie-4f1d"


def json_answer(head_extra: bytes) -> bytes:
    body = json.dumps(fakes.message("smuggled", "claude-x")).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head_extra
    return head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


BAD_HEADS = {
    "Transfer-Encoding with Content-Length": json_answer(b"Transfer-Encoding: chunked\r\n"),
    "two different Content-Lengths": json_answer(b"Content-Length: 5\r\n"),
    "obs-fold": json_answer(b"X-A: 1\r\n folded\r\n"),
    "space before the colon": json_answer(b"Set-Cookie : s=" + CANARY.encode() + b"\r\n"),
    "control character in a value": json_answer(b"Set-Cookie: \x01" + CANARY.encode() + b"\r\n"),
}


async def upstream(answer: bytes) -> Server:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await server.request(reader)
            writer.write(answer)
            await writer.drain()

    server = Server(script)
    return await server.start()


def settings(server: Server) -> dict[str, object]:
    return {
        "provider.name": "anthropic",
        "provider.anthropic_endpoint": server.url,
        "provider.anthropic_api_key": "up-key",
    }


@pytest.mark.parametrize("name", BAD_HEADS)
async def test_a_malformed_answer_is_a_502_naming_the_upstream(gateway, name: str) -> None:
    server = await upstream(BAD_HEADS[name])
    try:
        gw = await gateway(**settings(server))
        async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
            resp = await http.post("/v1/messages", json=BODY)
        assert resp.status_code == 502
        error = resp.json()["error"]
        assert error["type"] == "api_error"
        assert "upstream anthropic" in error["message"]
        assert "not valid HTTP/1.1" in error["message"]
        assert CANARY not in resp.text and "smuggled" not in resp.text
        assert not any(gw.gw.sender.pool._idle.values())  # never pooled
    finally:
        await server.stop()


@pytest.mark.parametrize("size", [b"0x10", b"1_0", b"+10", b" 10"])
async def test_a_bad_chunk_size_mid_stream_ends_with_an_error_event(gateway, size) -> None:
    events = [fakes.sse(e) for e in fakes.text_events("hello there", "claude-x")]
    first, rest = b"".join(events[:2]), b"".join(events[2:])  # message_start, a block's start
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
    seen_first = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        writer.write(head + b"\r\n%x\r\n%s\r\n" % (len(first), first))
        await writer.drain()
        await asyncio.wait_for(seen_first.wait(), 10)  # the stream has reached the client
        writer.write(size + b"\r\n" + rest[:16])  # a size int(x, 16) would read as 16
        writer.write(b"\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(rest) - 16, rest[16:]))
        await writer.drain()
        await reader.read()

    server = await Server(script).start()
    try:
        gw = await gateway(**settings(server))
        text = ""
        async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
            request = http.stream("POST", "/v1/messages", json={**BODY, "stream": True})
            async with request as resp:
                assert resp.status_code == 200
                async for piece in resp.aiter_text():
                    text += piece
                    if "message_start" in text:
                        seen_first.set()
        lines = text.splitlines()
        assert lines[0] == "event: message_start"
        assert "event: message_stop" not in lines
        last = json.loads([ln for ln in lines if ln.startswith("data: ")][-1][6:])
        assert last["type"] == "error" and last["error"]["type"] == "api_error"
    finally:
        await server.stop()
