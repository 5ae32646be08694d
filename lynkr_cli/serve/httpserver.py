"""The HTTP server under the gateway: aiohttp's low-level server, made safe for clients.

- **Errors aiohttp answers itself** (a malformed request line, a bad header, an
  oversized head) come back in Anthropic's error shape instead of plain text, and are
  logged as one line, never a traceback.
- **Slow and idle clients** are bounded: a connection that sends no complete request
  head within ``server.head_timeout`` (after connecting, or after its last answer) is
  closed (aiohttp's keep-alive timer, which also runs before the first request); a
  stalled body is a 408 (``pipeline.read_body``).
- **A cap on connections** (``server.max_connections``): one past it is answered 503
  with ``overloaded_error`` and closed, before any request is read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from lynkr_cli.logs import get_logger
from lynkr_cli.serve.errors import scrub
from lynkr_cli.settings import ServerSettings

MAX_HEAD_LINE = 16 * 1024  # request line and each header field, bytes
MAX_HEADERS = 128


def _json_error(status: int, error_type: str, message: str) -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": error_type, "message": message}, "request_id": None}
    )


class GatewayRequestHandler(RequestHandler):
    """aiohttp's connection handler with Anthropic-shaped parse errors and one-line logs."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        reason = message or (str(exc) if exc is not None else "") or "bad request"
        reason = scrub(" ".join(reason.split()))  # one line, and never a credential
        get_logger("lynkr.serve").info("http.refused", status=status, reason=reason[:200])
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had already begun")
        error_type = "invalid_request_error" if status < 500 else "api_error"
        text = f"malformed HTTP request: {reason[:200]}" if status < 500 else "internal error"
        resp = web.Response(
            status=status,
            body=_json_error(status, error_type, text),
            content_type="application/json",
        )
        resp.force_close()
        return resp

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        detail = repr(exc) if isinstance(exc, BaseException) else (str(args[0]) if args else "")
        log = get_logger("lynkr.serve")
        if isinstance(exc, RequestPayloadError | HttpProcessingError):
            # The client's body, read again after its 400 went out: nothing new to report.
            log.info("http.refused", detail=scrub(detail[:300]))
            return
        log.warning("http.error", detail=scrub(detail[:300]))


_OVERLOADED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"connection: close\r\nretry-after: 1\r\nx-should-retry: true\r\ncontent-length: %d\r\n\r\n"
)


class GatewayServer(web.Server):
    """``web.Server`` with the handler above, the head timeout and the connection cap."""

    def __init__(
        self,
        handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
        settings: ServerSettings,
    ) -> None:
        loop = asyncio.get_running_loop()
        limit = settings.max_body_bytes

        def make_request(
            message: Any, payload: Any, protocol: Any, writer: Any, task: Any
        ) -> web.BaseRequest:
            return web.BaseRequest(
                message, payload, protocol, writer, task, loop, client_max_size=limit
            )

        super().__init__(
            handler,
            request_factory=make_request,
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=settings.head_timeout,
            max_line_size=MAX_HEAD_LINE,
            max_field_size=MAX_HEAD_LINE,
            max_headers=MAX_HEADERS,
            lingering_time=1.0,
        )
        self.max_connections = settings.max_connections
        body = _json_error(
            503,
            "overloaded_error",
            f"lynkr has {settings.max_connections} connections open "
            "(server.max_connections, LYNKR_MAX_CONNECTIONS); retry shortly",
        )
        self._refusal = (_OVERLOADED % len(body)) + body
        self.refused = 0

    def __call__(self) -> RequestHandler:
        return GatewayRequestHandler(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        if len(self._connections) >= self.max_connections:
            self.refused += 1
            transport.write(self._refusal)
            handler.force_close()  # closes the transport once the refusal is flushed
            return
        super().connection_made(handler, transport)
