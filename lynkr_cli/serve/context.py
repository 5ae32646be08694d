"""One request's context: what the access log, metrics and the team gateway need to know
about it, its id, and how its answer ends early (an ``error`` frame in its client's format).

Below ``state`` (the gateway's long-lived state) and ``respond`` (writing answers), which
both use it; it imports neither.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

    from lynkr_cli.serve.errors import ApiError


@dataclass(slots=True)
class Context:
    """What the access log and metrics need to know about one request."""

    request_id: str
    route: str
    started: float = field(default_factory=time.perf_counter)
    ttfb: float | None = None
    provider: str = ""
    client_model: str = ""
    upstream_model: str = ""
    cache: str = "bypass"
    status: int = 200
    input_tokens: int = 0
    output_tokens: int = 0
    error: str = ""
    body_bytes: int = 0
    openai: bool = False  # an OpenAI-format route: errors in OpenAI's shape
    usage_doc: dict[str, Any] | None = None  # the answer's usage as reported, field by field
    principal: Any = None  # the caller's team.Principal, when the team gateway is active
    admission: Any = None  # the team.Admission charged for this request
    body: Any = None  # the request body, kept for a full audit record
    answer: Any = None  # the answer Message, kept for a full audit record
    guard_findings: dict[str, int] = field(default_factory=dict)
    scenario: str = ""  # the [routing] scenario that chose the upstream ("" without [routing])
    tool_rounds: int = 0  # upstream calls the server-tool loop made (0: no loop)
    extra: dict[str, str] | None = None  # headers every answer carries (CORS, …)
    # The admission whose rate-limit headers every answer from here on carries: written
    # as pre-rendered lines by respond.json_response/open_sse, merged by headers().
    rate: Any = None
    sse: Any = None  # the open SSE answer, once a stream has begun (respond.open_sse)

    def first_byte(self) -> None:
        if self.ttfb is None:
            self.ttfb = time.perf_counter() - self.started

    def usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        doc = self.usage_doc
        if doc is None:
            self.usage_doc = dict(usage)
        else:
            for key, value in usage.items():
                old = doc.get(key)
                if not isinstance(value, int) or not isinstance(old, int) or value > old:
                    doc[key] = value
        get = usage.get
        total_in = (
            (get("input_tokens") or 0)
            + (get("cache_read_input_tokens") or 0)
            + (get("cache_creation_input_tokens") or 0)
        )
        if isinstance(total_in, int) and total_in > self.input_tokens:
            self.input_tokens = total_in
        out = get("output_tokens") or 0
        if isinstance(out, int) and out > self.output_tokens:
            self.output_tokens = out

    def add_header(self, name: str, value: str) -> None:
        """A header every answer to this request carries (errors included)."""
        if self.extra is None:
            self.extra = {name: value}
        else:
            self.extra[name] = value

    def headers(self) -> dict[str, str]:
        headers = {"request-id": self.request_id, "x-lynkr-cache": self.cache}
        if self.extra:
            headers.update(self.extra)
        if self.rate is not None:
            headers.update(self.rate.headers())
        return headers

    def take_rate_headers(self) -> dict[str, str]:
        """The rate-limit headers taken out of :attr:`rate` (a copy) for a route that
        puts them in :attr:`extra` itself, with names derived from them."""
        rate: dict[str, str] = {} if self.rate is None else dict(self.rate.headers())
        self.rate = None
        return rate


_ID_PREFIX = "req_lynkr_" + secrets.token_hex(6)
_ids = itertools.count(1)


def new_request_id() -> str:
    """Unique per process run: a random prefix and a counter (cheaper than 12 random bytes)."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


def error_frame_for(ctx: Context, exc: ApiError) -> bytes:
    """The SSE frame that ends ``ctx``'s stream with ``exc``, in its client's format."""
    if ctx.openai:
        from lynkr_cli.serve.translate import error_frame

        return error_frame(exc.error_type, exc.message)
    from lynkr_cli.serve.sse import encode

    return encode(exc.event())


async def end_stream(resp: web.StreamResponse, frame: bytes) -> None:
    """End an SSE answer with ``frame`` (an ``error``), whoever is writing to it.

    Called from outside the request's handler (at shutdown, or after a bug), it writes
    the event as one frame between the handler's own writes, then the end of the body,
    and turns every later write into a no-op, so the client sees a whole ``error``
    event last and never a cut frame.
    """
    if getattr(resp, "_lynkr_ended", False) or resp.prepared is False:
        return
    resp._lynkr_ended = True  # type: ignore[attr-defined]
    write, write_eof = resp.write, resp.write_eof
    resp.write = _nothing  # type: ignore[method-assign]
    resp.write_eof = _nothing  # type: ignore[method-assign]
    try:
        await write(frame)
        await write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client left, or the body had already ended


async def _nothing(data: Any = b"") -> None:
    return None
