"""SIGTERM during 20 streams with an issued key: every answer finishes and every usage
record is written (a real ``lynkr serve``, real SQLite, the key from the real CLI)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import httpx
import pytest

from lynkr_cli import paths
from tests.gatewayproc import GatewayProcess
from tests.reliability.faultserver import FaultServer

pytestmark = pytest.mark.timeout(120)


async def test_no_usage_record_is_lost_across_sigterm(invoke: Any) -> None:
    created = invoke("keys", "create", "ci", "--rpm", "1000", "--json")
    key = json.loads(created.stdout)["key"]
    upstream = await FaultServer().start()
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": "up-key",
        "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
        "LYNKR_GRACE_SECONDS": "20",
    }
    body = {
        "model": "claude-x",
        "max_tokens": 20,
        "stream": True,
        "messages": [{"role": "user", "content": "FAULT:slow_ok"}],
    }
    try:
        async with GatewayProcess(env) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=60) as http:
                calls = [
                    http.post("/v1/messages", json=body, headers={"x-api-key": key})
                    for _ in range(20)
                ]
                tasks = [asyncio.ensure_future(c) for c in calls]
                for _ in range(100):  # until every request reached the upstream (bounded)
                    if upstream.requests >= 20:
                        break
                    await asyncio.sleep(0.05)
                code = await gw.terminate()
                answers = await asyncio.gather(*tasks)
        assert code == 0, gw.stderr[-2000:]
        assert [a.status_code for a in answers] == [200] * 20
        assert all(
            a.text.rstrip().endswith('"type": "message_stop"}') or "message_stop" in a.text
            for a in answers
        )
        with sqlite3.connect(paths.app_db_path()) as db:
            rows = db.execute("SELECT count(*), sum(output_tokens) FROM team_usage").fetchone()
        assert rows[0] == 20 and rows[1] == 20 * 2
    finally:
        await upstream.stop()
