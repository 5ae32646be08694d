"""A running gateway on PostgreSQL and Redis never shows their passwords: not in its log
(while Redis and PostgreSQL are stopped under it, when the drivers' errors are logged),
not on ``/metrics``, not in an answer. Hostile input against the PostgreSQL store (a
glob PostgreSQL cannot compile) is a clear usage error, not a crash."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.gatewayproc import GatewayProcess
from tests.scale.conftest import gateway_env
from tests.scale.services import Postgres, Redis
from tests.serve.conftest import FAMILIES

pytestmark = pytest.mark.timeout(120)


async def test_a_gateway_with_failing_backends_never_shows_their_passwords(
    invoke: Any, monkeypatch: Any, fake: Any, pg: Postgres, migrated_url: str, redis_srv: Redis
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", migrated_url)
    key = json.loads(invoke("keys", "create", "alice", "--rpm", "100", "--json").stdout)["key"]
    upstream = await fake(**FAMILIES["anthropic"])
    env = gateway_env(upstream.url, migrated_url, redis_srv.url(), LYNKR_KEY_CACHE_TTL="1")
    body = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    seen: list[httpx.Response] = []
    async with GatewayProcess(env) as gw, httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        headers = {"x-api-key": key}
        seen.append(await http.post("/v1/messages", json=body, headers=headers))
        redis_srv.stop()
        seen.append(await http.post("/v1/messages", json=body, headers=headers))
        pg.stop()
        seen.append(await http.post("/v1/messages", json=body, headers=headers))
        await asyncio.sleep(1.5)  # failed writes and key refreshes get logged
        seen.append(await http.get("/metrics"))
        seen.append(await http.get("/health/ready?deep=1"))
        pg.start()
        redis_srv.start()
        await gw.terminate()
    assert [r.status_code for r in seen[:3]] == [200, 200, 200]  # served through both outages
    assert "lynkr_limits_shared 0.0" in seen[3].text
    for text in [gw.stderr, *(r.text for r in seen), *(json.dumps(dict(r.headers)) for r in seen)]:
        assert pg.password not in text and redis_srv.password not in text
    assert "redis unreachable" in gw.stderr and "usage/audit write failed" in gw.stderr


def test_a_glob_postgresql_cannot_compile_is_a_usage_error(
    invoke: Any, monkeypatch: Any, migrated_url: str
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", migrated_url)
    invoke("keys", "create", "alice")
    for glob in ("[[:alpha:]]", "a(b", "*[", "\\", "x{2,1}", "[z-a]"):
        result = invoke("audit", "tail", "--model", glob)
        assert result.exit_code in (0, 2), (glob, result.stderr)
        assert "Traceback" not in result.stderr
