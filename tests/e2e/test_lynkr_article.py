"""The Lynkr article's Azure set-up, pasted as written, works end to end.

Only what cannot be real here changes: the Azure endpoint is a fake Azure AI Foundry
on 127.0.0.1 (checking the path and ``x-api-key`` the real one checks), and the port
is a free one instead of 8080. Everything else is the article's shell, run by bash.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.serve.fakes import FakeUpstream

pytestmark = pytest.mark.timeout(90)

ARTICLE = """\
export ANTHROPIC_API_KEY=your_key_here
export ANTHROPIC_ENDPOINT=https://anthropic.azure.com/anthropic/v1/messages
export PROVIDER=azure_anthropic
lynkr start --port 8080
curl -X POST http://localhost:8080/v1/messages -H "Content-Type: application/json" \\
  -d '{"model": "claude-2.1", "messages": [{"role":"user","content":"Summarize the recent diff"}]}'
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def runnable(article: str, endpoint: str, port: int) -> str:
    """The article with the fake's URL and a free port, the server put in the background
    (the article runs it in one terminal and curl in another) and waited for."""
    lines = article.replace("https://anthropic.azure.com", endpoint).replace("8080", str(port))
    server, _, rest = lines.partition(f"lynkr start --port {port}\n")
    wait = (
        f"for i in $(seq 1 100); do curl -s -o /dev/null http://localhost:{port}/ && break; "
        "sleep 0.2; done\n"
    )
    return (
        f"{server}lynkr start --port {port} 2>serve.log &\nSERVER=$!\n{wait}{rest}\nkill $SERVER\n"
    )


async def test_the_articles_azure_lines_work_as_written(tmp_path: Path) -> None:
    upstream = await FakeUpstream(
        wire="anthropic", path="/anthropic/v1/messages", auth_value="your_key_here"
    ).start()
    port = free_port()
    script = tmp_path / "article.sh"
    script.write_text(runnable(ARTICLE, upstream.url, port))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LYNKR_", "ANTHROPIC_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env["LYNKR_CACHE"] = "false"  # this test's own LYNKR_HOME keeps the cache out of the way
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-e",
        str(script),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    await upstream.stop()
    log = (tmp_path / "serve.log").read_text()
    assert proc.returncode == 0, (out, err, log)
    printed, _, answer_text = out.decode().partition("\n")  # `lynkr start` prints its export
    assert printed == f"export ANTHROPIC_BASE_URL=http://127.0.0.1:{port}"
    answer = json.loads(answer_text)
    assert answer["type"] == "message" and answer["model"] == "claude-2.1", answer
    assert answer["content"][0]["text"] == "Hello from upstream"
    sent = upstream.seen[-1]
    assert sent.headers["x-api-key"] == "your_key_here"
    assert sent.body["max_tokens"] == 4096  # LYNKR_DEFAULT_MAX_TOKENS
    assert "provider azure-anthropic (from PROVIDER)" in log
    assert "LYNKR_PROVIDER" not in log
