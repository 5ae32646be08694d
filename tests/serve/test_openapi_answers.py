"""Real answers of a real gateway, checked against docs/openapi.json.

Each test drives an in-process gateway (the way ``lynkr serve`` serves it) in front of a
fake upstream on 127.0.0.1, with valid and invalid input, and checks every answer against
the document: its status is listed for the operation (or is the document's 404/405), every
required header is there, every header the gateway sets is declared for that answer and
has a declared value, and the body matches the schema of its media type; an event stream
is checked event by event (the ``event:`` name is the data's ``type``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator

from lynkr_cli.serve.openapi.document import render
from tests.serve.conftest import FAMILIES, provider_settings
from tests.serve.fakes import message, send_events, text_events

pytestmark = pytest.mark.timeout(90)
DOC: dict[str, Any] = json.loads(render())
COMPONENTS = DOC["components"]
GATEWAY_HEADERS = set(COMPONENTS["headers"])  # every header the gateway sets
BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 20,
    "messages": [{"role": "user", "content": "hi"}],
}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[2:4]
        node = COMPONENTS[section][name]
    return node


def valid(schema: dict[str, Any], instance: Any, where: str) -> None:
    validator = OAS31Validator(
        {**schema, "components": COMPONENTS}, format_checker=OAS31Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].path)}\n{instance}"


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) of each SSE event; comments (``: keep-alive``) skipped."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, "\n".join(data)))
    return events


@dataclass
class Checker:
    """Checks answers against the document and remembers (method, path, status) seen."""

    seen: set[tuple[str, str, int]] = field(default_factory=set)

    def __call__(self, resp: httpx.Response) -> httpx.Response:
        method, status = resp.request.method, resp.status_code
        path = resp.request.url.raw_path.decode().partition("?")[0]  # as sent: %2f stays
        where = f"{method} {path} -> {status}"
        item = DOC["paths"].get(path)
        op = (item or {}).get(method.lower())
        if "request-id" not in resp.headers:  # the HTTP server's own, before any route
            server = DOC["x-lynkr-unrouted"].get(str(status))
            assert server is not None and status in (400, 503), f"{where}: no request-id"
            answer = resolve(server)
        elif op is None:
            answer = resolve(DOC["x-lynkr-unrouted"]["405" if item else "404"])
            assert status == (405 if item else 404), where
        else:
            found = op["responses"].get(str(status)) or op["responses"].get("default")
            assert found is not None, f"{where}: status not in the document"
            answer = resolve(found)
        self._headers(resp, answer, where)
        self._body(resp, answer, where)
        self.seen.add((method, path, status))
        return resp

    def _headers(self, resp: httpx.Response, answer: dict[str, Any], where: str) -> None:
        declared = {name: resolve(h) for name, h in answer.get("headers", {}).items()}
        for name, header in declared.items():
            value = resp.headers.get(name)
            if value is None:
                assert not header.get("required"), f"{where}: required header {name} missing"
                continue
            schema = header["schema"]
            valid(schema, int(value) if schema.get("type") == "integer" else value, where + name)
        for name in resp.headers:
            if name.lower() in GATEWAY_HEADERS:
                assert name.lower() in declared, f"{where}: header {name} not declared"

    def _body(self, resp: httpx.Response, answer: dict[str, Any], where: str) -> None:
        content = answer.get("content")
        if resp.request.method == "HEAD" or content is None:
            assert resp.content == b"", f"{where}: a body where the document has none"
            return
        media = resp.headers.get("content-type", "").partition(";")[0].strip()
        assert media in content, f"{where}: content-type {media!r} not in {list(content)}"
        schema = content[media].get("schema", {})
        if media == "text/event-stream":
            events = sse_events(resp.text)
            assert events, f"{where}: an empty stream"
            for name, data in events:
                self._event(schema, name, data, f"{where} event {name}")
        elif media == "application/json":
            valid(schema, resp.json(), where)
        else:
            valid(schema, resp.text, where)

    def _event(self, schema: dict[str, Any], name: str | None, data: str, where: str) -> None:
        """One SSE event against its schema, and its JSON data against the ``contentSchema``
        (an annotation to JSON Schema, so checked here by hand)."""
        event = {"data": data} if name is None else {"event": name, "data": data}
        valid(schema, event, where)
        text = resolve(schema)["properties"]["data"]
        if "if" in text and data == text["if"]["const"]:
            return  # data: [DONE]
        content = text.get("contentSchema") or text["else"]["contentSchema"]
        doc = json.loads(data)
        valid(content, doc, where)
        if name is not None:
            assert name == doc["type"], f"{where}: the event carries a {doc['type']}"


@pytest.fixture
def check() -> Checker:
    return Checker()


def client(url: str, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=20, headers=headers)


def statuses(check: Checker) -> set[int]:
    return {status for _m, _p, status in check.seen}


# --------------------------------------------------------------------------- the routes


async def test_every_route_answers_as_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["anthropic"])
    gw = await gateway(
        **provider_settings("anthropic", upstream), **{"server.max_body_bytes": 4096}
    )
    async with client(gw.url) as http:
        check(await http.post("/v1/messages", json=BODY))
        check(await http.post("/v1/messages?beta=true", json={**BODY, "stream": True}))
        check(await http.post("/v1/messages", json={"model": "m", "max_tokens": 5}))  # 400
        check(await http.post("/v1/messages", content=b"{not json", headers=_json()))
        check(
            await http.post("/v1/messages", content=b"{}", headers={"content-type": "text/plain"})
        )
        check(await http.post("/v1/messages", json=BODY, headers={"content-encoding": "zstd2"}))
        check(await http.post("/v1/messages", json=BODY, headers={"content-encoding": "br"}))
        big = {**BODY, "system": "x" * 5000}
        check(await http.post("/v1/messages", json=big))  # 413
        check(await http.post("/v1/messages/count_tokens", json=BODY))
        check(await http.post("/v1/messages/count_tokens", json={"messages": []}))  # 400
        check(await http.post("/v1/chat/completions", json=CHAT))
        check(await http.post("/v1/chat/completions", json={**CHAT, "stream": True}))
        opts = {"stream": True, "stream_options": {"include_usage": True}}
        check(await http.post("/v1/chat/completions", json={**CHAT, **opts}))
        check(await http.post("/v1/chat/completions", json={**CHAT, "n": 2}))  # 400
        check(await http.post("/v1/chat/completions", json={**CHAT, "bogus": 1}))
        check(
            await http.post(
                "/v1/chat/completions", content=b"x", headers={"content-type": "text/plain"}
            )
        )
        check(await http.post("/v1/chat/completions", json={**CHAT, "messages": [{"x": 1}] * 300}))
        check(await http.get("/v1/models"))
        openai = check(await http.get("/v1/models", headers={"authorization": "Bearer sk-x"}))
        assert openai.json()["object"] == "list"
        check(await http.get("/v1/models", params={"limit": "abc"}))
        for path in (
            "/",
            "/health/live",
            "/health/ready",
            "/metrics",
            "/openapi.json",
            "/v1/models",
        ):
            check(await http.get(path))
            check(await http.head(path))
        check(await http.post("/api/event_logging/batch", json={"events": [{"kind": "x"}]}))
        form = {"content-type": "application/x-www-form-urlencoded"}
        check(await http.post("/api/event_logging/batch", content=b"a=1", headers=form))
        check(await http.get("/no/such/route"))
        check(await http.get("/v1/messages%2fcount_tokens"))
        check(await http.put("/v1/messages", json=BODY))
        check(await http.get("/v1/chat/completions"))
        check(await http.options("/v1/messages"))  # no Origin: not a preflight
        check(await http.post("/v1/messages", json=BODY, headers={"x-lynkr-hop": gw.gw.hop_id}))
    assert {200, 400, 404, 405, 413, 415, 508} <= statuses(check)
    documented = {
        (m.upper(), p) for p, item in DOC["paths"].items() for m in item if m != "options"
    }
    assert documented <= {(m, p) for m, p, s in check.seen if s == 200}


async def test_the_served_document_is_the_file(gateway) -> None:
    from tests.conftest import ROOT

    gw = await gateway()
    async with client(gw.url) as http:
        resp = await http.get("/openapi.json")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.content == (ROOT / "docs" / "openapi.json").read_bytes()


async def test_no_provider_and_not_ready(gateway, check) -> None:
    gw = await gateway()
    async with client(gw.url) as http:
        ready = check(await http.get("/health/ready"))
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        check(await http.head("/health/ready"))
        assert check(await http.post("/v1/messages", json=BODY)).status_code == 503
        assert check(await http.post("/v1/chat/completions", json=CHAT)).status_code == 503


# --------------------------------------------------------------------------- upstream errors


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}


def upstream_error(status: int, kind: str, **headers: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"type": "error", "error": {"type": kind, "message": "up"}}, headers


UPSTREAM_ERRORS = {  # model name -> (status, body, headers) the fake upstream answers
    "up-400": upstream_error(400, "invalid_request_error"),
    "up-401": upstream_error(401, "authentication_error"),
    "up-404": upstream_error(404, "not_found_error"),
    "up-409": upstream_error(409, "conflict_error"),
    "up-429": upstream_error(429, "rate_limit_error", **{"retry-after": "7"}),
    "up-500": upstream_error(500, "api_error"),
    "up-529": upstream_error(529, "overloaded_error"),
}


async def scripted(request: Any, body: Any) -> Any:
    from aiohttp import web

    model = body.get("model", "")
    if model in UPSTREAM_ERRORS:
        status, doc, headers = UPSTREAM_ERRORS[model]
        return web.json_response(doc, status=status, headers=headers)
    if model == "up-slow":
        await asyncio.sleep(5)
    if model == "up-cut":  # the stream stops after its first events: an error event follows
        return await send_events(request, text_events("Hello there", model)[:3])
    if body.get("stream"):
        return await send_events(request, text_events("Hello", model))
    return web.json_response(message("Hello", model))


async def test_upstream_failures_answer_as_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["anthropic"], reply=scripted)
    settings = provider_settings("anthropic", upstream)
    gw = await gateway(**settings, **{"provider.first_byte_timeout": 0.5})
    async with client(gw.url) as http:
        for model in [*UPSTREAM_ERRORS, "up-slow"]:
            check(await http.post("/v1/messages", json={**BODY, "model": model}))
            check(await http.post("/v1/chat/completions", json={**CHAT, "model": model}))
        cut = check(
            await http.post("/v1/messages", json={**BODY, "model": "up-cut", "stream": True})
        )
        assert sse_events(cut.text)[-1][0] == "error"
        chat = {**CHAT, "model": "up-cut", "stream": True}
        cut = check(await http.post("/v1/chat/completions", json=chat))
        assert '"error"' in sse_events(cut.text)[-1][1]
    assert {400, 401, 404, 409, 429, 502, 503, 504, 529} <= statuses(check)


async def test_openai_upstream_answers_as_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["openai"])
    gw = await gateway(**provider_settings("openai", upstream))
    async with client(gw.url) as http:
        check(await http.post("/v1/messages", json=BODY))
        check(await http.post("/v1/messages", json={**BODY, "stream": True}))
        check(await http.post("/v1/chat/completions", json=CHAT))  # passthrough
        check(await http.post("/v1/chat/completions", json={**CHAT, "stream": True}))
        check(await http.post("/v1/messages/count_tokens", json=BODY))
    assert statuses(check) == {200}


# --------------------------------------------------------------------------- keys and limits


async def test_keys_answer_as_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["anthropic"])
    keys = {"server.api_key": "admin-key-123456", "team.metrics_key": "metrics-key-123456"}
    gw = await gateway(**provider_settings("anthropic", upstream), **keys)
    async with client(gw.url) as http:
        for path, body in (("/v1/messages", BODY), ("/v1/chat/completions", CHAT),
                           ("/v1/messages/count_tokens", BODY),
                           ("/api/event_logging/batch", {})):  # fmt: skip
            assert check(await http.post(path, json=body)).status_code == 401
        assert check(await http.get("/v1/models")).status_code == 401
        assert check(await http.get("/metrics")).status_code == 401
        check(await http.head("/metrics"))
        good = {"x-api-key": "admin-key-123456"}
        assert check(await http.post("/v1/messages", json=BODY, headers=good)).status_code == 200
        metrics = {"authorization": "Bearer metrics-key-123456"}
        assert check(await http.get("/metrics", headers=metrics)).status_code == 200
        assert check(await http.get("/health/live")).status_code == 200


def issue(invoke: Any, name: str, *flags: str) -> str:
    result = invoke("keys", "create", name, *flags, "--json")
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["key"])


async def test_rate_limited_keys_answer_as_documented(invoke, gateway, fake, check) -> None:
    messages_key = issue(invoke, "alice", "--rpm", "1")
    chat_key = issue(invoke, "bob", "--rpm", "1", "--tpm", "100k")
    narrow_key = issue(invoke, "carol", "--models", "claude-haiku-*")
    upstream = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", upstream))
    async with client(gw.url) as http:
        for _ in range(2):
            check(await http.post("/v1/messages", json=BODY, headers={"x-api-key": messages_key}))
        bearer = {"authorization": f"Bearer {chat_key}"}
        first = check(await http.post("/v1/chat/completions", json=CHAT, headers=bearer))
        assert first.headers["x-ratelimit-limit-requests"] == "1"
        limited = check(await http.post("/v1/chat/completions", json=CHAT, headers=bearer))
        assert (
            limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limit_exceeded"
        )
        refused = check(
            await http.post("/v1/messages", json=BODY, headers={"x-api-key": narrow_key})
        )
        assert refused.status_code == 403
        check(await http.post("/v1/messages", json=BODY, headers={"x-api-key": "lk-unknown"}))
        check(await http.get("/v1/models", headers={"x-api-key": narrow_key}))
    assert {200, 401, 403, 429} <= statuses(check)


# --------------------------------------------------------------------------- browsers, routing


async def test_browser_checks_answer_as_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["anthropic"])
    allowed = "https://ok.example"
    gw = await gateway(**provider_settings("anthropic", upstream),
                       **{"server.allowed_origins": [allowed]})  # fmt: skip
    async with client(gw.url) as http:
        evil = {"origin": "https://evil.example"}
        for path in ("/v1/messages", "/v1/chat/completions"):
            body = BODY if path == "/v1/messages" else CHAT
            assert check(await http.post(path, json=body, headers=evil)).status_code == 403
            preflight = {"origin": allowed, "access-control-request-method": "POST"}
            assert check(await http.options(path, headers=preflight)).status_code == 204
            assert check(await http.options(path, headers=evil)).status_code == 403
        cors = check(await http.post("/v1/messages", json=BODY, headers={"origin": allowed}))
        assert cors.headers["access-control-allow-origin"] == allowed
        check(await http.get("/health/live", headers={"host": "evil.example"}))
        check(await http.get("/v1/models", headers={"sec-fetch-site": "cross-site"}))
    assert {200, 204, 403} <= statuses(check)


async def test_routing_header_is_documented(gateway, fake, check) -> None:
    upstream = await fake(**FAMILIES["anthropic"])
    settings = {**provider_settings("anthropic", upstream), "routing.default": "anthropic/claude-x"}
    gw = await gateway(**settings)
    async with client(gw.url) as http:
        for path, body in (("/v1/messages", BODY), ("/v1/chat/completions", CHAT),
                           ("/v1/messages/count_tokens", BODY)):  # fmt: skip
            assert check(await http.post(path, json=body)).headers["x-lynkr-route"] == "default"


async def test_a_stalled_body_answers_as_documented(gateway, check) -> None:
    gw = await gateway(**{"server.body_timeout": 0.3})
    host, port = gw.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json"
                 b"\r\ncontent-length: 100\r\n\r\n{")  # fmt: skip
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    request = httpx.Request("POST", gw.url + "/v1/messages")
    status = int(lines[0].split()[1])
    check(httpx.Response(status, headers=headers, content=body, request=request))
    assert status == 408


def test_the_checker_refuses_what_the_document_does_not_say(check) -> None:
    """The checks above would catch a wrong answer: a missing field, an undeclared header,
    a status the operation does not list, an event named after another type."""
    request = httpx.Request("POST", "http://127.0.0.1/v1/messages")
    ok = {"request-id": "req_1", "x-lynkr-cache": "miss", "content-type": "application/json"}
    answer = message("hi", "m")
    check(httpx.Response(200, headers=ok, json=answer, request=request))
    wrong = [
        httpx.Response(200, headers=ok, json={**answer, "usage": {}}, request=request),
        httpx.Response(200, headers={**ok, "allow": "GET"}, json=answer, request=request),
        httpx.Response(200, headers={**ok, "x-lynkr-cache": "maybe"}, json=answer, request=request),
        httpx.Response(200, headers={"x-lynkr-cache": "miss"}, json=answer, request=request),
        httpx.Response(201, headers=ok, json=answer, request=request),
        httpx.Response(
            200,
            headers={**ok, "content-type": "text/event-stream"},
            content=b'event: ping\ndata: {"type": "message_stop"}\n\n',
            request=request,
        ),
    ]
    for resp in wrong:
        with pytest.raises(AssertionError):
            check(resp)


async def test_a_whole_float_max_tokens_is_that_integer(gateway, fake, check) -> None:
    """JSON Schema's integer 20 may be written 20.0 (schemathesis sends it so); the upstream
    gets 20. A fraction is still a 400."""
    upstream = await fake(**FAMILIES["anthropic"])
    gw = await gateway(**provider_settings("anthropic", upstream))
    async with client(gw.url) as http:
        assert check(await http.post("/v1/messages", json={**BODY, "max_tokens": 20.0})).is_success
        assert upstream.bodies[-1]["max_tokens"] == 20
        assert isinstance(upstream.bodies[-1]["max_tokens"], int)
        bad = check(await http.post("/v1/messages", json={**BODY, "max_tokens": 20.5}))
        assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("max_tokens")
