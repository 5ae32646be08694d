"""A real `lynkr serve` process: an MCP tool reaches the model, and the server dies with it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.tools.scripted import ScriptedModel, tool_results

pytestmark = pytest.mark.timeout(90)
LYNKR = Path(sys.executable).parent / "lynkr"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = await asyncio.to_thread(proc.stderr.readline)
        seen.append(line)
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if match:
            return f"http://{match.group(1)}:{match.group(2)}"
        if not line and proc.poll() is not None:
            break
    raise AssertionError("gateway did not start:\n" + "".join(seen))


async def test_mcp_tool_through_serve_and_shutdown(home: Path, workdir: Path, crashy: Any) -> None:
    (workdir / ".mcp.json").write_text(json.dumps({"mcpServers": {"c": crashy}}))
    call = {"type": "tool_use", "id": "toolu_c", "name": "mcp__c__hello", "input": {"name": "gw"}}
    model = await ScriptedModel([
        lambda b: [call],
        lambda b: [{"type": "text", "text": tool_results(b)[0]["content"]}],
    ]).start()  # fmt: skip
    env = {**os.environ, "LYNKR_PROVIDER": "anthropic", "LYNKR_ANTHROPIC_API_KEY": "up-key",
           "LYNKR_ANTHROPIC_ENDPOINT": model.url + "/v1/messages", "LYNKR_CACHE": "false",
           "LYNKR_WORKSPACE": str(workdir), "LYNKR_ACCESS_LOG": "false"}  # fmt: skip
    argv = [str(LYNKR), "serve", "--port", "0"]
    proc = subprocess.Popen(
        argv, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        url = await wait_listening(proc)
        body = {"model": "claude-sonnet-4-5", "max_tokens": 100,
                "messages": [{"role": "user", "content": "greet"}]}  # fmt: skip
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.post(f"{url}/v1/messages", json=body)
        assert response.status_code == 200, response.text
        text = response.json()["content"][0]["text"]
        assert text.startswith("hello gw from pid ")
        server_pid = int(text.rsplit(" ", 1)[1])
        assert alive(server_pid)
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait, 30)
        deadline = time.monotonic() + 15
        while alive(server_pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not alive(server_pid), "the MCP server outlived the gateway"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        await model.stop()
