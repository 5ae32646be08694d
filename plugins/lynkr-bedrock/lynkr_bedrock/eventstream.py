"""Bedrock's answers in Anthropic's terms: the event-stream as SSE, its errors as Anthropic's.

``InvokeModelWithResponseStream`` answers ``application/vnd.amazon.eventstream``:
binary frames (a prelude with lengths and a CRC, typed headers, a payload, a CRC of the
whole). botocore's parser checks and splits them; each ``chunk`` event carries one
Anthropic stream event, base64-encoded, which becomes one SSE frame. An exception
frame (throttling mid-stream, a model error) becomes an SSE ``error`` event in
Anthropic's shape, which ends the stream as the native path ends any stream.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson

from lynkr_cli.serve.providers.base import UpstreamError
from lynkr_cli.serve.transport import ReadError

# Bedrock's error names (the x-amzn-errortype header, or an exception frame's
# :exception-type) → (status, Anthropic error type, retry) for the client.
ERRORS: dict[str, tuple[int, str, bool | None]] = {
    "throttlingexception": (429, "rate_limit_error", True),
    "servicequotaexceededexception": (429, "rate_limit_error", True),
    "modelnotreadyexception": (529, "overloaded_error", True),
    "serviceunavailableexception": (529, "overloaded_error", True),
    "validationexception": (400, "invalid_request_error", False),
    "resourcenotfoundexception": (404, "not_found_error", False),
    "modeltimeoutexception": (504, "timeout_error", True),
    "modelerrorexception": (502, "api_error", None),
    "modelstreamerrorexception": (502, "api_error", None),
    "internalserverexception": (502, "api_error", True),
    "accessdeniedexception": (403, "permission_error", False),
    "unrecognizedclientexception": (401, "authentication_error", False),
    "invalidsignatureexception": (401, "authentication_error", False),
    "expiredtokenexception": (401, "authentication_error", False),
    "incompletesignature": (401, "authentication_error", False),
    "missingauthenticationtokenexception": (401, "authentication_error", False),
}
CREDENTIAL_FIX = (
    "This is lynkr's AWS identity, not your client key: check the credentials of the "
    "AWS chain lynkr runs with (AWS_PROFILE / provider.bedrock.profile, `aws sso login`, "
    "AWS_ACCESS_KEY_ID) and that the model is enabled for it in the Bedrock console"
)


def error_name(value: str) -> str:
    """``ThrottlingException:http://internal.amazon.com/…`` → ``throttlingexception``."""
    return value.split(":", 1)[0].strip().lower()


def http_error(status: int, headers: Mapping[str, str], raw: bytes) -> UpstreamError | None:
    """A Bedrock error answer in Anthropic's terms (None: not one of Bedrock's own)."""
    name = error_name(headers.get("x-amzn-errortype", ""))
    message = _message(raw) or f"HTTP {status}"
    known = ERRORS.get(name)
    if known is None:
        if status in (401, 403):
            return UpstreamError(status, "authentication_error", f"{message}. {CREDENTIAL_FIX}")
        return None
    code, kind, retry = known
    if kind in ("authentication_error", "permission_error"):
        message = f"{message}. {CREDENTIAL_FIX}"
    elif kind == "not_found_error":
        message += ". Check the model id (provider.model_map) and the region"
    label = headers.get("x-amzn-errortype", "").split(":", 1)[0] or "error"
    return UpstreamError(code, kind, f"{label}: {message}", retry)


def _message(raw: bytes) -> str:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace").strip()[:500]
    if isinstance(doc, dict):
        for key in ("message", "Message"):
            if isinstance(doc.get(key), str):
                return str(doc[key])[:2000]
    return ""


def sse(event: Mapping[str, Any]) -> bytes:
    return b"event: " + str(event.get("type", "")).encode() + b"\ndata: " + orjson.dumps(event)


class EventStreamDecoder:
    """AWS event-stream bytes in, Anthropic SSE frames out (a ``transport.Decoder``)."""

    def __init__(self) -> None:
        from botocore.eventstream import EventStreamBuffer

        self._buffer = EventStreamBuffer()
        self._pending = 0  # bytes fed that no complete frame has used yet

    def feed(self, data: bytes) -> bytes:
        from botocore.eventstream import ParserError

        self._buffer.add_data(data)
        self._pending += len(data)
        frames: list[bytes] = []
        try:
            for message in self._buffer:
                self._pending -= message.prelude.total_length
                frame = self._frame(message.headers, message.payload)
                if frame is not None:
                    frames.append(frame)
        except ParserError as exc:
            raise ReadError(f"malformed AWS event-stream frame from Bedrock: {exc}") from None
        return b"".join(frame + b"\n\n" for frame in frames)

    def end(self) -> bytes:
        if self._pending:
            raise ReadError(
                f"Bedrock's stream ended inside an event-stream frame ({self._pending} bytes)"
            )
        return b""

    def _frame(self, headers: Mapping[str, Any], payload: bytes) -> bytes | None:
        kind = headers.get(":message-type")
        if kind == "event" and headers.get(":event-type") == "chunk":
            return self._chunk(payload)
        if kind == "event":
            return None  # an event type Claude's stream does not have: nothing to relay
        if kind == "exception":
            name = str(headers.get(":exception-type", "exception"))
            return sse(_error_event(name, _message(payload) or name))
        code = str(headers.get(":error-code", "error"))
        return sse(_error_event(code, str(headers.get(":error-message", code))))

    @staticmethod
    def _chunk(payload: bytes) -> bytes:
        try:
            event = orjson.loads(base64.b64decode(orjson.loads(payload)["bytes"], validate=True))
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error) as exc:
            raise ReadError(f"a Bedrock chunk that is not an Anthropic event: {exc}") from None
        if not isinstance(event, dict):
            raise ReadError("a Bedrock chunk that is not an Anthropic event")
        return sse(event)


def _error_event(name: str, message: str) -> dict[str, Any]:
    _status, kind, _retry = ERRORS.get(error_name(name), (502, "api_error", None))
    return {"type": "error", "error": {"type": kind, "message": f"Bedrock {name}: {message}"}}
