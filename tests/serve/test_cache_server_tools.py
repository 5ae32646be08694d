"""The prompt cache and the server-tool loop (the seed's "tool calls bypass the cache").

A request without client tools goes through the loop. When the model answers without
calling a tool, the answer is cached like any other; when a tool ran, it is not (its
result came from the workspace, which may have changed), and it says ``bypass``. The
seed's troubleshooting line holds: remove the tool call and the cache works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gitrepo import make_repo
from tests.tools.scripted import ScriptedModel

pytestmark = pytest.mark.timeout(60)
SEED = {"model": "claude-sonnet-4-5", "max_tokens": 256,
        "messages": [{"role": "user", "content": "Summarize the recent diff"}]}  # fmt: skip
DIFF_CALL = {"type": "tool_use", "id": "toolu_d", "name": "lynkr_git_diff", "input": {}}


def settings(model: ScriptedModel, root: Path) -> dict[str, Any]:
    return {"provider.name": "anthropic", "provider.anthropic_api_key": "up-key",
            "provider.anthropic_endpoint": model.url + "/v1/messages",
            "gateway.tools_mode": "auto", "gateway.workspace_root": str(root),
            "cache.enabled": True}  # fmt: skip


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tool_call_bypasses_the_cache(gateway, tmp_path: Path, stream: bool) -> None:
    root = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"}, "init")
    turns = [lambda b: [DIFF_CALL], lambda b: [{"type": "text", "text": "it adds x"}]] * 2
    model = await ScriptedModel(turns).start()
    try:
        gw = await gateway(**settings(model, root))
        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as http:
            first = await http.post("/v1/messages", json={**SEED, "stream": stream})
            await _settle(gw)
            second = await http.post("/v1/messages", json={**SEED, "stream": stream})
        assert first.status_code == second.status_code == 200
        assert len(model.bodies) == 4  # both requests ran the tool loop upstream
        if not stream:  # a stream's headers leave before any tool runs
            assert first.headers["x-lynkr-cache"] == "bypass"
            assert second.headers["x-lynkr-cache"] == "bypass"
    finally:
        await model.stop()


@pytest.mark.parametrize("stream", [False, True])
async def test_without_the_tool_call_the_cache_works(gateway, tmp_path: Path, stream: bool) -> None:
    root = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"}, "init")
    model = await ScriptedModel([lambda b: [{"type": "text", "text": "no tools needed"}]]).start()
    try:
        gw = await gateway(**settings(model, root))
        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as http:
            first = await http.post("/v1/messages", json={**SEED, "stream": stream})
            await _settle(gw)
            second = await http.post("/v1/messages", json={**SEED, "stream": stream})
        assert first.headers["x-lynkr-cache"] == "miss"
        assert second.headers["x-lynkr-cache"] == "hit"
        assert len(model.bodies) == 1  # the second answer came from the cache
        assert "no tools needed" in second.text
    finally:
        await model.stop()


async def _settle(gw: Any) -> None:
    """Cache writes happen off the event loop; wait for them (bounded)."""
    import asyncio

    if gw.gw.background:
        await asyncio.wait(gw.gw.background, timeout=10)
