"""The team gateway over HTTP: a real gateway, real SQLite, keys issued with the real CLI.

Every auth outcome, a key's models, its limits with Anthropic's headers (exact under
concurrency), a budget from the price table, usage records that add up to what the
upstream reported, audit redaction, revocation within the cache TTL, tools per key."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from typing import Any

import anthropic
import httpx
import pytest

from lynkr_cli import paths
from tests.serve.conftest import FAMILIES, provider_settings

pytestmark = pytest.mark.timeout(90)
BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 20,
    "messages": [{"role": "user", "content": "hi"}],
}


def issue(invoke: Any, name: str, *flags: str) -> str:
    result = invoke("keys", "create", name, *flags, "--json")
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["key"])


async def post(url: str, key: str | None, body: dict[str, Any] = BODY) -> httpx.Response:
    headers = {"x-api-key": key} if key else {}
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        return await http.post("/v1/messages", json=body, headers=headers)


def error(resp: httpx.Response, status: int, kind: str) -> str:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert doc["type"] == "error" and doc["error"]["type"] == kind
    return str(doc["error"]["message"])


async def until_flushed(gw: Any, count: int) -> list[sqlite3.Row]:
    """The usage rows, once ``count`` are written (the writer flushes every second)."""
    rows: list[sqlite3.Row] = []
    for _ in range(100):
        with sqlite3.connect(paths.app_db_path()) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM team_usage ORDER BY ts").fetchall()
        if len(rows) >= count:
            break
        await asyncio.sleep(0.1)
    return rows


@pytest.fixture
async def upstream(fake: Any) -> Any:
    return await fake(**FAMILIES["anthropic"])


async def test_every_auth_outcome(invoke, gateway, upstream) -> None:
    good = issue(invoke, "alice")
    revoked = issue(invoke, "bob")
    expiring = issue(invoke, "carol", "--expires", "1s")
    assert invoke("keys", "revoke", "bob").exit_code == 0
    await asyncio.sleep(1.1)
    gw = await gateway(**provider_settings("anthropic", upstream))
    assert (await post(gw.url, good)).status_code == 200
    bearer = await (httpx.AsyncClient(base_url=gw.url, timeout=10)).post(
        "/v1/messages", json=BODY, headers={"authorization": f"Bearer {good}"}
    )
    assert bearer.status_code == 200
    cases = {
        None: "no API key",
        "lk-not-a-key-at-all-0000000000000000": "unknown API key",
        revoked: "was revoked",
        expiring: "expired on",
    }
    for key, reason in cases.items():
        resp = await post(gw.url, key)
        message = error(resp, 401, "authentication_error")
        assert reason in message
        if key:
            assert key not in resp.text and key[10:] not in resp.text
        assert resp.headers["x-should-retry"] == "false"
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        assert (await http.get("/health/live")).status_code == 200  # probes need no key
        assert (await http.get("/v1/models")).status_code == 401


async def test_admin_key_still_works_alongside_issued_keys(invoke, gateway, upstream) -> None:
    issue(invoke, "alice")
    gw = await gateway(
        **provider_settings("anthropic", upstream), **{"server.api_key": "admin-key-123456"}
    )
    assert (await post(gw.url, "admin-key-123456")).status_code == 200
    error(await post(gw.url, "wrong"), 401, "authentication_error")


async def test_no_keys_means_no_checks(gateway, upstream) -> None:
    gw = await gateway(**provider_settings("anthropic", upstream))
    assert (await post(gw.url, "anything")).status_code == 200
    assert (await post(gw.url, None)).status_code == 200


async def test_models_outside_the_keys_globs_are_403(invoke, gateway, upstream) -> None:
    key = issue(invoke, "alice", "--models", "claude-haiku-*")
    gw = await gateway(**provider_settings("anthropic", upstream))
    message = error(await post(gw.url, key), 403, "permission_error")
    assert "claude-haiku-*" in message and key not in message
    assert (await post(gw.url, key, {**BODY, "model": "claude-haiku-4-5"})).status_code == 200


async def test_rpm_is_exact_under_concurrency_with_headers(invoke, gateway, upstream) -> None:
    key = issue(invoke, "alice", "--rpm", "10")
    gw = await gateway(**provider_settings("anthropic", upstream))
    answers = await asyncio.gather(*(post(gw.url, key) for _ in range(50)))
    ok = [a for a in answers if a.status_code == 200]
    limited = [a for a in answers if a.status_code == 429]
    assert len(ok) == 10 and len(limited) == 40
    assert len(upstream.seen) == 10
    assert {a.headers["anthropic-ratelimit-requests-limit"] for a in answers} == {"10"}
    remaining = sorted(int(a.headers["anthropic-ratelimit-requests-remaining"]) for a in ok)
    assert remaining == list(range(10))
    for resp in limited:
        error(resp, 429, "rate_limit_error")
        assert int(resp.headers["retry-after"]) >= 1
        assert resp.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert resp.headers["anthropic-ratelimit-requests-reset"].endswith("Z")


async def test_token_limit_counts_real_usage_and_refuses_early(invoke, gateway, upstream) -> None:
    key = issue(invoke, "alice", "--tpm", "40")  # the fake reports 11 in + 5 out per answer
    gw = await gateway(**provider_settings("anthropic", upstream))
    statuses = [(await post(gw.url, key)).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]  # 16 + 16 = 32 used, then the estimate > 8 left
    big = {**BODY, "messages": [{"role": "user", "content": "x" * 4000}]}
    key2 = issue(invoke, "bob", "--tokens-day", "500")  # ~1000 estimated > 500: refused
    gw2 = await gateway(**provider_settings("anthropic", upstream))
    message = error(await post(gw2.url, key2, big), 429, "rate_limit_error")
    assert "token" in message
    assert len(upstream.seen) == 2  # refused before the upstream


async def test_budget_from_the_price_table(invoke, gateway, fake) -> None:
    from aiohttp import web

    from tests.serve import fakes

    async def expensive(request: web.Request, body: Any) -> web.StreamResponse:
        message = fakes.message("pricey", body["model"])
        message["usage"] = {"input_tokens": 100_000, "output_tokens": 100_000}
        return web.json_response(message)

    up = await fake(**FAMILIES["anthropic"], reply=expensive)
    key = issue(invoke, "alice", "--budget-usd", "2")  # sonnet: 0.3 + 1.5 = $1.80 an answer
    gw = await gateway(**provider_settings("anthropic", up))
    assert (await post(gw.url, key)).status_code == 200
    assert (await post(gw.url, key)).status_code == 200  # $1.80 spent < $2: admitted
    message = error(await post(gw.url, key), 429, "rate_limit_error")
    assert "budget" in message.lower()
    await until_flushed(gw, 2)
    shown = json.loads(invoke("keys", "show", "alice", "--json").stdout)
    assert float(shown["month_spend_usd"]) == pytest.approx(3.6)


async def test_usage_records_add_up_to_what_the_upstream_reported(
    invoke, gateway, upstream
) -> None:
    key = issue(invoke, "alice")
    gw = await gateway(**provider_settings("anthropic", upstream))
    for stream in (False, True, False, True):
        assert (await post(gw.url, key, {**BODY, "stream": stream})).status_code == 200
    rows = await until_flushed(gw, 4)
    assert len(rows) == 4
    assert sum(r["input_tokens"] for r in rows) == 4 * 11
    assert sum(r["output_tokens"] for r in rows) == 4 * 5
    assert [bool(r["streamed"]) for r in rows] == [False, True, False, True]
    assert {r["key_name"] for r in rows} == {"alice"}
    assert all(r["cost_nano"] > 0 and r["status"] == 200 for r in rows)
    usage = json.loads(invoke("usage", "--by", "key", "--json").stdout)
    assert json.dumps(usage).count("alice") >= 1


async def test_full_audit_never_stores_a_planted_secret(invoke, gateway, upstream) -> None:
    key = issue(invoke, "alice")
    gw = await gateway(**provider_settings("anthropic", upstream), **{"team.audit": "full"})
    aws = "AKIA" + "Q" * 16
    ant = "sk-ant-api03-" + "a1B2" * 12 + "-Zz9"
    body = {**BODY, "messages": [{"role": "user", "content": f"keys: {aws} and {ant}"}]}
    assert (await post(gw.url, key, body)).status_code == 200
    assert (await post(gw.url, key, {**body, "stream": True})).status_code == 200
    await until_flushed(gw, 2)
    await asyncio.sleep(1.2)
    raw = paths.app_db_path().read_bytes()
    for wal in paths.app_db_path().parent.glob("*.db-wal"):
        raw += wal.read_bytes()
    assert aws.encode() not in raw and ant.encode() not in raw and key.encode() not in raw
    with sqlite3.connect(paths.app_db_path()) as db:
        details = [r[0] for r in db.execute("SELECT detail FROM team_audit")]
    assert any("keys:" in (d or "") for d in details)  # the body is there, redacted
    assert invoke("audit", "verify").exit_code == 0


async def test_revocation_takes_effect_within_the_ttl(invoke, gateway, upstream) -> None:
    key = issue(invoke, "alice")
    gw = await gateway(**provider_settings("anthropic", upstream), **{"team.key_cache_ttl": 1})
    assert (await post(gw.url, key)).status_code == 200
    assert invoke("keys", "revoke", "alice").exit_code == 0
    started = time.monotonic()
    status = 200
    while status == 200 and time.monotonic() - started < 10:
        status = (await post(gw.url, key)).status_code
        await asyncio.sleep(0.1)
    assert status == 401


async def test_issued_keys_get_no_server_tools_unless_granted(
    invoke, gateway, upstream, tmp_path
) -> None:
    plain = issue(invoke, "alice")
    granted = issue(invoke, "bob", "--tools", "auto")
    gw = await gateway(
        **provider_settings("anthropic", upstream),
        **{"gateway.tools_mode": "auto", "gateway.workspace_root": str(tmp_path)},
    )
    await post(gw.url, plain)
    await post(gw.url, granted)
    first, second = upstream.bodies
    assert "tools" not in first  # a team member must not read the gateway host's files
    assert any(t["name"].startswith("lynkr_") for t in second["tools"])


async def test_metrics_can_require_their_own_key(gateway, upstream) -> None:
    gw = await gateway(
        **provider_settings("anthropic", upstream), **{"team.metrics_key": "metrics-secret-123"}
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        assert (await http.get("/metrics")).status_code == 401
        ok = await http.get("/metrics", headers={"authorization": "Bearer metrics-secret-123"})
        assert ok.status_code == 200 and "lynkr_requests_total" in ok.text


async def test_anthropic_sdk_with_an_issued_key(invoke, gateway, upstream) -> None:
    key = issue(invoke, "ci", "--rpm", "2")
    gw = await gateway(**provider_settings("anthropic", upstream))
    client = anthropic.AsyncAnthropic(base_url=gw.url, api_key=key, max_retries=0)
    message = await client.messages.create(**BODY)
    assert message.content[0].text == "Hello from upstream"
    async with client.messages.stream(**BODY) as stream:
        assert (await stream.get_final_message()).content[0].text == "Hello from upstream"
    with pytest.raises(anthropic.RateLimitError) as limited:
        await client.messages.create(**BODY)
    assert limited.value.response.headers["retry-after"]
    bad = anthropic.AsyncAnthropic(base_url=gw.url, api_key="lk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        await bad.messages.create(**BODY)


async def test_issued_keys_allow_a_non_loopback_bind(invoke, upstream) -> None:
    from tests.gatewayproc import GatewayProcess

    refused = invoke("serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.exit_code == 2 and "lynkr keys create" in refused.stderr
    key = issue(invoke, "alice")
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
    }
    async with GatewayProcess(env, "--host", "0.0.0.0") as gw:
        assert (await post(gw.url, None)).status_code == 401
        assert (await post(gw.url, key)).status_code == 200
