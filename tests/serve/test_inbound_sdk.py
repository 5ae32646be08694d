"""The official ``openai`` SDK against the inbound translators, over real HTTP.

A small aiohttp app on 127.0.0.1 plays the gateway's part: it translates what the SDK
sends with ``from_chat_request``, answers a scripted Anthropic Message through
``to_chat_completion`` or ``ChatStreamWriter`` (one write per frame), and answers errors
with ``openai_error``. The SDK's own request builders, response parsers, SSE decoder and
stream accumulator (``chat.completions.stream`` / ``get_final_completion``) do the rest.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import orjson
import pytest
from aiohttp import web
from openai import AsyncOpenAI
from pydantic import BaseModel

from lynkr_cli.serve.translate import (
    ChatRequestError,
    ChatStreamWriter,
    anthropic_message_to_events,
    from_chat_request,
    openai_error,
    openai_models,
    openai_ratelimit_headers,
    to_chat_completion,
    wants_openai_shape,
)
from tests.serve.test_inbound_response import message as reply

ANSWERS = {
    "hello": reply(
        [
            {"type": "thinking", "thinking": "A greeting.", "signature": "sig"},
            {"type": "text", "text": "Hello "},
            {"type": "text", "text": "there!"},
        ],
        "end_turn",
    ),
    "weather": reply(
        [
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_w",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
        "tool_use",
    ),
    "both": reply(
        [
            {"type": "tool_use", "id": "toolu_w", "name": "get_weather", "input": {"city": "Oslo"}},
            {
                "type": "tool_use",
                "id": "toolu_t",
                "name": "get_time",
                "input": {"tz": "Europe/Oslo"},
            },
            {"type": "tool_use", "id": "toolu_n", "name": "get_news", "input": {}},
        ],
        "tool_use",
    ),
    "json": reply([{"type": "text", "text": '{"city": "Paris", "celsius": 18}'}], "end_turn"),
    "long": reply([{"type": "text", "text": "cut"}], "max_tokens"),
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
    },
}
NEWS = {"type": "function", "function": {"name": "get_news"}}


def split_fragments(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each tool's argument JSON in 3-character fragments, as a real upstream streams it."""
    out: list[dict[str, Any]] = []
    for event in events:
        delta = event.get("delta", {})
        if delta.get("type") != "input_json_delta":
            out.append(event)
            continue
        text = delta["partial_json"]
        for i in range(0, len(text), 3):
            piece = {"type": "input_json_delta", "partial_json": text[i : i + 3]}
            out.append({**event, "delta": piece})
    return out


