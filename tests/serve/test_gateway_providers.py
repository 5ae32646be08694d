"""Every provider family, through the real anthropic SDK and with Claude Code's own requests."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest

from tests.conftest import fixture_path
from tests.serve.conftest import FAMILIES, provider_settings

ALL = list(FAMILIES)
NATIVE = [name for name, spec in FAMILIES.items() if spec["wire"] == "anthropic"]
UPSTREAM_MODEL = {
    "anthropic": "claude-client-model",  # no default: the client's name goes upstream
    "azure-anthropic": "claude-client-model",
    "databricks-anthropic": "my-endpoint",
    "databricks": "my-endpoint",
    "openai": "gpt-test",
    "ollama": "llama-t",
}


def client(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0, timeout=20)


@pytest.mark.parametrize("family", ALL)
async def test_sdk_create_through_every_family(gateway, fake, family: str) -> None:
    up = await fake(**FAMILIES[family])
    gw = await gateway(**provider_settings(family, up))
    async with client(gw.url) as sdk:
        msg = await sdk.messages.create(
            model="claude-client-model",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
        )
    assert msg.content[0].text == "Hello from upstream"
    assert msg.model == "claude-client-model"  # echoed whatever the upstream called it
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.input_tokens == 11 and msg.usage.output_tokens == 5
    assert up.problems == []
    assert len(up.seen) == 1
    assert up.bodies[0]["model"] == UPSTREAM_MODEL[family]


@pytest.mark.parametrize("family", ALL)
async def test_sdk_stream_accumulator_through_every_family(gateway, fake, family: str) -> None:
    up = await fake(**FAMILIES[family])
    gw = await gateway(**provider_settings(family, up))
    async with client(gw.url) as sdk:
        async with sdk.messages.stream(
            model="claude-client-model",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
        ) as stream:
            texts = [t async for t in stream.text_stream]
            final = await stream.get_final_message()
    assert "".join(texts) == "Hello from upstream"
    assert final.model == "claude-client-model"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 5
    assert up.problems == []
    assert up.bodies[0]["stream"] is True


FIXTURES = [
    "tool-loop.1.messages.json",
    "tool-loop.2.messages.json",
    "count-tokens.3.messages.json",
]


@pytest.mark.parametrize("family", ALL)
@pytest.mark.parametrize("name", FIXTURES)
async def test_claude_code_requests_come_out_valid_for_each_upstream(
    gateway, fake, family: str, name: str
) -> None:
    captured = json.loads(fixture_path(name).read_text())
    up = await fake(**FAMILIES[family])
    gw = await gateway(**provider_settings(family, up))
    headers = {k: v for k, v in captured["headers"].items() if k.lower() != "content-length"}
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post(
            f"{captured['path']}?{captured['query']}", json=captured["body"], headers=headers
        )
        assert resp.status_code == 200, resp.text
        events = [
            json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")
        ]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert events[0]["message"]["model"] == captured["body"]["model"]
    assert up.problems == []
    sent = up.bodies[0]
    text = json.dumps(sent)
    if family == "anthropic":
        assert "x-anthropic-billing-header" in text  # Anthropic's own block stays
        assert up.seen[0].headers["anthropic-beta"] == captured["headers"]["anthropic-beta"]
    else:
        assert "x-anthropic-billing-header" not in text
    if family == "azure-anthropic":
        assert '"scope"' not in text
    if FAMILIES[family]["wire"] == "openai":
        assert sent["stream_options"] == {"include_usage": True}
        names = [t["function"]["name"] for t in sent.get("tools", [])]
        assert "Bash" in names  # Claude Code's tool names survive unchanged
    else:
        # Native passthrough keeps the thinking config and signature-bearing history.
        assert sent["messages"] == captured["body"]["messages"]


async def test_tool_results_reach_openai_as_tool_messages(gateway, fake) -> None:
    captured = json.loads(fixture_path("tool-loop.2.messages.json").read_text())
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=captured["body"])
    assert resp.status_code == 200
    sent = up.bodies[0]["messages"]
    calls = [c for m in sent if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    results = [m for m in sent if m["role"] == "tool"]
    assert calls and results
    assert {r["tool_call_id"] for r in results} <= {c["id"] for c in calls}


async def test_model_map_routes_by_glob_and_echoes_client_model(gateway, fake) -> None:
    native = await fake(**FAMILIES["anthropic"])
    oai = await fake(**FAMILIES["openai"])
    settings = {**provider_settings("anthropic", native), **provider_settings("openai", oai)}
    settings["provider.name"] = "anthropic"
    settings["provider.model_map"] = "claude-haiku-*=openai:gpt-small,claude-opus-*=claude-big"
    gw = await gateway(**settings)
    async with client(gw.url) as sdk:
        for model in ("claude-haiku-4-5-20251001", "claude-opus-4-8", "claude-sonnet-5"):
            msg = await sdk.messages.create(
                model=model, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
            assert msg.model == model
    assert [b["model"] for b in oai.bodies] == ["gpt-small"]
    assert [b["model"] for b in native.bodies] == ["claude-big", "claude-sonnet-5"]


async def test_count_tokens_forwarded_or_counted_locally(gateway, fake) -> None:
    captured = json.loads(fixture_path("count-tokens.2.count_tokens.json").read_text())
    body = captured["body"]

    async def counting(request, doc):
        from aiohttp import web

        return web.json_response({"input_tokens": 4242})

    native = await fake(**FAMILIES["anthropic"], reply=counting)
    gw = await gateway(**provider_settings("anthropic", native))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages/count_tokens?beta=true", json=body)
    assert resp.json() == {"input_tokens": 4242}
    assert native.seen[0].path == "/v1/messages/count_tokens"
    assert native.seen[0].headers["x-api-key"] == "up-key"

    # Databricks serves no count_tokens route: the local BPE estimate answers instead.
    up = await fake(**FAMILIES["databricks"])
    gw = await gateway(**provider_settings("databricks", up))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages/count_tokens?beta=true", json=body)
    assert resp.status_code == 200
    count = resp.json()["input_tokens"]
    assert isinstance(count, int) and count > 100
    assert up.seen == []


async def test_count_tokens_falls_back_when_upstream_has_no_route(gateway, fake) -> None:
    up = await fake(**FAMILIES["azure-anthropic"])  # answers count_tokens with a non-count body
    gw = await gateway(**provider_settings("azure-anthropic", up))
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "hello there"}]}
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages/count_tokens", json=body)
    assert resp.status_code == 200 and resp.json()["input_tokens"] > 0


async def test_untranslatable_input_is_a_400_before_the_upstream(gateway, fake) -> None:
    up = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", up))
    image = {"type": "image", "source": {"type": "carrier-pigeon"}}
    body = {
        "model": "claude-x",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [image]}],
    }
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=body)
    assert resp.status_code == 400, resp.text
    doc = resp.json()
    assert doc["error"]["type"] == "invalid_request_error"
    assert "messages.0.content.0" in doc["error"]["message"]
    assert up.seen == []


async def _openai_without_usage(request, body):  # type: ignore[no-untyped-def]
    from tests.serve.fakes import chunk, send_chunks

    if body.get("stream"):
        chunks = [chunk({"role": "assistant", "content": "ok"}), chunk({}, "stop")]
        return await send_chunks(request, chunks)
    from aiohttp import web

    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": "ok"},
        "finish_reason": "stop",
    }
    return web.json_response({"id": "c", "object": "chat.completion", "choices": [choice]})


@pytest.mark.parametrize("stream", [True, False])
async def test_upstream_without_usage_gets_a_local_input_count(gateway, fake, stream: bool) -> None:
    # Claude Code's auto-compact breaks on input_tokens == 0: estimate when the upstream is silent.
    up = await fake(**FAMILIES["openai"], reply=_openai_without_usage)
    gw = await gateway(**provider_settings("openai", up))
    prompt = "count these words please " * 40
    async with client(gw.url) as sdk:
        if stream:
            async with sdk.messages.stream(
                model="claude-x", max_tokens=50, messages=[{"role": "user", "content": prompt}]
            ) as s:
                msg = await s.get_final_message()
        else:
            msg = await sdk.messages.create(
                model="claude-x", max_tokens=50, messages=[{"role": "user", "content": prompt}]
            )
    assert msg.content[0].text == "ok"
    assert 150 < msg.usage.input_tokens < 400
