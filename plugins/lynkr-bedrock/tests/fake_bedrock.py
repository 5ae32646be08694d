"""A fake bedrock-runtime on 127.0.0.1 that checks what the real one checks.

- Every request's SigV4 signature is recomputed here from the request as received,
  with hashlib and hmac (not botocore, which signed it), and compared: a request whose
  signature, scope, date or session token is wrong is answered 403 as AWS answers it.
- ``/model/{id}/invoke`` answers a JSON Message; ``/model/{id}/invoke-with-response-stream``
  answers real ``application/vnd.amazon.eventstream`` framing, written here by hand
  (prelude, typed headers, CRC32s) — the tests check it with botocore's parser.
- The body must be Bedrock's: ``anthropic_version`` set, no ``model``, no ``stream``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from tests.e2e.test_claude_code import _last_user_text, _tool_result

Reply = Callable[[dict[str, Any]], list[dict[str, Any]]]
MARKER = "lynkr-bedrock-7c1e"


# --------------------------------------------------------------------------- event-stream


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    message = prelude + struct.pack(">I", binascii.crc32(prelude)) + head + payload
    return message + struct.pack(">I", binascii.crc32(message))


def chunk_frame(event: dict[str, Any]) -> bytes:
    data = base64.b64encode(json.dumps(event).encode()).decode()
    payload = json.dumps({"bytes": data, "p": "abcdefgh"}).encode()
    headers = {
        ":event-type": "chunk",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return frame(headers, payload)


def exception_frame(name: str, message: str) -> bytes:
    headers = {
        ":exception-type": name,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


# --------------------------------------------------------------------------- SigV4, by hand


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(
    request: web.BaseRequest, body: bytes, secret: str, signed: list[str], scope: str, amz: str
) -> str:
    """The SigV4 signature of ``request`` as received (AWS's algorithm, written out)."""
    path = request.raw_path.split("?", 1)[0]
    canonical_uri = quote(path, safe="/~")  # non-S3 services encode the encoded path again
    query = request.raw_path.partition("?")[2]
    pairs = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _, v in (p.partition("=") for p in query.split("&") if p)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = [f"{name}:{' '.join(request.headers.get(name, '').split())}" for name in signed]
    canonical = "\n".join(
        [
            request.method,
            canonical_uri,
            canonical_query,
            "\n".join(lines) + "\n",
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    date, region, service, _ = scope.split("/")
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the model


def text_events(text: str, model: str, stop: str = "end_turn") -> list[dict[str, Any]]:
    start = {
        "id": "msg_bdrk_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 11, "output_tokens": 1},
    }
    half = len(text) // 2
    return [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text[:half]},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text[half:]},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 11, "outputTokenCount": 5},
        },
    ]


def model_reply(body: dict[str, Any]) -> list[dict[str, Any]]:
    """ "run the marker" with a Bash tool → a Bash call; its result → "tool said: …";
    anything else → "Hello from Bedrock"."""
    messages = body["messages"]
    result = _tool_result(messages)
    tools = {t.get("name") for t in body.get("tools") or []}
    model = "claude-sonnet-4-5-20250929"
    if result is not None:
        return text_events(f"tool said: {result.strip()}", model)
    if "run the marker" in _last_user_text(messages) and "Bash" in tools:
        events = text_events("", model, "tool_use")
        args = json.dumps({"command": f"echo {MARKER}", "description": "Print the marker"})
        block = {"type": "tool_use", "id": "toolu_bdrk_1", "name": "Bash", "input": {}}
        events[1:5] = [
            {"type": "content_block_start", "index": 0, "content_block": block},
            {"type": "content_block_delta", "index": 0,
             "delta": {"type": "input_json_delta", "partial_json": args[:9]}},
            {"type": "content_block_delta", "index": 0,
             "delta": {"type": "input_json_delta", "partial_json": args[9:]}},
            {"type": "content_block_stop", "index": 0},
        ]  # fmt: skip
        return events
    return text_events("Hello from Bedrock", model)


def accumulate(events: list[dict[str, Any]]) -> dict[str, Any]:
    from lynkr_cli.serve.sse import Accumulator

    acc = Accumulator()
    for event in events:
        acc.add(event)
    assert acc.message is not None
    return acc.message


