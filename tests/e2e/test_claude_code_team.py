"""The real Claude Code CLI against a team gateway: an issued key works, a wrong one is
refused, and a 429 from the key's own limit is retried by Claude Code until it passes."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require, tool_path
from tests.serve.conftest import FAMILIES, fake, gateway, provider_settings

__all__ = ["fake", "gateway"]  # fixtures re-exported for this module

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def claude(url: str, home: Path, key: str, *, retries: int) -> tuple[int, dict[str, Any]]:
    binary = tool_path("claude")
    require(binary is not None, "Claude Code CLI not installed (run scripts/test-deps.sh)")
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": key,
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": str(retries),
    }
    proc = await asyncio.create_subprocess_exec(
        str(binary),
        "-p",
        "say hi",
        "--output-format",
        "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=home,
        env=env,
    )
    out, _err = await asyncio.wait_for(proc.communicate(), 100)
    lines = out.decode().strip().splitlines()
    return proc.returncode or 0, json.loads(lines[-1]) if lines else {}


def issue(invoke: Any, *args: str) -> str:
    result = invoke("keys", "create", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["key"])


async def test_claude_code_with_an_issued_key_and_a_retried_429(
    invoke: Any, gateway: Any, fake: Any, tmp_path: Path
) -> None:
    up = await fake(**FAMILIES["anthropic"])
    key = issue(invoke, "dev", "--rpm", "1")
    gw = await gateway(**provider_settings("anthropic", up))
    # The limiter's clock starts 2 s before a minute ends: the 429's retry-after is short.
    offset = (60 - time.time() % 60) - 2.0
    team = gw.gw.team
    team.clock = team.limiter.clock = lambda: time.time() + offset
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:  # uses this minute's 1
        first = await http.post(
            "/v1/messages",
            headers={"x-api-key": key},
            json={
                "model": "claude-x",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": "a"}],
            },
        )
    assert first.status_code == 200
    code, doc = await claude(gw.url, tmp_path / "home", key, retries=3)
    assert code == 0 and doc.get("is_error") is False, doc
    assert doc["result"] == "Hello from upstream"
    statuses = [s.path for s in up.seen]
    assert len(statuses) >= 2  # the throwaway request, then Claude Code's after its retry
    code, doc = await claude(gw.url, tmp_path / "home2", "lk-not-issued", retries=0)
    assert code != 0 or doc.get("is_error") is True
    assert doc.get("api_error_status") == 401
