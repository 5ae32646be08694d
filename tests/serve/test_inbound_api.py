"""OpenAI's error shape, rate-limit headers and models list (translate.openai_api)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from openai.types import Model

from lynkr_cli.serve.errors import ERROR_TYPES
from lynkr_cli.serve.translate import (
    error_frame,
    openai_error,
    openai_error_event,
    openai_models,
    openai_ratelimit_headers,
    wants_openai_shape,
)
from lynkr_cli.serve.translate.openai_api import ERROR_STATUS, go_duration

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "kind", "code", "out"),
    [
        (400, "invalid_request_error", None, 400),
        (401, "invalid_request_error", "invalid_api_key", 401),
        (403, "invalid_request_error", None, 403),
        (404, "invalid_request_error", None, 404),
        (408, "invalid_request_error", None, 408),
        (413, "invalid_request_error", None, 413),
        (415, "invalid_request_error", None, 415),
        (429, "requests", "rate_limit_exceeded", 429),
        (500, "server_error", None, 500),
        (502, "server_error", None, 502),
        (504, "server_error", None, 504),
        (529, "server_error", None, 503),
    ],
)
def test_statuses(status: int, kind: str, code: str | None, out: int) -> None:
    got, body = openai_error(status, "what happened")
    assert got == out
    assert body == {
        "error": {"message": "what happened", "type": kind, "param": None, "code": code}
    }


def test_param_code_and_token_limits() -> None:
    _, body = openai_error(400, "m: bad", param="messages[0].content")
    assert body["error"]["param"] == "messages[0].content"
    _, body = openai_error(404, "no such model", code="model_not_found")
    assert body["error"]["code"] == "model_not_found"
    _, body = openai_error(429, "slow down", limit="tokens")
    assert body["error"]["type"] == "tokens"


def test_every_gateway_error_type_has_a_status() -> None:
    assert set(ERROR_TYPES.values()) <= set(ERROR_STATUS)
    assert openai_error_event("rate_limit_error", "x")["error"]["type"] == "requests"
    assert openai_error_event("made_up", "x")["error"]["type"] == "server_error"
    frame = error_frame("invalid_request_error", 'quote " and\nnewline')
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n") and frame.count(b"\n") == 2
    assert orjson.loads(frame[6:])["error"]["message"] == 'quote " and\nnewline'


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-3, "0s"),
        (0.0004, "0s"),
        (0.012, "12ms"),
        (0.999, "999ms"),
        (1, "1s"),
        (17.5, "17.5s"),
        (17.28, "17.28s"),
        (60, "1m0s"),
        (360, "6m0s"),
        (90.25, "1m30.25s"),
        (3723, "1h2m3s"),
        (86400, "24h0m0s"),
        (float("inf"), "0s"),
    ],
)
def test_go_durations(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_ratelimit_headers_from_anthropic() -> None:
    headers = {
        "Anthropic-RateLimit-Requests-Limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": (NOW + timedelta(seconds=1)).isoformat(),
        "anthropic-ratelimit-tokens-limit": "40000",
        "anthropic-ratelimit-tokens-remaining": "18000",
        "anthropic-ratelimit-tokens-reset": "2026-01-01T12:06:00Z",
        "anthropic-ratelimit-input-tokens-limit": "1",
        "retry-after": "3",
    }
    assert openai_ratelimit_headers(headers, now=NOW) == {
        "x-ratelimit-limit-requests": "50",
        "x-ratelimit-remaining-requests": "49",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "40000",
        "x-ratelimit-remaining-tokens": "18000",
        "x-ratelimit-reset-tokens": "6m0s",
    }


def test_ratelimit_headers_fallbacks_and_junk() -> None:
    headers = {
        "anthropic-ratelimit-input-tokens-limit": "2000",
        "anthropic-ratelimit-input-tokens-remaining": "-5",  # junk: left out
        "anthropic-ratelimit-input-tokens-reset": "2.5",  # seconds already
        "anthropic-ratelimit-requests-limit": "10",
        "anthropic-ratelimit-requests-reset": "not a time",
    }
    assert openai_ratelimit_headers(headers, now=NOW) == {
        "x-ratelimit-limit-tokens": "2000",
        "x-ratelimit-reset-tokens": "2.5s",
        "x-ratelimit-limit-requests": "10",
    }
    past = {
        "anthropic-ratelimit-requests-limit": "1",
        "anthropic-ratelimit-requests-reset": "2020-01-01T00:00:00Z",
    }
    assert openai_ratelimit_headers(past, now=NOW)["x-ratelimit-reset-requests"] == "0s"
    assert openai_ratelimit_headers({"content-type": "x"}) == {}


def test_models_list_shape() -> None:
    doc = openai_models(["b", "a", "b"], created=123, owned_by="me")
    assert doc["object"] == "list"
    assert [Model.model_validate(m).id for m in doc["data"]] == ["b", "a"]
    assert doc["data"][0] == {"id": "b", "object": "model", "created": 123, "owned_by": "me"}


@pytest.mark.parametrize(
    ("headers", "openai_style"),
    [
        ({"Authorization": "Bearer sk-x"}, True),
        ({"authorization": "bearer sk-x"}, True),
        ({"Authorization": "Bearer t", "anthropic-version": "2023-06-01"}, False),  # Claude Code
        ({"x-api-key": "k", "anthropic-version": "2023-06-01"}, False),  # anthropic SDK
        ({"Authorization": "Basic dTpw"}, False),
        ({}, False),
    ],
)
def test_models_shape_rule(headers: dict[str, str], openai_style: bool) -> None:
    assert wants_openai_shape(headers) is openai_style
