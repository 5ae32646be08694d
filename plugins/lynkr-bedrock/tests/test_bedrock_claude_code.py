"""The real Claude Code CLI → lynkr serve → lynkr-bedrock → a fake Bedrock checking SigV4.

Claude Code streams, sends its own system prompt, betas and tools, and runs the Bash
tool the model asks for; the loop closes only if every hop carried the data intact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import settings_for, static_keys
from fake_bedrock import MARKER

from tests.e2e.test_claude_code import run_claude

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def test_claude_p_through_bedrock(gateway, bedrock, monkeypatch, tmp_path: Path) -> None:
    static_keys(monkeypatch, token="session-token-for-claude-code")
    fake = await bedrock(keys={"AKIDLYNKRTEST0000001": (
        "bedrock-test-secret-key-0123456789abcd", "session-token-for-claude-code")})  # fmt: skip
    gw = await gateway(**settings_for(fake))
    doc = await run_claude(gw.url, tmp_path / "home", "Say hello")
    assert "Hello from Bedrock" in doc["result"]
    assert fake.problems == []  # every request Claude Code made was signed right
    streamed = [s for s in fake.seen if s["path"].endswith("/invoke-with-response-stream")]
    assert streamed, [s["path"] for s in fake.seen]
    assert all(s["body"]["anthropic_version"] == "bedrock-2023-05-31" for s in fake.seen)


async def test_claude_bash_tool_loop_through_bedrock(
    gateway, bedrock, monkeypatch, tmp_path: Path
) -> None:
    static_keys(monkeypatch)
    fake = await bedrock()
    gw = await gateway(**settings_for(fake))
    doc = await run_claude(gw.url, tmp_path / "home", "Please run the marker command")
    assert f"tool said: {MARKER}" in doc["result"]
    assert fake.problems == []
    carried = [json.dumps(s["body"]) for s in fake.seen]
    assert any(MARKER in c and "tool_result" in c for c in carried)
