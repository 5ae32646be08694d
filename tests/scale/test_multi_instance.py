"""Two real ``lynkr serve`` processes on different ports, sharing one PostgreSQL and one
Redis, each with its own home directory (as on two hosts): the ``anthropic`` SDK
through each, one rate limit shared exactly, a cache hit across instances, a key
revoked with the CLI refused by both within the key TTL, and usage that adds up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import redis

from lynkr_cli.cache import REDIS_PREFIX
from tests.gatewayproc import GatewayProcess
from tests.scale.conftest import gateway_env
from tests.scale.services import Postgres, Redis
from tests.serve.conftest import FAMILIES

pytestmark = pytest.mark.timeout(180)
KEY_TTL = 1.0
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 20}


def _body(text: str) -> dict[str, Any]:
    return {**BODY, "messages": [{"role": "user", "content": text}]}


def _issue(invoke: Any, name: str, *flags: str) -> str:
    result = invoke("keys", "create", name, *flags, "--json")
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["key"])


@contextlib.asynccontextmanager
async def _instances(env: dict[str, str], homes: list[Path]) -> AsyncIterator[list[Any]]:
    async with contextlib.AsyncExitStack() as stack:
        gws = [
            await stack.enter_async_context(GatewayProcess({**env, "LYNKR_HOME": str(home)}))
            for home in homes
        ]
        yield gws


async def _fresh_minute() -> None:
    """Fixed UTC minute windows: start a burst with at least 15 s left in the minute."""
    left = 60 - time.time() % 60
    if left < 15:
        await asyncio.sleep(left + 0.2)


async def _until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return bool(await check())


async def test_two_instances_share_keys_limits_cache_and_usage(
    invoke: Any,
    monkeypatch: Any,
    fake: Any,
    tmp_path: Path,
    pg: Postgres,
    migrated_url: str,
    redis_srv: Redis,
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", migrated_url)
    everyday = _issue(invoke, "everyday")
    limited = _issue(invoke, "limited", "--rpm", "10")
    doomed = _issue(invoke, "doomed")
    upstream = await fake(**FAMILIES["anthropic"])
    env = gateway_env(upstream.url, migrated_url, redis_srv.url(), LYNKR_KEY_CACHE_TTL=str(KEY_TTL))
    homes = [tmp_path / "a", tmp_path / "b"]
    answered = 0
    async with _instances(env, homes) as gws:
        a, b = gws
        # 1. the anthropic SDK through each instance
        for n, gw in enumerate(gws):
            client = anthropic.AsyncAnthropic(base_url=gw.url, api_key=everyday, max_retries=0)
            message = await client.messages.create(**_body(f"sdk {n}"))
            assert message.content[0].text == "Hello from upstream"
            answered += 1

        # 2. one limit of 10 per minute, 50 concurrent requests split between the two
        await _fresh_minute()
        async with httpx.AsyncClient(timeout=30) as http:
            burst = await asyncio.gather(
                *(
                    http.post(
                        gws[n % 2].url + "/v1/messages",
                        json=_body(f"burst {n}"),
                        headers={"x-api-key": limited, "cache-control": "no-cache"},
                    )
                    for n in range(50)
                )
            )
        codes = [r.status_code for r in burst]
        # 25 went to each: counted apart, each instance would have let 10 through
        assert codes.count(200) == 10 and codes.count(429) == 40, codes
        assert burst[0].headers["anthropic-ratelimit-requests-limit"] == "10"
        answered += 50

        # 3. an answer stored by A is a hit on B (the upstream is not called again)
        cached = _body("cache me")
        async with httpx.AsyncClient(timeout=30) as http:
            first = await http.post(a.url + "/v1/messages", json=cached,
                                    headers={"x-api-key": everyday})  # fmt: skip
            assert first.headers["x-lynkr-cache"] == "miss"
            store = redis.Redis.from_url(redis_srv.url())

            async def stored() -> bool:
                return bool(list(store.scan_iter(match=REDIS_PREFIX + "*")))

            assert await _until(stored, 10)  # A stores off the request path
            calls = len(upstream.seen)
            second = await http.post(b.url + "/v1/messages", json=cached,
                                     headers={"x-api-key": everyday})  # fmt: skip
            store.close()
        assert second.status_code == 200 and second.headers["x-lynkr-cache"] == "hit"
        assert second.json()["content"] == first.json()["content"]
        assert len(upstream.seen) == calls
        answered += 2

        # 4. revoked with the CLI against the shared database: refused by both
        for gw in gws:
            async with httpx.AsyncClient(timeout=30) as http:
                headers = {"x-api-key": doomed, "cache-control": "no-cache"}
                ok = await http.post(gw.url + "/v1/messages", json=_body("doomed"), headers=headers)
            assert ok.status_code == 200
            answered += 1
        assert invoke("keys", "revoke", "doomed").exit_code == 0
        late: list[int] = []  # answered while an instance's key snapshot was older

        async def both_refuse() -> bool:
            codes = []
            async with httpx.AsyncClient(timeout=30) as http:
                for gw in gws:
                    resp = await http.post(gw.url + "/v1/messages", json=_body("after"),
                                           headers={"x-api-key": doomed,
                                                    "cache-control": "no-cache"})  # fmt: skip
                    codes.append(resp.status_code)
            late.append(codes.count(200))
            return codes == [401, 401]

        # within the key TTL (a refresh every TTL/2), with room for a loaded machine
        assert await _until(both_refuse, 3 * KEY_TTL + 5)
        answered += sum(late)
        for gw in gws:
            assert await gw.terminate() == 0, gw.stderr[-2000:]
    # 5. usage adds up across both instances: every authenticated answer, and the tokens
    # the upstream reported (the cache hit cost nothing)
    usage = json.loads(invoke("usage", "--since", "1d", "--json").stdout)
    by_key = {row["key"]: row for row in usage["rows"]}
    total = usage["total"]
    upstream_calls = len(upstream.seen)
    assert upstream_calls == answered - 40 - 1  # the 429s and the cache hit never went up
    assert total["input_tokens"] == 11 * upstream_calls
    assert total["output_tokens"] == 5 * upstream_calls
    assert by_key["limited"]["requests"] == 50 and by_key["limited"]["errors"] == 40
    assert by_key["everyday"]["requests"] == 4 and by_key["doomed"]["requests"] == 2 + sum(late)
    assert total["requests"] == answered
    for gw in (a, b):
        assert "Traceback" not in gw.stderr
        assert pg.password not in gw.stderr and redis_srv.password not in gw.stderr
