"""Malformed HTTP and hostile bodies: always a 4xx in Anthropic's shape, one log line,
never a 5xx or a traceback (a real ``lynkr serve``, its log read afterwards)."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from tests.gatewayproc import GatewayProcess
from tests.reliability.faultserver import FaultServer

pytestmark = pytest.mark.timeout(90)
MSG = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


async def raw(url: str, data: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 20)
    finally:
        writer.close()


def post(body: bytes, *headers: bytes, path: bytes = b"/v1/messages") -> bytes:
    head = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += b"Content-Type: application/json\r\n" + b"".join(h + b"\r\n" for h in headers)
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def anthropic_error(answer: bytes, status: int) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.1 %d " % status, b"HTTP/1.0 %d " % status)), answer[:300]
    assert b"content-type: application/json" in head.lower()
    doc = json.loads(body)
    assert doc["type"] == "error" and doc["error"]["message"]
    return doc


def deep(levels: int) -> bytes:
    """A message block nesting ``levels`` arrays: the cache key must re-encode it."""
    block = b'{"type":"text","text":"hi","x":' + b"[" * levels + b"]" * levels + b"}"
    return (
        b'{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":['
        + block
        + b"]}]}"
    )


CASES = [
    ("deep JSON 254", post(deep(254)), 400, "nested too deeply"),
    ("deep JSON 600", post(deep(600)), 400, "nested too deeply"),
    ("deep JSON 2000", post(deep(2000)), 400, "not valid JSON"),
    ("gzip that is not gzip", post(b"not gzip at all", b"Content-Encoding: gzip"), 400, "decode"),
    ("deflate junk", post(b"\x78\x9c junk", b"Content-Encoding: deflate"), 400, "decode"),
    (
        "unknown encoding",
        post(json.dumps(MSG).encode(), b"Content-Encoding: snappy"),
        415,
        "Content-Encoding",
    ),
    ("invalid UTF-8", post(b'{"model":"\xff\xfe","max_tokens":5,"messages":[]}'), 400, "body"),
    ("bad method", b"GE T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "malformed HTTP"),
    ("bad header", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n", 400, "malformed"),
    (
        "huge header",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
        400,
        "",
    ),
    (
        "bad length",
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
        400,
        "",
    ),
    (
        "encoded slash",
        post(json.dumps(MSG).encode(), path=b"/v1/messages%2fcount_tokens"),
        404,
        "no route",
    ),
]


async def test_malformed_requests_are_4xx_json_without_tracebacks() -> None:
    upstream = await FaultServer().start()
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
        "LYNKR_CACHE": "true",
    }
    try:
        async with GatewayProcess(env) as gw:
            for name, data, status, words in CASES:
                doc = anthropic_error(await raw(gw.url, data), status)
                assert words in doc["error"]["message"], (name, doc)
            good = gzip.compress(json.dumps(MSG).encode())
            ok = await raw(gw.url, post(good, b"Content-Encoding: gzip"))
            assert ok.startswith(b"HTTP/1.1 200"), ok[:300]
            assert await gw.terminate() == 0
        assert "Traceback" not in gw.stderr, gw.stderr[-3000:]
        assert upstream.requests == 1  # only the good request went upstream
    finally:
        await upstream.stop()


async def test_client_disconnect_mid_stream_is_one_info_line() -> None:
    upstream = await FaultServer(stall_seconds=5).start()
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
    }
    try:
        async with GatewayProcess(env) as gw:
            body = json.dumps(
                {**MSG, "stream": True, "messages": [{"role": "user", "content": "FAULT:stall"}]}
            ).encode()
            host, port = gw.url.removeprefix("http://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(post(body))
            await writer.drain()
            await asyncio.wait_for(reader.readuntil(b"event: content_block_delta"), 20)
            writer.transport.abort()  # hang up mid-answer
            await asyncio.sleep(0.5)
            assert await gw.terminate() == 0
        assert "Traceback" not in gw.stderr, gw.stderr[-3000:]
    finally:
        await upstream.stop()
