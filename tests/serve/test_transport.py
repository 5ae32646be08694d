"""The transport seam: the sender against a transport without sockets (MockTransport), and
every provider hook it calls; the project's own errors from each transport."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from lynkr_cli.serve.errors import ApiError
from lynkr_cli.serve.metrics import Metrics
from lynkr_cli.serve.providers.base import (
    Provider,
    ProviderConfig,
    ProviderError,
    Route,
    UpstreamError,
    UpstreamRequest,
)
from lynkr_cli.serve.transport import (
    ConnectError,
    ConnectTimeout,
    ProxyError,
    ReadError,
    RemoteProtocolError,
    Response,
    decoded,
)
from lynkr_cli.serve.transport_mock import MockResponse, MockTransport, chunks
from lynkr_cli.serve.upstream import Sender
from lynkr_cli.settings import ProviderSettings


def ok() -> MockResponse:
    return MockResponse(200, {"content-type": "application/json"}, b'{"type":"message"}')


class Plain(Provider):
    name = "plain"
    settings_model = ProviderConfig

    def url(self, route: Route) -> str:
        return "https://up.test/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": "k"}


class Signing(Plain):
    """Signs each attempt over the final headers; decodes; shapes its errors."""

    name = "signing"
    attempts = 0

    async def sign(self, req: UpstreamRequest, headers: dict[str, str]) -> None:
        type(self).attempts += 1
        if "fail" in req.url:
            raise ProviderError("no credentials: run `login`")
        headers["x-signature"] = f"{req.method} {sorted(headers)} {len(req.data)}"

    def decode_response(self, resp: Response, req: UpstreamRequest) -> Response:
        return decoded(resp, Upper(), "text/event-stream")

    def upstream_error(
        self, status: int, headers: Mapping[str, str], raw: bytes
    ) -> UpstreamError | None:
        if headers.get("x-own-error"):
            return UpstreamError(429, "rate_limit_error", raw.decode(), retry=True)
        return None


class Upper:
    def feed(self, data: bytes) -> bytes:
        return data.upper()

    def end(self) -> bytes:
        return b"<end>"


def sender(handler: Any, **settings: Any) -> tuple[Sender, MockTransport]:
    transport = MockTransport(handler)
    config = ProviderSettings(max_retries=2, retry_max_wait=0.01, **settings)
    return Sender(transport, config, Metrics(), "hop-1"), transport


def request(url: str = "https://up.test/v1/messages") -> UpstreamRequest:
    return UpstreamRequest(url, {"content-type": "application/json"}, b"{}", "anthropic")


def answers(*items: MockResponse | Exception) -> Any:
    queue = list(items)

    async def handler(method: str, url: str, headers: Any, data: bytes) -> MockResponse:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


async def test_retries_a_5xx_then_answers_with_the_hop_header() -> None:
    send, transport = sender(answers(MockResponse(503, {}, b"busy"), ok()))
    resp = await send.send(Plain(ProviderSettings()), request())
    assert await resp.read() == b'{"type":"message"}'
    assert len(transport.calls) == 2
    assert all(call[2]["x-lynkr-hop"] == "hop-1" for call in transport.calls)


@pytest.mark.parametrize(
    ("error", "calls", "status", "words"),
    [
        (ConnectError("cannot connect to https://up.test:443: refused"), 3, 502, "unreachable"),
        (ConnectTimeout("connecting to https://up.test took over 10s"), 3, 502, "took over"),
        (ReadError("the upstream closed the connection before answering"), 3, 502, "closed"),
        (RemoteProtocolError("bad status line"), 1, 502, "not valid HTTP/1.1"),
        (ProxyError("http://p:3128", "refused", "HTTP 407"), 1, 502, "provider.proxy"),
    ],
)
async def test_transport_errors_become_api_errors(
    error: Exception, calls: int, status: int, words: str
) -> None:
    """Connection failures are retried; a malformed answer (the upstream saw the request)
    and a proxy's refusal (its configuration) are not."""
    send, transport = sender(answers(error, error, error))
    with pytest.raises(ApiError) as info:
        await send.send(Plain(ProviderSettings()), request())
    assert len(transport.calls) == calls
    assert info.value.status == status and words in info.value.message


async def test_sign_runs_per_attempt_over_the_final_headers() -> None:
    Signing.attempts = 0
    send, transport = sender(answers(MockResponse(500, {}, b"x"), ok()))
    await send.send(Signing(ProviderSettings()), request())
    assert Signing.attempts == 2
    for _method, _url, headers, _data in transport.calls:
        assert "x-lynkr-hop" in headers["x-signature"]  # the gateway's headers were in


async def test_a_provider_error_while_signing_sends_nothing() -> None:
    send, transport = sender(answers(ok()))
    with pytest.raises(ApiError) as info:
        await send.send(Signing(ProviderSettings()), request("https://up.test/fail"))
    assert transport.calls == [] and info.value.status == 502
    assert "run `login`" in info.value.message
    assert info.value.headers["x-should-retry"] == "false"


async def test_decode_response_reads_the_body_through_the_decoder() -> None:
    stream = MockResponse(200, {"content-type": "x/frames"}, chunks(b"ab", b"cd"))
    send, _ = sender(answers(stream))
    resp = await send.send(Signing(ProviderSettings()), request())
    assert resp.content_type == "text/event-stream"
    assert await resp.read() == b"ABCD<end>"


async def test_a_cut_stream_raises_a_read_error_to_its_reader() -> None:
    cut = MockResponse(200, {}, chunks(b"data: {}\n\n", ReadError("connection reset")))
    send, _ = sender(answers(cut))
    resp = await send.send(Plain(ProviderSettings()), request())
    assert await resp.content.readany() == b"data: {}\n\n"
    with pytest.raises(ReadError):
        await resp.content.readany()


async def test_upstream_error_shapes_the_providers_own_errors() -> None:
    own = MockResponse(400, {"x-own-error": "1"}, b"quota exceeded")
    send, transport = sender(answers(own))
    with pytest.raises(ApiError) as info:
        await send.send(Signing(ProviderSettings()), request())
    assert len(transport.calls) == 1  # 400 is not a retry status: shaped, then raised
    assert info.value.status == 429 and info.value.error_type == "rate_limit_error"
    assert info.value.message == "upstream signing: quota exceeded"


async def test_once_is_one_attempt_at_any_status() -> None:
    send, transport = sender(answers(MockResponse(404, {}, b"none")))
    resp = await send.once(Signing(ProviderSettings()), request(), timeout=5)
    assert resp.status == 404 and len(transport.calls) == 1
    assert "x-signature" in transport.calls[0][2]  # probes are signed like requests
