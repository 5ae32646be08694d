"""Anthropic-shaped errors and request validation for the gateway.

Every error the gateway answers is ``{"type":"error","error":{"type","message"},
"request_id"}``. :class:`ApiError` carries the HTTP status, the Anthropic error type
and extra headers (``retry-after``, ``x-should-retry``); handlers raise it and the
app turns it into a response. Validation names the offending field
(``messages.1.content``) so a client's mistake is a 400, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from lynkr_cli.logs import MASK, redact_text
from lynkr_cli.serve.translate.common import json_kind as _kind

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    508: "api_error",
    529: "overloaded_error",
}


# Values of the configured secrets (upstream keys, tokens, proxy credentials): masked in
# every error message, since upstreams echo keys back ("Incorrect API key provided: sk-…").
_known_secrets: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
MIN_SECRET_LEN = 6  # shorter "secrets" would mask ordinary words


def register_secrets(values: Iterable[str]) -> None:
    """Mask these values wherever they appear in an error message from now on."""
    global _known_pattern
    new = {v for v in values if v and len(v) >= MIN_SECRET_LEN} - _known_secrets
    if not new:
        return
    _known_secrets.update(new)
    ordered = sorted(_known_secrets, key=len, reverse=True)  # longest first
    _known_pattern = re.compile("|".join(re.escape(v) for v in ordered))


def scrub(text: str) -> str:
    """``text`` without any configured secret or credential-shaped string."""
    if _known_pattern is not None:
        text = _known_pattern.sub(MASK, text)
    return redact_text(text)


class ApiError(Exception):
    """An error answered to the client in Anthropic's shape.

    The message is scrubbed (:func:`scrub`) when the error is made, so neither the
    answer, nor an SSE ``error`` event, nor the access log can carry a credential.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
        retry: bool | None = None,
        transient: bool = False,
        param: str | None = None,
    ) -> None:
        message = scrub(message)
        super().__init__(message)
        # A connection-level failure the gateway itself may retry if nothing reached the client.
        self.transient = transient
        self.status = status
        self.message = message
        self.param = param  # the field at fault, OpenAI's way (messages[2].content)
        self.error_type = error_type or ERROR_TYPES.get(status, "api_error")
        self.headers = dict(headers or {})
        if retry is not None:
            # The SDKs obey this header: "false" stops pointless retries of config errors.
            self.headers["x-should-retry"] = "true" if retry else "false"

    def body(self, request_id: str) -> bytes:
        return error_body(self.error_type, self.message, request_id)

    def event(self) -> dict[str, Any]:
        """The same error as an SSE ``error`` event (after a 200 was sent)."""
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}


def error_body(error_type: str, message: str, request_id: str) -> bytes:
    return orjson.dumps(
        {
            "type": "error",
            "error": {"type": error_type, "message": message},
            "request_id": request_id,
        }
    )


def bad_request(field: str, problem: str) -> ApiError:
    return ApiError(400, f"{field}: {problem}", retry=False)


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    if not raw:
        raise bad_request("body", "the request body is empty; send a JSON object")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request("body", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise bad_request("body", f"expected a JSON object, got {_kind(doc)}")
    return doc


def _require_str(body: dict[str, Any], key: str) -> None:
    if key not in body:
        raise bad_request(key, "field required")
    value = body[key]
    if not isinstance(value, str) or not value:
        raise bad_request(key, f"expected a non-empty string, got {_kind(value)}")


def validate_messages_request(
    body: dict[str, Any], *, need_max_tokens: bool = True, default_max_tokens: int | None = None
) -> bool:
    """Check the fields the gateway relies on; unknown fields are left for the upstream.

    A missing ``max_tokens`` takes ``default_max_tokens`` when one is given (the Lynkr
    article's curl example sends none); returns True when the body was changed so.
    """
    _require_str(body, "model")
    changed = False
    if need_max_tokens:
        if "max_tokens" not in body:
            if default_max_tokens is None:
                raise bad_request("max_tokens", "field required")
            body["max_tokens"] = default_max_tokens
            changed = True
        value = body["max_tokens"]
        if isinstance(value, float) and value.is_integer():  # 5.0 is the integer 5 in JSON
            value = body["max_tokens"] = int(value)
            changed = True
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad_request("max_tokens", f"expected a positive integer, got {value!r}")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("stream", f"expected a boolean, got {_kind(stream)}")
    _validate_system(body.get("system"))
    _validate_messages(body.get("messages"))
    _validate_tools(body.get("tools"))
    choice = body.get("tool_choice")
    if choice is not None and not (
        isinstance(choice, dict) and isinstance(choice.get("type"), str)
    ):
        raise bad_request("tool_choice", "expected an object with a string 'type'")
    stops = body.get("stop_sequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) for s in stops)
    ):
        raise bad_request("stop_sequences", "expected an array of strings")
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise bad_request(key, f"expected a number, got {_kind(value)}")
    return changed


def _validate_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        raise bad_request("system", f"expected a string or an array of blocks, got {_kind(system)}")
    for i, block in enumerate(system):
        if not isinstance(block, dict) or not isinstance(block.get("text"), str):
            raise bad_request(f"system.{i}", "expected a text block with a string 'text'")


def _validate_messages(messages: Any) -> None:
    if messages is None:
        raise bad_request("messages", "field required")
    if not isinstance(messages, list):
        raise bad_request("messages", f"expected an array, got {_kind(messages)}")
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict):
            raise bad_request(where, f"expected an object, got {_kind(message)}")
        role = message.get("role")
        if role not in ("user", "assistant", "system"):
            raise bad_request(f"{where}.role", f"expected 'user' or 'assistant', got {role!r}")
        if "content" not in message:
            raise bad_request(f"{where}.content", "field required")
        _validate_content(message["content"], f"{where}.content")


def _validate_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(where, f"expected a string or an array of blocks, got {_kind(content)}")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise bad_request(f"{where}.{j}", "expected a content block with a string 'type'")


def _validate_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise bad_request("tools", f"expected an array, got {_kind(tools)}")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise bad_request(f"tools.{i}", "expected a tool object with a string 'name'")
