"""The real Claude Code CLI against a local Messages server: after `lynkr switch NAME`, and
under `lynkr switch run NAME -- claude`, even when ~/.claude/settings.json points elsewhere."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from aiohttp import web

from lynkr_cli.serve.translate.events import anthropic_message_to_events
from tests.conftest import require, tool_path
from tests.switch.helpers import serve

KEY = "sk-e2e-profile-key-0123456789"


def _event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def _text_stream(
    request: web.Request, model: object, text: str, stop: str, usage: dict[str, int]
) -> web.StreamResponse:
    """A complete Anthropic text stream, built from the Message it should accumulate to."""
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    message = {
        "id": "msg_e2e",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "usage": usage,
    }
    for event in anthropic_message_to_events(message):
        await response.write(_event(str(event["type"]), event))
    await response.write_eof()
    return response


async def _messages(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    usage = {"input_tokens": 5, "output_tokens": 1}
    return await _text_stream(request, body["model"], "pong", "end_turn", usage)


async def _ok(request: web.Request) -> web.Response:
    return web.Response()


ROUTES = {("POST", "/v1/messages"): _messages, ("HEAD", "/"): _ok, ("GET", "/"): _ok}


@pytest.fixture
def claude(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tool_path("claude")
    require(path is not None, "Claude Code CLI not installed (bash scripts/test-deps.sh)")
    for name, value in {
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }.items():
        monkeypatch.setenv(name, value)
    # What people have: a user settings file pointing somewhere else, with another key.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    (home / ".claude" / "settings.json").write_text(
        json.dumps(
            {
                "statusLine": {"type": "command", "command": "true"},
                "env": {
                    "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{dead}",
                    "ANTHROPIC_AUTH_TOKEN": "sk-stale-token-000000000000",
                },
            },
            indent=2,
        )
    )
    return path


def _add(invoke, url: str) -> None:
    result = invoke(
        "switch", "add", "local", "--base-url", url, "--key", KEY, "--model", "e2e-model"
    )
    assert result.exit_code == 0, result.stderr


def _calls(server: dict[str, object]) -> list[dict[str, object]]:
    return [s for s in server["seen"] if s["path"] == "/v1/messages"]  # type: ignore[index,union-attr]


def _say_pong(claude: Path) -> subprocess.CompletedProcess[str]:
    """One `claude -p` run in the current directory and environment."""
    return subprocess.run(
        [str(claude), "-p", "say pong", "--output-format", "json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path.cwd(),
        env=dict(os.environ),
    )


def test_claude_follows_the_switched_user_settings(invoke, claude: Path, home: Path) -> None:
    with serve(ROUTES) as server:
        _add(invoke, server["url"])
        assert invoke("switch", "local").exit_code == 0
        proc = _say_pong(claude)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert json.loads(proc.stdout)["result"] == "pong"
    calls = _calls(server)
    assert calls, "Claude Code never reached the profile's server"
    headers = {k.lower(): v for k, v in calls[0]["headers"].items()}
    assert headers["x-api-key"] == KEY
    assert "authorization" not in headers  # the stale AUTH_TOKEN was removed
    assert json.loads(calls[0]["body"])["model"] == "e2e-model"


def test_run_overrides_settings_files_for_claude(invoke, claude: Path, home: Path) -> None:
    before = (home / ".claude" / "settings.json").read_bytes()
    with serve(ROUTES) as server:
        _add(invoke, server["url"])
        result = invoke("switch", "run", "local", "--", str(claude), "-p", "say pong")
    assert result.exit_code == 0
    calls = _calls(server)
    assert calls, "the profile did not win over ~/.claude/settings.json"
    headers = {k.lower(): v for k, v in calls[0]["headers"].items()}
    assert headers["x-api-key"] == KEY
    assert "authorization" not in headers
    assert (home / ".claude" / "settings.json").read_bytes() == before  # no file touched


async def _upstream(request: web.Request) -> web.StreamResponse:
    """An Anthropic upstream for the real gateway: SSE or JSON, as asked."""
    body = await request.json()
    if body.get("stream"):
        return await _messages_from(body, request)
    return web.json_response(
        {
            "id": "msg_up",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": "p"}],
            "stop_reason": "max_tokens",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        }
    )


async def _messages_from(body: dict[str, object], request: web.Request) -> web.StreamResponse:
    usage = {"input_tokens": 3, "output_tokens": 1}
    return await _text_stream(request, body["model"], "p", "max_tokens", usage)


def test_lynkr_preset_probe_through_the_real_gateway(
    invoke, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lynkr switch lynkr` + `lynkr switch test lynkr --probe` against a running `lynkr serve`."""
    import httpx

    from tests.conftest import ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with serve({("POST", "/v1/messages"): _upstream}) as up:
        env = {
            **os.environ,
            "LYNKR_PROVIDER": "anthropic",
            "LYNKR_PORT": str(port),
            "ANTHROPIC_ENDPOINT": f"{up['url']}/v1/messages",
            "ANTHROPIC_API_KEY": "sk-upstream-0000000000",
        }
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "lynkr"), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            ready = False
            for _ in range(150):
                try:
                    ready = httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).is_success
                except httpx.HTTPError:
                    pass
                if ready or proc.poll() is not None:
                    break
                time.sleep(0.2)
            require(
                ready, f"`lynkr serve` did not start: {(tmp_path / 'serve.log').read_text()[-400:]}"
            )
            monkeypatch.setenv("LYNKR_PORT", str(port))  # the preset reads the gateway's port
            assert invoke("switch", "lynkr").exit_code == 0
            result = invoke("switch", "test", "lynkr", "--probe", "--json")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, doc
    assert doc["reach"]["ok"] and doc["probe"]["ok"] and doc["probe"]["status"] == 200
    env_block = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env_block["ANTHROPIC_BASE_URL"] == f"http://127.0.0.1:{port}"
    assert up["seen"], "the gateway never reached the upstream"


def test_claude_reads_the_prompt_preset_from_claude_md(invoke, claude: Path, home: Path) -> None:
    """The preset lynkr writes between its markers is what the real client sends along."""
    user_text = "# Mine\nNever use tabs.\n"
    (home / ".claude" / "CLAUDE.md").write_text(user_text)
    preset = "Answer like a pirate. canary-preset-7f3a\n"
    assert invoke("switch", "prompt", "add", "pirate", "--file", "-", input=preset).exit_code == 0
    with serve(ROUTES) as server:
        _add(invoke, server["url"])
        assert invoke("switch", "edit", "local", "--prompt", "pirate").exit_code == 0
        assert invoke("switch", "local").exit_code == 0
        proc = _say_pong(claude)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    bodies = [c["body"].decode() for c in _calls(server)]
    assert any("canary-preset-7f3a" in body and "Never use tabs." in body for body in bodies)
    assert (home / ".claude" / "CLAUDE.md").read_text().startswith(user_text)
