"""10,000 seeded malformed requests against real ``lynkr serve`` processes: no 5xx, no
non-JSON error body, no traceback in the log. (``make bench`` runs a longer campaign.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gatewayproc import GatewayProcess
from tests.reliability.faultserver import FaultServer
from tests.security import fuzzgen

pytestmark = pytest.mark.timeout(300)
CASES_PER_PATH = 5000


@pytest.mark.parametrize("path", ["passthrough", "translation+tools"])
async def test_fuzzed_requests_never_break_the_gateway(path: str, tmp_path: Path) -> None:
    upstream = await FaultServer().start()
    if path == "passthrough":
        env = {"LYNKR_PROVIDER": "anthropic", "LYNKR_ANTHROPIC_API_KEY": "up-key",
               "LYNKR_ANTHROPIC_ENDPOINT": upstream.url + "/v1/messages"}  # fmt: skip
    else:
        env = {"LYNKR_PROVIDER": "openai", "LYNKR_OPENAI_API_KEY": "up-key",
               "LYNKR_OPENAI_ENDPOINT": upstream.url + "/v1/chat/completions",
               "LYNKR_OPENAI_MODEL": "gpt-t", "LYNKR_TOOLS_MODE": "auto",
               "LYNKR_WORKSPACE": str(tmp_path)}  # fmt: skip
    # Half-sent heads and bodies are part of the fuzz: they end at these timeouts.
    env |= {
        "LYNKR_HEAD_TIMEOUT": "2",
        "LYNKR_BODY_TIMEOUT": "2",
        "LYNKR_CACHE": "true",
        "LYNKR_ACCESS_LOG": "true",
        "LYNKR_CACHE_DIR": str(tmp_path / "c"),
    }
    seed = 1234 if path == "passthrough" else 4321
    try:
        async with GatewayProcess(env) as gw:
            report = await fuzzgen.run(gw.url, CASES_PER_PATH, seed=seed)
            assert await gw.terminate() == 0
        assert report["problems"] == [], report["problems"][:20]
        assert "Traceback" not in gw.stderr, gw.stderr[gw.stderr.find("Traceback") :][:3000]
        assert '"event":"unhandled"' not in gw.stderr
        assert report["statuses"].get("200", 0) > 0  # the valid ones were still served
    finally:
        await upstream.stop()
