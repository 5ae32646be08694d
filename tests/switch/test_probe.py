"""`lynkr switch test`: reachability and first byte, and a real 1-token /v1/messages probe."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from aiohttp import web

from tests.switch.helpers import serve

KEY = "sk-probe-key-0123456789"


async def _root(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def _messages(request: web.Request) -> web.Response:
    body = await request.json()
    if request.headers.get("x-api-key") != KEY:
        error = {"type": "authentication_error", "message": "invalid x-api-key"}
        return web.json_response({"type": "error", "error": error}, status=401)
    if body["model"] != "good-model" or body["max_tokens"] != 1:
        error = {"type": "not_found_error", "message": f"model: {body['model']}"}
        return web.json_response({"type": "error", "error": error}, status=404)
    return web.json_response(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": "p"}],
            "stop_reason": "max_tokens",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


ROUTES = {("GET", "/"): _root, ("POST", "/v1/messages"): _messages}


def _add(invoke, url: str, key: str = KEY, model: str = "good-model") -> None:
    result = invoke("switch", "add", "t", "--base-url", url, "--key", key, "--model", model)
    assert result.exit_code == 0, result.stderr


def test_reach_measures_first_byte(invoke, home: Path) -> None:
    with serve(ROUTES) as server:
        _add(invoke, server["url"])
        result = invoke("switch", "test", "t", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["reach"]["status"] == 200
    assert doc["reach"]["ttfb_ms"] >= 0 and doc["reach"]["dns_ms"] >= 0
    assert "127.0.0.1" in doc["reach"]["addresses"]
    assert "probe" not in doc
    assert [s["path"] for s in server["seen"]] == ["/"]  # no paid call without --probe


def test_probe_sends_a_real_one_token_request(invoke, home: Path) -> None:
    with serve(ROUTES) as server:
        _add(invoke, server["url"])
        result = invoke("switch", "test", "t", "--probe")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "probe  ok   HTTP 200" in result.stdout
    call = server["seen"][-1]
    assert call["path"] == "/v1/messages"
    assert json.loads(call["body"])["max_tokens"] == 1
    assert call["headers"]["anthropic-version"] == "2023-06-01"
    assert KEY not in result.stdout


def test_probe_reports_a_bad_key(invoke, home: Path) -> None:
    with serve(ROUTES) as server:
        _add(invoke, server["url"], key="sk-wrong-key-000000000")
        result = invoke("switch", "test", "t", "--probe", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["reach"]["ok"] is True and doc["probe"]["ok"] is False
    assert doc["probe"]["error"] == "HTTP 401: invalid x-api-key"


def test_probe_reports_a_bad_model(invoke, home: Path) -> None:
    with serve(ROUTES) as server:
        _add(invoke, server["url"], model="no-such-model")
        result = invoke("switch", "test", "t", "--probe", "--json")
    assert result.exit_code == 1
    assert "model: no-such-model" in json.loads(result.stdout)["probe"]["error"]


def test_auth_token_profiles_send_bearer(invoke, home: Path) -> None:
    with serve(ROUTES) as server:
        assert (
            invoke(
                "switch",
                "add",
                "b",
                "--base-url",
                server["url"],
                "--key",
                KEY,
                "--key-field",
                "ANTHROPIC_AUTH_TOKEN",
            ).exit_code
            == 0
        )
        invoke("switch", "test", "b", "--probe")
    headers = server["seen"][-1]["headers"]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in {k.lower() for k in headers}


def test_unreachable_endpoint_fails_with_the_stage(invoke, home: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _add(invoke, f"http://127.0.0.1:{port}")
    result = invoke("switch", "test", "t", "--json", "--timeout", "2")
    assert result.exit_code == 1
    reach = json.loads(result.stdout)["reach"]
    assert reach["ok"] is False and reach["stage"] == "connect"


def test_profile_without_base_url(invoke, home: Path) -> None:
    assert invoke("switch", "add", "nourl", "--key", KEY).exit_code == 0
    result = invoke("switch", "test", "nourl")
    assert result.exit_code == 2 and "no base URL" in result.stderr
