"""``POST /v1/chat/completions`` through the real gateway with the official ``openai`` SDK:
create, stream, tools and parallel tools, through every provider family (native
Anthropic upstreams via the internal form, OpenAI-format upstreams passed through)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from aiohttp import web

from lynkr_cli.serve.translate import anthropic_message_to_events
from tests.serve import fakes
from tests.serve.conftest import FAMILIES, provider_settings

pytestmark = pytest.mark.timeout(60)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} a thing",
            "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
        },
    }
    for name in ("lookup", "fetch")
]


def wanted_calls(text: str) -> list[tuple[str, dict[str, str]]]:
    if "parallel" in text:
        return [("lookup", {"x": "a"}), ("fetch", {"x": "b"})]
    if "tool" in text:
        return [("lookup", {"x": "a"})]
    return []


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for msg in reversed(messages):
        if msg.get("role") == "user":
            content = msg.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


async def anthropic_reply(request: web.Request, body: Any) -> web.StreamResponse:
    calls = wanted_calls(last_user_text(body["messages"])) if body.get("tools") else []
    content: list[dict[str, Any]] = [{"type": "text", "text": "Hello from upstream"}]
    content += [
        {"type": "tool_use", "id": f"toolu_{i}", "name": n, "input": args}
        for i, (n, args) in enumerate(calls)
    ]
    message = fakes.message(
        "", body["model"], content=content, stop_reason="tool_use" if calls else "end_turn"
    )
    if body.get("stream"):
        return await fakes.send_events(request, list(anthropic_message_to_events(message)))
    return web.json_response(message)


async def openai_reply(request: web.Request, body: Any) -> web.StreamResponse:
    calls = wanted_calls(last_user_text(body["messages"])) if body.get("tools") else []
    if not calls:
        return await fakes.openai_text(request, body)
    tool_calls = [
        {
            "index": i,
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": n, "arguments": json.dumps(a)},
        }
        for i, (n, a) in enumerate(calls)
    ]
    if body.get("stream"):
        chunks = [fakes.chunk({"role": "assistant", "content": None})]
        chunks += [fakes.chunk({"tool_calls": [call]}) for call in tool_calls]
        chunks.append(fakes.chunk({}, "tool_calls"))
        chunks.append(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": fakes.USAGE,
            }
        )
        return await fakes.send_chunks(request, chunks)
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{k: v for k, v in c.items() if k != "index"} for c in tool_calls],
    }
    return web.json_response(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "up",
            "usage": fakes.USAGE,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        }
    )


@pytest.fixture(params=list(FAMILIES))
async def client(request: Any, gateway: Any, fake: Any) -> Any:
    family = request.param
    spec = FAMILIES[family]
    reply = anthropic_reply if spec["wire"] == "anthropic" else openai_reply
    up = await fake(**spec, reply=reply)
    gw = await gateway(**provider_settings(family, up))
    sdk = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0)
    yield sdk, up, spec["wire"]
    await sdk.close()


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


async def test_create(client: Any) -> None:
    sdk, up, wire = client
    done = await sdk.chat.completions.create(model="gpt-client", messages=ask("hi"), max_tokens=50)
    assert done.choices[0].message.content == "Hello from upstream"
    assert done.usage is not None and done.usage.total_tokens > 0
    assert done.model == "gpt-client" or wire == "openai"  # a passthrough: the upstream's name
    assert up.problems == []


async def test_stream_with_usage(client: Any) -> None:
    sdk, up, wire = client
    stream = await sdk.chat.completions.create(
        model="gpt-client",
        messages=ask("hi"),
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, models = "", None, set()
    async for chunk in stream:
        models.add(chunk.model)
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == "Hello from upstream" and usage is not None and usage.completion_tokens > 0
    if wire == "anthropic":  # a passthrough names the model the upstream reports
        assert models == {"gpt-client"}
    assert up.problems == []


async def test_stream_without_usage_sends_no_usage_chunk(client: Any) -> None:
    sdk, _up, _wire = client
    stream = await sdk.chat.completions.create(model="gpt-client", messages=ask("hi"), stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(chunk.choices for chunk in chunks)  # naive clients index choices[0]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("prompt", ["use a tool", "use parallel tools"])
async def test_tools(client: Any, stream: bool, prompt: str) -> None:
    sdk, _up, _wire = client
    kwargs = {"model": "gpt-client", "messages": ask(prompt), "tools": TOOLS}
    if stream:
        async with sdk.chat.completions.stream(**kwargs) as events:
            done = await events.get_final_completion()
    else:
        done = await sdk.chat.completions.create(**kwargs)
    calls = done.choices[0].message.tool_calls or []
    expected = wanted_calls(prompt)
    assert [c.function.name for c in calls] == [name for name, _ in expected]
    assert [json.loads(c.function.arguments) for c in calls] == [args for _, args in expected]
    assert done.choices[0].finish_reason == "tool_calls"


async def test_errors_are_openai_shaped(gateway: Any, fake: Any) -> None:
    up = await fake(**FAMILIES["anthropic"], reply=anthropic_reply)
    gw = await gateway(**provider_settings("anthropic", up))
    sdk = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        await sdk.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": 5}],  # type: ignore[list-item]
        )
    assert bad.value.body["param"].startswith("messages[0]")  # type: ignore[index]
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post(
            "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
        )
        refused = await http.post(
            "/v1/chat/completions", content=b"{}", headers={"content-type": "text/plain"}
        )
    assert resp.status_code == 400 and resp.json()["error"]["type"] == "invalid_request_error"
    assert refused.status_code == 415 and "error" in refused.json()
    assert "type" not in refused.json()  # OpenAI's shape, not Anthropic's
    await sdk.close()


async def test_models_list_in_openai_shape_for_openai_clients(gateway: Any, fake: Any) -> None:
    up = await fake(**FAMILIES["anthropic"])
    gw = await gateway(
        **provider_settings("anthropic", up), **{"provider.model_map": "gpt-a=anthropic"}
    )
    sdk = openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)
    models = [m.id async for m in sdk.models.list()]
    assert "gpt-a" in models
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        anthropic_style = await http.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert anthropic_style.json()["data"][0]["type"] == "model"
    await sdk.close()