# --------------------------------------------------------------------------- the server


@dataclass
class FakeBedrock:
    """``keys``: access key id → (secret, session token or None) it accepts."""

    keys: dict[str, tuple[str, str | None]]
    region: str = "us-east-1"
    reply: Reply = model_reply
    # What to answer instead, once each: ("http", status, error type, message),
    # ("exception", name, message) mid-stream, or ("cut",) mid-stream.
    faults: list[tuple[Any, ...]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)  # {path, model, body, headers}
    problems: list[str] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def start(self) -> FakeBedrock:
        app = web.Application()
        app.router.add_post("/model/{model}/{action}", self._handle)
        app.router.add_get("/", self._root)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _root(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "UnknownOperationException"}, status=404)

    def _denied(self, why: str) -> web.Response:
        self.problems.append(why)
        headers = {"x-amzn-ErrorType": "InvalidSignatureException:http://internal.amazon.com/"}
        return web.json_response({"message": why}, status=403, headers=headers)

    def _check_signature(self, request: web.BaseRequest, body: bytes) -> str | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "no SigV4 Authorization header"
        parts = dict(p.strip().split("=", 1) for p in auth[17:].split(","))
        akid, _, scope = parts["Credential"].partition("/")
        signed = parts["SignedHeaders"].split(";")
        if akid not in self.keys:
            return f"unknown access key {akid}"
        secret, token = self.keys[akid]
        amz = request.headers.get("X-Amz-Date", "")
        when = datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        if abs(time.time() - when) > 300:
            return "X-Amz-Date is not now"
        if scope != f"{amz[:8]}/{self.region}/bedrock/aws4_request":
            return f"wrong scope {scope}"
        if not {"host", "x-amz-date"} <= set(signed):
            return f"host and x-amz-date must be signed, got {signed}"
        if token is not None and (
            request.headers.get("X-Amz-Security-Token") != token
            or "x-amz-security-token" not in signed
        ):
            return "missing or unsigned session token"
        if parts["Signature"] != expected_signature(request, body, secret, signed, scope, amz):
            return "signature does not match"
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        problem = self._check_signature(request, body)
        if problem is not None:
            return self._denied(problem)
        doc = json.loads(body)
        model = unquote(request.match_info["model"])
        key = request.headers["Authorization"].split("Credential=", 1)[1].split("/", 1)[0]
        self.seen.append({"path": request.raw_path, "model": model, "body": doc,
                          "headers": dict(request.headers), "key": key})  # fmt: skip
        if doc.get("anthropic_version") != "bedrock-2023-05-31":
            self.problems.append(f"anthropic_version is {doc.get('anthropic_version')!r}")
        for key in ("model", "stream"):
            if key in doc:
                self.problems.append(f"body has {key!r}, which Bedrock refuses")
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault[0] == "http":
            _, status, kind, message = fault
            headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/"}
            if status == 429:
                headers["Retry-After"] = "0"
            return web.json_response({"message": message}, status=status, headers=headers)
        events = self.reply(doc)
        if request.match_info["action"] == "invoke":
            return web.json_response(accumulate(events))
        return await self._stream(request, events, fault)

    async def _stream(
        self, request: web.Request, events: list[dict[str, Any]], fault: tuple[Any, ...] | None
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={
                "Content-Type": "application/vnd.amazon.eventstream",
                "x-amzn-RequestId": "req-fake",
            }
        )
        await resp.prepare(request)
        for i, event in enumerate(events):
            if fault is not None and i == 3:
                if fault[0] == "exception":
                    await resp.write(exception_frame(fault[1], fault[2]))
                    await resp.write_eof()
                    return resp
                if fault[0] == "cut":
                    await resp.write(chunk_frame(event)[:20])  # half a frame, then gone
                    assert request.transport is not None
                    request.transport.close()
                    return resp
            data = chunk_frame(event)
            # Split frames across writes: the decoder must join them.
            await resp.write(data[:7])
            await resp.write(data[7:])
        await resp.write_eof()
        return resp
