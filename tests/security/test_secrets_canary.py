"""Secret canaries: values planted in every secret setting never appear in what lynkr
prints or serves: ``config show`` (human and JSON), ``doctor --json``, the gateway's
``/metrics``, its error bodies, its access log and its start-up output."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.gatewayproc import GatewayProcess
from tests.reliability.faultserver import FaultServer

pytestmark = pytest.mark.timeout(120)
CANARIES = {
    "LYNKR_API_KEY": "lk-canary-gateway-0123456789abcdef",
    "ANTHROPIC_API_KEY": "sk-ant-api03-canary0123456789abcdefghij-XYZ",
    "AZURE_ANTHROPIC_API_KEY": "azure-canary-0123456789abcdef",
    "DATABRICKS_API_KEY": "dapi0123456789abcdef0123456789abcdef",
    "OPENAI_API_KEY": "sk-proj-canary0123456789abcdefghijklmnop",
    "LYNKR_UPSTREAM_PROXY": "http://user:proxy-canary-pass@127.0.0.1:9",
    "LYNKR_DATABASE_URL": "postgresql://lynkr:db-canary-pass@127.0.0.1:5/lynkr",
}
SECRET_PARTS = [v for v in CANARIES.values()] + ["proxy-canary-pass", "db-canary-pass"]


def leaked(text: str) -> list[str]:
    return [part for part in SECRET_PARTS if part in text]


def test_config_show_and_doctor_never_print_a_secret(invoke, monkeypatch) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    outputs = []
    for args in (("config", "show"), ("config", "show", "--json"), ("doctor", "--json")):
        result = invoke(*args)
        outputs.append(result.stdout + result.stderr)
    json.loads(outputs[1])
    for text in outputs:
        assert leaked(text) == []


async def test_the_running_gateway_never_shows_a_secret() -> None:
    upstream = await FaultServer().start()
    env = {
        **CANARIES,
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_UPSTREAM_PROXY": "none",
        "ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages",
        "LYNKR_ACCESS_LOG": "true",
    }
    env.pop("LYNKR_DATABASE_URL")  # not a gateway setting yet
    key = {"x-api-key": CANARIES["LYNKR_API_KEY"]}
    body = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    try:
        async with GatewayProcess(env) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
                seen = [
                    await http.post("/v1/messages", json=body, headers=key),
                    await http.post("/v1/messages", json=body),  # no key: a 401
                    await http.post("/v1/messages", json=body, headers={"x-api-key": "wrong"}),
                    await http.post(
                        "/v1/messages",
                        json={**body, "messages": [{"role": "user", "content": "FAULT:401"}]},
                        headers=key,
                    ),
                    await http.get("/metrics"),
                    await http.get("/health/ready?deep=1"),
                    await http.get("/v1/models", headers=key),
                ]
            await gw.terminate()
        assert seen[0].status_code == 200 and seen[1].status_code == 401
        for resp in seen:
            assert leaked(resp.text) == [], resp.text
            assert leaked(json.dumps(dict(resp.headers))) == []
        assert leaked(gw.stderr) == []
    finally:
        await upstream.stop()