class Gateway:
    """The part of the gateway the lead wires up, with a scripted upstream."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []  # the internal Anthropic bodies

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        try:
            req = from_chat_request(body, default_max_tokens=1024)
        except ChatRequestError as exc:
            return self.error(400, str(exc), param=exc.param)
        self.seen.append(req.body)
        last = req.body["messages"][-1]["content"][-1]
        word = last.get("text", "") if last["type"] == "text" else "hello"
        if word.startswith("status "):
            return self.error(int(word.split()[1]), f"scripted {word}")
        message = ANSWERS.get(word, ANSWERS["hello"])
        if not req.stream:
            return web.json_response(to_chat_completion(message, model=body["model"]))
        return await self.stream(request, req.include_usage, body["model"], message, word)

    async def stream(
        self, request: web.Request, usage: bool, model: str, message: dict[str, Any], word: str
    ) -> web.StreamResponse:
        out = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await out.prepare(request)
        writer = ChatStreamWriter(model=model, include_usage=usage)
        events = split_fragments(anthropic_message_to_events(message))
        if word == "fail":
            busy = {"type": "overloaded_error", "message": "upstream busy"}
            events = [*events[:7], {"type": "error", "error": busy}]
        for event in events:
            for frame in writer.feed(event):
                await out.write(frame)
        for frame in writer.finish():
            await out.write(frame)
        await out.write_eof()
        return out

    def error(self, status: int, message: str, param: str | None = None) -> web.Response:
        reset = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2099-01-01T00:00:00Z",
        }
        headers = openai_ratelimit_headers(reset) if status == 429 else {}
        code, doc = openai_error(status, message, param=param)
        return web.json_response(doc, status=code, headers=headers)

    async def models(self, request: web.Request) -> web.Response:
        assert wants_openai_shape(request.headers)
        return web.json_response(openai_models(["claude-sonnet-4-5", "gpt-4o"], created=1))


@pytest.fixture
async def served() -> AsyncIterator[tuple[AsyncOpenAI, Gateway]]:
    gateway = Gateway()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", gateway.chat)
    app.router.add_get("/v1/models", gateway.models)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = AsyncOpenAI(
        base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0, timeout=10
    )
    try:
        yield client, gateway
    finally:
        await client.close()
        await runner.cleanup()


def user(text: str) -> list[Any]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


async def test_create(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, gateway = served
    out = await client.chat.completions.create(model="gpt-4o", messages=user("hello"))
    assert out.model == "gpt-4o" and out.object == "chat.completion"
    assert out.choices[0].message.content == "Hello there!"
    assert out.choices[0].message.model_extra == {"reasoning_content": "A greeting."}
    assert out.choices[0].finish_reason == "stop"
    assert out.usage is not None
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (1000, 42)
    assert gateway.seen[-1]["system"] == [{"type": "text", "text": "Be brief."}]


async def test_create_stream_with_usage(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    stream = await client.chat.completions.create(
        model="gpt-4o",
        messages=user("hello"),
        stream=True,
        stream_options={"include_usage": True},
    )
    text, reasoning, usage = "", "", None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content", "")
    assert (text, reasoning) == ("Hello there!", "A greeting.")
    assert usage is not None and usage.total_tokens == 1042
    assert (
        usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 900
    )


async def test_tools(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, gateway = served
    out = await client.chat.completions.create(
        model="gpt-4o", messages=user("weather"), tools=[WEATHER], tool_choice="auto"
    )
    call = (out.choices[0].message.tool_calls or [])[0]
    assert out.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name) == ("toolu_w", "get_weather")  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    # the SDK sends the result back; the gateway pairs it with the call
    follow = [
        *user("weather"),
        out.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18C"},
        {"role": "user", "content": "hello"},
    ]
    await client.chat.completions.create(model="gpt-4o", messages=follow, tools=[WEATHER])
    turns = gateway.seen[-1]["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_w",
        "content": "18C",
    }


async def test_stream_helper_accumulates_parallel_tools(
    served: tuple[AsyncOpenAI, Gateway],
) -> None:
    client, gateway = served
    async with client.chat.completions.stream(
        model="gpt-4o",
        messages=user("both"),
        tools=[WEATHER, TIME, NEWS],
        parallel_tool_calls=True,
        stream_options={"include_usage": True},
    ) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in kinds
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [  # type: ignore[union-attr]
        ("toolu_w", "get_weather", {"city": "Oslo"}),
        ("toolu_t", "get_time", {"tz": "Europe/Oslo"}),
        ("toolu_n", "get_news", {}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage is not None and final.usage.completion_tokens == 42
    assert gateway.seen[-1]["tools"][2] == {
        "name": "get_news",
        "input_schema": {"type": "object", "properties": {}},
    }


async def test_stream_helper_text_and_reasoning(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    async with client.chat.completions.stream(model="gpt-4o", messages=user("hello")) as stream:
        final = await stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Hello there!" and message.role == "assistant"
    assert (message.model_extra or {}).get("reasoning_content") == "A greeting."


class Weather(BaseModel):
    city: str
    celsius: int


async def test_parse_with_a_pydantic_response_format(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, gateway = served
    out = await client.chat.completions.parse(
        model="gpt-4o", messages=user("json"), response_format=Weather
    )
    assert out.choices[0].message.parsed == Weather(city="Paris", celsius=18)
    fmt = gateway.seen[-1]["output_config"]["format"]
    assert (
        fmt["type"] == "json_schema" and fmt["schema"]["properties"]["celsius"]["type"] == "integer"
    )


async def test_pydantic_function_tool_strict_arguments(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, gateway = served

    class get_weather(BaseModel):  # the tool's name
        city: str

    async with client.chat.completions.stream(
        model="gpt-4o",
        messages=user("weather"),
        tools=[openai.pydantic_function_tool(get_weather)],
    ) as stream:
        final = await stream.get_final_completion()
    call = (final.choices[0].message.tool_calls or [])[0]
    assert call.function.parsed_arguments == get_weather(city="Paris")  # type: ignore[union-attr]
    assert gateway.seen[-1]["tools"][0]["strict"] is True


async def test_error_mid_stream_raises_api_error(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=user("fail"), stream=True
    )
    got = ""
    with pytest.raises(openai.APIError) as info:
        async for chunk in stream:
            for choice in chunk.choices:
                got += choice.delta.content or ""
    assert info.value.message == "upstream busy"
    assert info.value.type == "server_error"
    assert got == "Hello "  # what came before the error was delivered


async def test_length_finish_raises_in_parse(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    with pytest.raises(openai.LengthFinishReasonError):
        await client.chat.completions.parse(
            model="gpt-4o", messages=user("long"), response_format=Weather
        )


async def test_bad_request_names_the_field(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    bad = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{nope"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
    ]
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(model="gpt-4o", messages=bad)  # type: ignore[arg-type]
    assert info.value.param == "messages[1].tool_calls[0].function.arguments"
    assert info.value.type == "invalid_request_error"
    assert "not valid JSON" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(
            model="gpt-4o", messages=user("x"), extra_body={"frobnicate": True}
        )
    assert info.value.param == "frobnicate"


@pytest.mark.parametrize(
    ("status", "exception", "kind", "code"),
    [
        (401, openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
        (403, openai.PermissionDeniedError, "invalid_request_error", None),
        (404, openai.NotFoundError, "invalid_request_error", None),
        (429, openai.RateLimitError, "requests", "rate_limit_exceeded"),
        (500, openai.InternalServerError, "server_error", None),
        (529, openai.InternalServerError, "server_error", None),
    ],
)
async def test_error_statuses_map_to_the_sdk_exceptions(
    served: tuple[AsyncOpenAI, Gateway],
    status: int,
    exception: type[openai.APIStatusError],
    kind: str,
    code: str | None,
) -> None:
    client, _ = served
    with pytest.raises(exception) as info:
        await client.chat.completions.create(model="gpt-4o", messages=user(f"status {status}"))
    assert info.value.type == kind and info.value.code == code
    assert info.value.status_code == (503 if status == 529 else status)
    if status == 429:
        headers = info.value.response.headers
        assert headers["x-ratelimit-limit-requests"] == "50"
        assert headers["x-ratelimit-remaining-requests"] == "0"
        assert headers["x-ratelimit-reset-requests"].endswith("s")


async def test_models_list(served: tuple[AsyncOpenAI, Gateway]) -> None:
    client, _ = served
    models = [m async for m in client.models.list()]
    assert [(m.id, m.object, m.owned_by) for m in models] == [
        ("claude-sonnet-4-5", "model", "lynkr"),
        ("gpt-4o", "model", "lynkr"),
    ]


def test_sdk_request_headers_pick_the_openai_models_shape() -> None:
    client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    headers = dict(client.default_headers)
    headers.update(client.auth_headers)
    assert wants_openai_shape(headers)
    assert not wants_openai_shape({**headers, "anthropic-version": "2023-06-01"})
    assert not wants_openai_shape({"x-api-key": "k"})
    assert orjson.loads(orjson.dumps(openai_models(["a", "a", "b"])))["data"][1]["id"] == "b"
