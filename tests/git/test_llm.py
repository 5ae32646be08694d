"""``--llm`` through the gateway's provider code, against a real local Anthropic-shaped upstream."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from .test_review import TOKEN

ANSWER = "Summary: one config file changed.\nconfig.py:1: move the token to the environment."


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _events(model: str) -> list[dict[str, Any]]:
    usage = {"input_tokens": 10, "output_tokens": 0}
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": ANSWER[:20]},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": ANSWER[20:]},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 12},
        },
        {"type": "message_stop"},
    ]


class Upstream:
    """An aiohttp server on 127.0.0.1 in its own thread, recording request bodies."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.bodies.append(body)
        self.keys.append(request.headers.get("x-api-key", ""))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for event in _events(body["model"]):
            await resp.write(_sse(event))
        await resp.write_eof()
        return resp

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v1/messages"
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "upstream did not start"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def upstream(monkeypatch) -> Iterator[Upstream]:
    server = Upstream()
    server.start()
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-upstream")
    monkeypatch.setenv("LYNKR_MODEL", "claude-test-model")
    yield server
    server.stop()


def test_review_llm_adds_the_models_prose_and_never_sends_secrets(repos, invoke, upstream):
    repos.write("config.py", "GITHUB = '" + TOKEN + "'\n")
    result = invoke("git", "review", "--llm", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["llm"] == {
        "provider": "anthropic",
        "model": "claude-test-model",
        "text": ANSWER,
        "comments": [
            {"path": "config.py", "line": 1, "text": "move the token to the environment."}
        ],
    }
    assert doc["score"] == 55  # the deterministic report is unchanged
    sent = upstream.bodies[0]
    assert upstream.keys == ["sk-test-upstream"]
    prompt = sent["messages"][0]["content"]
    assert "config.py" in prompt and '"score": 55' in prompt
    assert TOKEN not in json.dumps(sent)  # redacted before it left lynkr
    assert "[REDACTED]" in prompt


def test_review_llm_human_output(repos, invoke, upstream):
    repos.write("a.py", "x = 1\n")
    result = invoke("git", "review", "--llm")
    assert result.exit_code == 0, result.stderr
    assert "risk " in result.stdout and "move the token to the environment" in result.stdout


def test_release_notes_llm_polishes(repos, invoke, upstream):
    result = invoke("git", "release-notes", "--llm")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    sent = upstream.bodies[0]["messages"][0]["content"]
    assert sent.startswith("# Release notes: HEAD (all history)")


def test_provider_missing_its_key_is_explained(repos, invoke, monkeypatch):
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    result = invoke("git", "review", "--llm", "--json")
    assert result.exit_code == 0
    assert "ANTHROPIC_API_KEY" in result.stderr
    assert "ANTHROPIC_API_KEY" in json.loads(result.stdout)["llm"]["error"]


def test_unreachable_provider_keeps_the_report(repos, invoke, monkeypatch):
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_ENDPOINT", "http://127.0.0.1:9/v1/messages")
    monkeypatch.setenv("LYNKR_MAX_RETRIES", "0")
    monkeypatch.setenv("LYNKR_CONNECT_TIMEOUT", "2")
    result = invoke("git", "review", "--llm", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["llm"]["error"].startswith("--llm: the provider 'anthropic' failed")
    assert "score" in doc


def test_review_comments_are_parsed_from_common_shapes():
    from lynkr_cli.git.llm import review_comments

    text = "Summary.\n- src/a.py:12: rename x\n2. `b.go:3`: check err\nno location here"
    assert review_comments(text) == [
        {"path": "src/a.py", "line": 12, "text": "rename x"},
        {"path": "b.go", "line": 3, "text": "check err"},
    ]
