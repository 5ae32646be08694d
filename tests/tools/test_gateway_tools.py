"""The seed's curl example end to end: the real gateway, a scripted model, a real git repo.

``POST /v1/messages`` with no tools → the gateway offers its tools → the model calls
``lynkr_git_diff`` → the gateway runs it on a real temporary repository → the model's
second turn builds its summary from the real diff → the client gets one coherent
message. Through the native Anthropic path and the OpenAI translation path.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.gitrepo import make_repo
from tests.tools.scripted import ScriptedModel, openai_tool_results, parse_sse, tool_results

pytestmark = pytest.mark.timeout(90)
SEED = {"model": "claude-sonnet-4-5", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Summarize the recent diff"}]}  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    calc = {"calc.py": "def add(a, b):\n    return a + b\n"}
    root = make_repo(tmp_path / "repo", calc, "add calc")
    (root / "calc.py").write_text(
        "def add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return a * b\n"
    )
    return root


def summarize(diff_text: str) -> str:
    """What a model would write: the added lines of the real diff."""
    added = [ln[1:].strip() for ln in diff_text.splitlines()
             if ln.startswith("+") and not ln.startswith("+++") and ln[1:].strip()]  # fmt: skip
    return "Summary: the diff adds " + "; ".join(added)


def anthropic_turns() -> list[Any]:
    return [
        lambda b: [{"type": "tool_use", "id": "toolu_diff", "name": "lynkr_git_diff", "input": {}}],
        lambda b: [{"type": "text", "text": summarize(tool_results(b)[0]["content"])}],
    ]


@pytest.fixture
async def gateway_for() -> AsyncIterator[Any]:
    from lynkr_cli.serve.app import create_app
    from lynkr_cli.settings import get_settings

    runners: list[web.AppRunner] = []

    async def start(overrides: dict[str, Any]) -> str:
        base = {"server.access_log": False, "provider.max_retries": 0, "cache.enabled": False}
        app = create_app(get_settings({**base, **overrides}))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_seed_curl_summarizes_real_diff(repo: Path, gateway_for: Any) -> None:
    model = await ScriptedModel(anthropic_turns()).start()
    try:
        url = await gateway_for({
            "provider.name": "anthropic", "provider.anthropic_api_key": "up-key",
            "provider.anthropic_endpoint": model.url + "/v1/messages",
            "gateway.workspace_root": str(repo),
        })  # fmt: skip
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(f"{url}/v1/messages", json=SEED)
    finally:
        await model.stop()
    assert response.status_code == 200, response.text
    message = response.json()
    assert [b["type"] for b in message["content"]] == ["text"]
    text = message["content"][0]["text"]
    assert "def multiply(a, b):" in text and "return a * b" in text
    assert message["stop_reason"] == "end_turn"
    assert "lynkr_git_diff" in {t["name"] for t in model.bodies[0]["tools"]}
    result = tool_results(model.bodies[1])[0]
    assert result["tool_use_id"] == "toolu_diff" and not result.get("is_error")


async def test_seed_streaming_with_anthropic_sdk(repo: Path, gateway_for: Any) -> None:
    import anthropic

    model = await ScriptedModel(anthropic_turns()).start()
    try:
        url = await gateway_for({
            "provider.name": "anthropic", "provider.anthropic_api_key": "up-key",
            "provider.anthropic_endpoint": model.url + "/v1/messages",
            "gateway.workspace_root": str(repo),
        })  # fmt: skip
        client = anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0)
        async with client.messages.stream(**SEED) as stream:  # type: ignore[arg-type]
            final = await stream.get_final_message()
    finally:
        await model.stop()
    assert [b.type for b in final.content] == ["text"]
    assert "return a * b" in final.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens == 21


async def test_seed_through_openai_translation(repo: Path, gateway_for: Any) -> None:
    turns = [
        lambda b: [{"type": "tool_use", "id": "call_diff", "name": "lynkr_git_diff", "input": {}}],
        lambda b: [{"type": "text", "text": summarize(openai_tool_results(b)[0])}],
    ]
    model = await ScriptedModel(turns).start()
    try:
        url = await gateway_for({
            "provider.name": "openai", "provider.openai_api_key": "up-key",
            "provider.openai_endpoint": model.url + "/v1/chat/completions",
            "provider.openai_model": "gpt-test", "gateway.workspace_root": str(repo),
        })  # fmt: skip
        async with httpx.AsyncClient(timeout=60) as client:
            body = {**SEED, "stream": True}
            async with client.stream("POST", f"{url}/v1/messages", json=body) as response:
                assert response.status_code == 200
                events = [e async for e in parse_sse(response.aiter_lines())]
            turns[:] = [turns[0], turns[1]] * 2
            plain = await client.post(f"{url}/v1/messages", json=SEED)
    finally:
        await model.stop()
    assert plain.status_code == 200, plain.text
    assert "return a * b" in plain.json()["content"][0]["text"]
    kinds = [e["type"] for e in events]
    assert kinds.count("message_start") == 1 and kinds[-1] == "message_stop"
    assert not any(e.get("content_block", {}).get("type") == "tool_use" for e in events)
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert "def multiply(a, b):" in text
    names = {t["function"]["name"] for t in model.bodies[0]["tools"]}
    assert "lynkr_git_diff" in names
    assert json.dumps(model.bodies[1]).count("call_diff") >= 2  # the call and its result


def slow_tests_settings(model: ScriptedModel, repo: Path) -> dict[str, Any]:
    sleep = f"{sys.executable} -c \"import time; time.sleep(0.8); print('all 3 tests passed')\""
    return {
        "provider.name": "anthropic", "provider.anthropic_api_key": "up-key",
        "provider.anthropic_endpoint": model.url + "/v1/messages",
        "gateway.workspace_root": str(repo), "server.ping_interval": 0.1,
        "policy.tools_allow_exec": True, "policy.git_test_command": sleep,
    }  # fmt: skip


def run_tests_turns() -> list[Any]:
    def turn(body: dict[str, Any]) -> list[dict[str, Any]]:
        results = tool_results(body) if body["messages"][-1]["role"] == "user" else []
        if results:
            return [{"type": "text", "text": "Result: " + results[0]["content"]}]
        return [{"type": "tool_use", "id": "toolu_t", "name": "lynkr_run_tests", "input": {}}]

    return [turn]


async def test_slow_tool_pings_stream_and_json_still_whole(repo: Path, gateway_for: Any) -> None:
    model = await ScriptedModel(run_tests_turns()).start()
    try:
        url = await gateway_for(slow_tests_settings(model, repo))
        async with httpx.AsyncClient(timeout=60) as client:
            body = {**SEED, "stream": True}
            async with client.stream("POST", f"{url}/v1/messages", json=body) as response:
                events = [e async for e in parse_sse(response.aiter_lines())]
            plain = await client.post(f"{url}/v1/messages", json=SEED)
    finally:
        await model.stop()
    kinds = [e["type"] for e in events]
    first_text = next(i for i, e in enumerate(events) if e["type"] == "content_block_start")
    assert "ping" in kinds[1:first_text], "no ping while the tool ran"
    assert plain.status_code == 200
    assert "all 3 tests passed" in plain.json()["content"][0]["text"]


async def test_step_limit_through_gateway(repo: Path, gateway_for: Any) -> None:
    model = await ScriptedModel(run_tests_turns()).start()
    try:
        settings = {**slow_tests_settings(model, repo), "gateway.max_steps": 1}
        url = await gateway_for(settings)
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(f"{url}/v1/messages", json=SEED)
    finally:
        await model.stop()
    message = response.json()
    assert message["stop_reason"] == "end_turn"
    assert "max_steps" in message["content"][-1]["text"]
    assert len(model.bodies) == 1


def read_then_answer(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Call lynkr_read_file once, then answer from its result."""
    last = body["messages"][-1]
    results = tool_results(body) if last["role"] == "user" else []
    if results:
        return [{"type": "text", "text": "The note says: " + results[0]["content"]}]
    read = {"type": "tool_use", "id": "toolu_srv", "name": "lynkr_read_file",
            "input": {"path": "notes.txt"}}  # fmt: skip
    return [{"type": "text", "text": "Reading."}, read]


