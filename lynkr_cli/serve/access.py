"""The access log: one structured JSON line per request, cheap enough for the hot path.

It goes to the stream ``lynkr_cli.logs.configure`` set up, at ``info`` level (off
when the configured level is higher), in the shape the shared structlog chain
writes (``event``, ``level``, ``logger``, ``timestamp``), but without that chain:
it costs ~120 µs a line. Redaction is not needed because the fields are fixed and
never carry headers or bodies.

A request only appends a tuple to a buffer; the lines are rendered and written
together at most ``FLUSH_SECONDS`` later (and at shutdown), so a busy gateway
makes one ``write`` per batch and does the JSON work after the answers went out.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context

FLUSH_SECONDS = 0.05
MAX_BUFFERED = 256

# (ctx, method, path, elapsed seconds, wall-clock time)
Entry = tuple["Context", str, str, float, float]


def _line(entry: Entry) -> bytes:
    ctx, method, path, elapsed, wall = entry
    ttfb = ctx.ttfb
    return orjson.dumps(
        {
            "request_id": ctx.request_id,
            "method": method,
            "path": path,
            "status": ctx.status,
            "provider": ctx.provider,
            "client_model": ctx.client_model,
            "upstream_model": ctx.upstream_model,
            "latency_ms": round(elapsed * 1000, 2),
            "ttfb_ms": round(ttfb * 1000, 2) if ttfb is not None else None,
            # Not "*_tokens": the log redactor masks every key containing "token".
            "usage": {"input": ctx.input_tokens, "output": ctx.output_tokens},
            "cache": ctx.cache,
            "route": ctx.scenario or None,
            "error": ctx.error or None,
            "event": "request",
            "level": "info",
            "logger": "lynkr.access",
            "timestamp": _timestamp(wall),
        }
    )


def _text_line(entry: Entry) -> bytes:
    """One short human line, for a terminal: time, status, route, models, tokens, latency."""
    ctx, method, path, elapsed, wall = entry
    when = time.strftime("%H:%M:%S", time.localtime(wall))
    model = ctx.client_model or "-"
    if ctx.provider:
        upstream = ctx.upstream_model if ctx.upstream_model != ctx.client_model else ""
        model += f" -> {ctx.provider}" + (f"/{upstream}" if upstream else "")
    tokens = f"in {ctx.input_tokens} out {ctx.output_tokens}" if ctx.input_tokens else ""
    parts = [
        when,
        str(ctx.status),
        f"{method} {path}",
        model,
        tokens,
        f"{elapsed * 1000:.0f} ms",
        f"cache {ctx.cache}",
        f"route {ctx.scenario}" if ctx.scenario else "",
    ]
    line = "  ".join(p for p in parts if p)
    if ctx.error:
        line += f"  error: {ctx.error[:160]}"
    return line.encode()


_second: list[Any] = [-1, ""]  # the last whole second rendered, and its text


def _timestamp(wall: float) -> str:
    """``datetime.fromtimestamp(wall, UTC).isoformat()`` with microseconds, the date part
    rendered once a second (a third of the cost of a full line otherwise)."""
    second = int(wall)
    micro = round((wall - second) * 1_000_000)
    if micro == 1_000_000:
        second, micro = second + 1, 0
    if second != _second[0]:
        _second[0] = second
        _second[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{micro:06d}+00:00"


class AccessLog:
    """``add(ctx, method, path, elapsed)`` queues one ``request`` line; ``flush()`` at shutdown."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        import structlog

        if stream is None:
            configured = structlog.get_config()["logger_factory"]()
            stream = getattr(configured, "_file", None) or sys.stderr
        self.stream = stream
        probe = structlog.get_logger("lynkr.access").bind()  # the configured level's class
        is_enabled = getattr(probe, "is_enabled_for", None)
        self.enabled = bool(is_enabled(logging.INFO)) if callable(is_enabled) else True
        self.entries: list[Entry] = []
        self.scheduled = False
        from lynkr_cli import logs

        self.render = _text_line if logs.log_format == "text" else _line

    def add(self, ctx: Context, method: str, path: str, elapsed: float) -> None:
        if not self.enabled:
            return
        entries = self.entries
        entries.append((ctx, method, path, elapsed, time.time()))
        if len(entries) >= MAX_BUFFERED:
            self.flush()
        elif not self.scheduled:
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
                self.scheduled = True
            except RuntimeError:  # no loop (a test calling directly): write now
                self.flush()

    def flush(self) -> None:
        self.scheduled = False
        if not self.entries:
            return
        entries, self.entries = self.entries, []
        render = self.render
        text = b"\n".join([render(e) for e in entries]).decode("utf-8", "replace") + "\n"
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stderr must not take the gateway down
            pass
