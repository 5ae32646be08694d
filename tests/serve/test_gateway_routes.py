"""Routes, probes, request ids, auth, and bad input: all answered in Anthropic's shape."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.serve.conftest import provider_settings

MSG = {"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


def assert_error(resp: httpx.Response, status: int, error_type: str) -> dict:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert doc["type"] == "error"
    assert doc["error"]["type"] == error_type
    assert doc["request_id"] == resp.headers["request-id"]
    assert resp.headers["request-id"].startswith("req_")
    return doc


async def test_probes_and_discard_routes(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        head = await client.head("/")
        assert head.status_code == 200 and head.headers["request-id"]
        assert (await client.get("/")).json()["status"] == "ok"
        assert (await client.get("/health/live")).json() == {"status": "ok"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["provider"] == "anthropic"
        batch = await client.post("/api/event_logging/batch", json={"events": [1, 2]})
        assert batch.status_code == 200 and batch.headers["x-lynkr-cache"] == "bypass"
        metrics = await client.get("/metrics")
        assert "lynkr_requests_total" in metrics.text
    assert up.seen == []  # none of these reach the upstream


async def test_deep_readiness_probes_the_upstream(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        doc = (await client.get("/health/ready?deep=1")).json()
    assert doc["status"] == "ok" and doc["upstream_status"] == 400  # GET on a POST-only route
    assert up.seen[0].headers["x-api-key"] == "up-key"
    bad = await gateway(**{**provider_settings("anthropic", up), "provider.anthropic_api_key": "x"})
    async with httpx.AsyncClient(base_url=bad.url, timeout=10) as client:
        resp = await client.get("/health/ready?deep=1")
    assert resp.status_code == 503 and "ANTHROPIC_API_KEY" in resp.json()["problem"]
    gw2 = await gateway(
        **{
            "provider.name": "anthropic",
            "provider.anthropic_api_key": "k",
            "provider.anthropic_endpoint": "http://127.0.0.1:9/v1/messages",
        }
    )
    async with httpx.AsyncClient(base_url=gw2.url, timeout=10) as client:
        resp = await client.get("/health/ready?deep=1")
    assert resp.status_code == 503 and "unreachable" in resp.json()["problem"]


async def test_unknown_route_is_anthropic_404(gateway) -> None:
    gw = await gateway()
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        doc = assert_error(await client.get("/v2/whatever"), 404, "not_found_error")
        assert "/v2/whatever" in doc["error"]["message"]
        wrong = await client.get("/v1/messages")
        assert_error(wrong, 405, "invalid_request_error")
        assert wrong.headers["allow"] == "POST"
        assert_error(
            await client.post("/v1/messages%2fcount_tokens", json=MSG), 404, "not_found_error"
        )


async def test_no_provider_answers_every_request_with_what_to_set(gateway) -> None:
    gw = await gateway()
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        resp = await client.post("/v1/messages?beta=true", json=MSG)
        doc = assert_error(resp, 503, "api_error")
        assert "LYNKR_PROVIDER" in doc["error"]["message"]
        assert resp.headers["x-should-retry"] == "false"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503 and "LYNKR_PROVIDER" in ready.json()["problem"]
        # count_tokens still answers with an integer
        count = await client.post("/v1/messages/count_tokens", json=MSG)
        assert count.status_code == 200 and isinstance(count.json()["input_tokens"], int)


async def test_provider_without_credentials_names_the_variables(gateway) -> None:
    gw = await gateway(**{"provider.name": "databricks"})
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        doc = assert_error(await client.post("/v1/messages", json=MSG), 503, "api_error")
    assert "DATABRICKS_API_BASE" in doc["error"]["message"]
    assert "DATABRICKS_API_KEY" in doc["error"]["message"]


async def test_missing_max_tokens_takes_the_documented_default(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up), **{"server.default_max_tokens": 777})
    body = {k: v for k, v in MSG.items() if k != "max_tokens"}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        resp = await client.post("/v1/messages", json=body)
    assert resp.status_code == 200, resp.text
    assert up.bodies[-1]["max_tokens"] == 777


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({**MSG, "model": 5}).encode(), "model"),
        (json.dumps({k: v for k, v in MSG.items() if k != "model"}).encode(), "model"),
        (json.dumps({**MSG, "max_tokens": "many"}).encode(), "max_tokens"),
        (json.dumps({**MSG, "max_tokens": 0}).encode(), "max_tokens"),
        (json.dumps({**MSG, "messages": "hi"}).encode(), "messages"),
        (
            json.dumps({**MSG, "messages": [{"role": "bot", "content": "x"}]}).encode(),
            "messages.0.role",
        ),
        (
            json.dumps({**MSG, "messages": [{"role": "user", "content": 3}]}).encode(),
            "messages.0.content",
        ),
        (
            json.dumps(
                {**MSG, "messages": [{"role": "user", "content": [{"text": "x"}]}]}
            ).encode(),
            "messages.0.content.0",
        ),
        (json.dumps({**MSG, "stream": "yes"}).encode(), "stream"),
        (json.dumps({**MSG, "system": 7}).encode(), "system"),
        (json.dumps({**MSG, "tools": [{"description": "x"}]}).encode(), "tools.0"),
        (json.dumps({**MSG, "temperature": "hot"}).encode(), "temperature"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(gateway, fake, body: bytes, field: str) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        resp = await client.post(
            "/v1/messages", content=body, headers={"content-type": "application/json"}
        )
    doc = assert_error(resp, 400, "invalid_request_error")
    assert doc["error"]["message"].startswith(field + ":")
    assert up.seen == []


async def test_oversized_body_is_413(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up), **{"server.max_body_bytes": 1000})
    big = {**MSG, "messages": [{"role": "user", "content": "x" * 5000}]}
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        assert_error(await client.post("/v1/messages", json=big), 413, "request_too_large")

        async def chunks():  # no content-length: the limit must hold while reading too
            yield json.dumps(big).encode()

        resp = await client.post(
            "/v1/messages/count_tokens",
            content=chunks(),
            headers={"content-type": "application/json"},
        )
        assert_error(resp, 413, "request_too_large")
    assert up.seen == []


async def test_gateway_key_accepts_x_api_key_or_bearer(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up), **{"server.api_key": "gw-secret"})
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        assert_error(await client.post("/v1/messages", json=MSG), 401, "authentication_error")
        wrong = await client.post("/v1/messages", json=MSG, headers={"x-api-key": "nope"})
        assert_error(wrong, 401, "authentication_error")
        ok1 = await client.post("/v1/messages", json=MSG, headers={"x-api-key": "gw-secret"})
        ok2 = await client.post(
            "/v1/messages", json=MSG, headers={"authorization": "Bearer gw-secret"}
        )
        assert ok1.status_code == ok2.status_code == 200
        assert (await client.get("/health/live")).status_code == 200  # probes stay open
    # the upstream sees lynkr's key, never the client's
    assert {s.headers.get("x-api-key") for s in up.seen} == {"up-key"}
    assert all("gw-secret" not in json.dumps(dict(s.headers)) for s in up.seen)


async def test_client_key_never_reaches_the_upstream(gateway, fake) -> None:
    up = await fake()
    gw = await gateway(**provider_settings("anthropic", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        headers = {
            "x-api-key": "client-key",
            "authorization": "Bearer client-token",
            "anthropic-beta": "a-beta,b-beta",
            "anthropic-version": "2023-06-01",
        }
        resp = await client.post("/v1/messages?beta=true", json=MSG, headers=headers)
    assert resp.status_code == 200
    seen = up.seen[0]
    assert seen.headers["x-api-key"] == "up-key"
    assert "authorization" not in seen.headers
    assert seen.headers.get("anthropic-beta") == "a-beta,b-beta", dict(seen.headers)


async def test_gateway_pointed_at_itself_refuses(gateway) -> None:
    gw = await gateway(**{"provider.name": "anthropic", "provider.anthropic_api_key": "k"})
    # Point the provider at the gateway's own URL after it started (port 0 is known now).
    gw.gw.providers["anthropic"].settings.anthropic_endpoint = gw.url + "/v1/messages"
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        doc = assert_error(await client.post("/v1/messages", json=MSG), 508, "api_error")
    assert "ANTHROPIC_ENDPOINT" in doc["error"]["message"]


async def test_models_lists_configured_aliases(gateway, fake) -> None:
    up = await fake()
    mapping = "claude-opus-4-5=openai:gpt-big,claude-haiku-*=openai:gpt-small"
    gw = await gateway(
        **provider_settings("anthropic", up),
        **{"provider.model_map": mapping, "provider.model_default": "claude-sonnet-4-5"},
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as client:
        doc = (await client.get("/v1/models")).json()
        ids = [m["id"] for m in doc["data"]]
        assert ids == ["claude-opus-4-5", "claude-sonnet-4-5"]
        assert doc["first_id"] == "claude-opus-4-5" and doc["has_more"] is False
        assert all(m["type"] == "model" and m["created_at"] for m in doc["data"])
        page = (await client.get("/v1/models?limit=1&after_id=claude-opus-4-5")).json()
        assert [m["id"] for m in page["data"]] == ["claude-sonnet-4-5"]
        assert_error(await client.get("/v1/models?limit=x"), 400, "invalid_request_error")
