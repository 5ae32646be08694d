"""Upstream error text that echoes a credential never reaches the client or the log.

Upstreams quote what they were sent ("Incorrect API key provided: sk-…"). Whatever
the path (an error status, an SSE ``error`` event relayed as bytes, a translated
OpenAI error), the configured secret and anything shaped like one are masked.
"""

from __future__ import annotations

import json

import httpx
import pytest
from aiohttp import web

from tests.gatewayproc import GatewayProcess
from tests.serve import fakes

KEY = "sk-canary-0123456789abcdefCANARY"
OTHER = "sk-ant-api03-" + "Z" * 40 + "-canaryXY"  # secret-shaped, but not configured
BODY = {"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}


def echo_app(status: int, stream_error: bool) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        message = f"Incorrect API key provided: {sent}. Also seen: {OTHER}"
        if stream_error:
            events = fakes.text_events("x", "m")[:2]
            events.append({"type": "error", "error": {"type": "api_error", "message": message}})
            resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await resp.prepare(request)
            await resp.write(b"".join(fakes.sse(e) for e in events))
            return resp
        if request.path.endswith("/chat/completions"):
            return web.json_response({"error": {"message": message}}, status=status)
        doc = {"type": "error", "error": {"type": "authentication_error", "message": message}}
        return web.json_response(doc, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.mark.parametrize(
    ("provider", "status", "stream_error"),
    [
        ("anthropic", 401, False),
        ("anthropic", 400, False),
        ("anthropic", 200, True),
        ("openai", 401, False),
        ("openai", 400, False),
    ],
)
async def test_echoed_key_is_masked_in_answer_and_log(provider, status, stream_error) -> None:
    runner, url = await start(echo_app(status, stream_error))
    if provider == "anthropic":
        env = {
            "LYNKR_PROVIDER": "anthropic",
            "LYNKR_ANTHROPIC_API_KEY": KEY,
            "LYNKR_ANTHROPIC_ENDPOINT": url + "/v1/messages",
        }
    else:
        env = {
            "LYNKR_PROVIDER": "openai",
            "LYNKR_OPENAI_API_KEY": KEY,
            "LYNKR_OPENAI_ENDPOINT": url + "/v1/chat/completions",
            "LYNKR_OPENAI_MODEL": "gpt-t",
        }
    try:
        async with GatewayProcess({**env, "LYNKR_ACCESS_LOG": "true"}) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
                answers = [
                    await http.post("/v1/messages", json=BODY),
                    await http.post("/v1/messages", json={**BODY, "stream": True}),
                ]
            await gw.terminate()
        for resp in answers:
            assert KEY not in resp.text and OTHER not in resp.text
        # The reason itself survives (a stream-only upstream cannot answer the JSON request).
        assert "Incorrect API key provided" in answers[-1].text
        assert KEY not in gw.stderr and OTHER not in gw.stderr
        assert "Incorrect API key provided" in gw.stderr  # the access log has the error, masked
    finally:
        await runner.cleanup()


async def test_error_events_keep_their_shape_when_masked() -> None:
    runner, url = await start(echo_app(200, True))
    env = {
        "LYNKR_PROVIDER": "anthropic",
        "LYNKR_ANTHROPIC_API_KEY": KEY,
        "LYNKR_ANTHROPIC_ENDPOINT": url + "/v1/messages",
    }
    try:
        async with GatewayProcess(env) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
                resp = await http.post("/v1/messages", json={**BODY, "stream": True})
        frames = [f for f in resp.text.split("\n\n") if f.strip()]
        last = json.loads(frames[-1].split("data: ", 1)[1])
        assert last["type"] == "error" and last["error"]["type"] == "api_error"
        assert "****" in last["error"]["message"] and KEY not in last["error"]["message"]
    finally:
        await runner.cleanup()