async def test_real_claude_code_with_server_tools(tmp_path: Path, gateway_for: Any) -> None:
    """`tools_mode = always`: Claude Code keeps its tools, the gateway adds its own and runs
    them; the CLI only ever sees text and finishes normally."""
    import asyncio
    import os

    from tests.conftest import require, tool_path

    claude = tool_path("claude")
    require(claude is not None, "Claude Code CLI not installed; run scripts/test-deps.sh")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "notes.txt").write_text("deploy on friday\n")
    model = await ScriptedModel([read_then_answer]).start()
    try:
        url = await gateway_for({
            "provider.name": "anthropic", "provider.anthropic_api_key": "up-key",
            "provider.anthropic_endpoint": model.url + "/v1/messages",
            "gateway.workspace_root": str(ws), "gateway.tools_mode": "always",
        })  # fmt: skip
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "client-key",
               "HOME": str(tmp_path), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
               "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1",
               "DISABLE_ERROR_REPORTING": "1", "CLAUDE_CODE_MAX_RETRIES": "0"}  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            str(claude), "-p", "What does notes.txt say?", "--output-format", "json",
            cwd=ws, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        await model.stop()
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    assert result["is_error"] is False, result
    assert "deploy on friday" in result["result"]
    main = [b for b in model.bodies if b.get("tools")]
    names = {t["name"] for t in main[0]["tools"]}
    assert {"Bash", "Read", "lynkr_read_file"} <= names
