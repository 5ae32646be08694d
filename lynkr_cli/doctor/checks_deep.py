"""The ``--deep`` probes that send real requests and so cost (a few) tokens.

- :func:`provider_request`: a 1-token ``/v1/messages`` call through the configured
  provider, with the gateway's own code (credentials, translation, proxy), so a key
  the upstream rejects (401/403) is a ``fail`` with the setting to fix, where a bare
  reachability probe would call any HTTP answer ok.
- :func:`stream_buffering`: a short streamed answer through the path Claude Code uses
  (its effective ``ANTHROPIC_BASE_URL``, through its proxy), or, when Claude Code is
  not pointed anywhere, through lynkr's provider path. A proxy that buffers (nginx
  with ``proxy_buffering on``, some corporate proxies) delivers every event at once
  at the end, and Claude Code shows nothing until then or times out: ``fail``.

How "at once" is told apart from "spread out": text deltas whose arrival times are
within :data:`BURST_GAP` of each other came in one burst (one read, or reads with no
wait between them). A model streaming even 500 tokens a second leaves 2 ms between
deltas, so a live stream is about one burst per delta; a buffered one is a burst or
two in all. The path buffers when the bursts hold :data:`PER_BURST` deltas or more
on average.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lynkr_cli.console import plural
from lynkr_cli.registry import CheckResult

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context
    from lynkr_cli.settings import Settings

PING = {"max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]}
COUNT = {
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "Count from 1 to 40, one number per line."}],
}
MIN_DELTAS = 5  # fewer text deltas cannot tell a stream from a burst
BURST_GAP = 0.002  # seconds: deltas closer than this came in one burst
PER_BURST = 4  # deltas per burst, on average, from which the path buffers
BUFFERING_FIX = (
    "Something between Claude Code and the model holds the stream until it is complete: "
    "turn response buffering off for this route (nginx: `proxy_buffering off;`, or the "
    "header `X-Accel-Buffering: no`), or exempt the host from the corporate proxy (NO_PROXY)."
)


@dataclass
class Stream:
    """When each text delta of one streamed answer arrived (``time.perf_counter``)."""

    started: float = field(default_factory=time.perf_counter)
    deltas: list[float] = field(default_factory=list)
    first_event: float | None = None
    status: int | None = None  # an HTTP error status, when the call was refused
    error: str | None = None

    def event(self, kind: str) -> None:
        now = time.perf_counter()
        if self.first_event is None:
            self.first_event = now
        if kind == "content_block_delta":
            self.deltas.append(now)

    def ms(self, moment: float | None) -> float | None:
        return None if moment is None else round((moment - self.started) * 1000, 1)


def bursts(times: list[float], gap: float = BURST_GAP) -> list[int]:
    """Sizes of the runs of arrival times that follow each other within ``gap``."""
    sizes: list[int] = []
    previous: float | None = None
    for moment in times:
        if previous is None or moment - previous > gap:
            sizes.append(0)
        sizes[-1] += 1
        previous = moment
    return sizes


# --------------------------------------------------------------------------- the provider path


async def _through_gateway(settings: Settings, body: dict[str, Any], timeout: float) -> Any:
    """Send ``body`` with the gateway's own code; (Stream, Target)."""
    from lynkr_cli.serve.api import ProviderFailed, open_gateway

    stream = Stream()
    async with open_gateway(settings) as gw:
        try:
            async with asyncio.timeout(timeout):
                async for event in gw.stream(body):
                    stream.event(str(event.get("type")))
                    if event.get("type") == "error":
                        error = event.get("error") or {}
                        stream.error = str(error.get("message", "error event"))
        except ProviderFailed as exc:
            stream.status, stream.error = exc.status, exc.detail
        except TimeoutError:
            stream.error = f"no complete answer within {timeout:g}s"
    return stream, gw.target


def provider_request(settings: Settings, timeout: float) -> CheckResult:
    """The ``upstream`` check's --deep half: does a real 1-token request get an answer?"""
    from lynkr_cli.errors import ConfigError

    try:
        stream, target = asyncio.run(_through_gateway(settings, PING, timeout))
    except ConfigError as exc:
        return CheckResult.fail("upstream", exc.message, "`lynkr config show` shows the settings.")
    where = f"{target.provider} (model {target.upstream_model})"
    if stream.error is None:
        took = stream.ms(stream.first_event)
        return CheckResult.ok(
            "upstream", f"a 1-token request through {where} answered in {took} ms"
        )
    status = stream.status
    details = {"http_status": status, "provider": target.provider}
    if status in (401, 403):
        fix = (
            f"Set a valid key in {target.credential_setting} (`lynkr config show` says "
            "where the current one comes from), then rerun `lynkr doctor --deep`."
        )
        return CheckResult.fail("upstream", stream.error, fix, **details)
    if status == 429:
        return CheckResult.warn(
            "upstream", stream.error, "Wait, or raise the rate limit.", **details
        )
    fix = "Check the model name (LYNKR_MODEL, provider.model_map) and the provider's endpoint."
    summary = f"a 1-token request through {where} failed: {stream.error}"
    return CheckResult.fail("upstream", summary, fix, **details)


# --------------------------------------------------------------------------- Claude Code's path


def _claude_stream(ctx: Context, url: str, timeout: float) -> Stream:
    """Stream :data:`COUNT` from Claude Code's base URL with Claude Code's key and proxy."""
    import httpx

    from lynkr_cli.switch import api as switch

    seen = switch.effective(ctx.environ, ctx.cwd)
    headers = {"anthropic-version": switch.ANTHROPIC_VERSION, "content-type": "application/json"}
    if "ANTHROPIC_AUTH_TOKEN" in seen:
        headers["authorization"] = f"Bearer {seen['ANTHROPIC_AUTH_TOKEN'][0]}"
    elif "ANTHROPIC_API_KEY" in seen:
        headers["x-api-key"] = seen["ANTHROPIC_API_KEY"][0]
    model = seen.get("ANTHROPIC_MODEL", (switch.PROBE_MODEL, ""))[0]
    body = {"model": model, "stream": True, **COUNT}
    stream = Stream()
    target = url.rstrip("/") + "/v1/messages"
    limits = httpx.Timeout(timeout, connect=timeout)
    try:
        with (
            httpx.Client(timeout=limits, trust_env=True) as client,
            client.stream("POST", target, headers=headers, json=body) as response,
        ):
            if response.status_code >= 400:
                stream.status = response.status_code
                stream.error = f"HTTP {response.status_code}: {response.read()[:300].decode()}"
                return stream
            _read_sse(response.iter_lines(), stream, time.perf_counter() + timeout * 10)
    except httpx.HTTPError as exc:
        stream.error = f"{type(exc).__name__}: {exc}"
    return stream


def _read_sse(lines: Any, stream: Stream, deadline: float) -> None:
    for line in lines:
        if not line.startswith("data:"):
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue
        stream.event(str(event.get("type")))
        if event.get("type") == "error":
            stream.error = str((event.get("error") or {}).get("message", "error event"))
        if event.get("type") == "message_stop" or time.perf_counter() > deadline:
            return


def stream_buffering(ctx: Context) -> CheckResult:
    """Do stream events reach Claude Code as they are made, or all at once at the end?"""
    from lynkr_cli.switch import api as switch

    seen = switch.effective(ctx.environ, ctx.cwd)
    settings = ctx.settings()
    if "ANTHROPIC_BASE_URL" in seen:
        url, source = seen["ANTHROPIC_BASE_URL"]
        where = f"Claude Code's {url} ({source})"
        stream = _claude_stream(ctx, url, max(ctx.timeout, 10.0))
    elif settings is not None and settings.provider.name:
        where = f"lynkr's provider {settings.provider.name}"
        try:
            stream = asyncio.run(_through_gateway(settings, COUNT, max(ctx.timeout, 10.0)))[0]
        except Exception as exc:  # a configuration problem: the upstream check says which
            return CheckResult.skip("stream-buffering", f"cannot stream through {where}: {exc}")
    else:
        return CheckResult.skip(
            "stream-buffering", "Claude Code and lynkr have nowhere to stream from"
        )
    return _judge(stream, where)


def _judge(stream: Stream, where: str) -> CheckResult:
    runs = bursts(stream.deltas)
    timing: dict[str, Any] = {"deltas": len(stream.deltas), "bursts": len(runs)}
    if stream.error is not None:
        fix = (
            "The key Claude Code sends is refused: fix ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN "
            "(`lynkr switch` writes them)."
            if stream.status in (401, 403)
            else "See the claude-target and upstream checks."
        )
        summary = f"streaming through {where} failed: {stream.error}"
        return CheckResult.fail(
            "stream-buffering", summary, fix, http_status=stream.status, **timing
        )
    if len(stream.deltas) < MIN_DELTAS:
        summary = (
            f"the answer through {where} was too short to judge ({len(stream.deltas)} text events)"
        )
        return CheckResult.skip("stream-buffering", summary, **timing)
    spread = round((stream.deltas[-1] - stream.deltas[0]) * 1000, 1)
    first = stream.ms(stream.deltas[0])
    if len(stream.deltas) >= PER_BURST * len(runs):
        summary = (
            f"the {len(stream.deltas)} stream events through {where} arrived all at once "
            f"({plural(len(runs), 'burst')} within {spread} ms, {first} ms after the "
            "request): the path buffers the stream"
        )
        return CheckResult.fail(
            "stream-buffering", summary, BUFFERING_FIX, spread_ms=spread, **timing
        )
    summary = (
        f"{len(stream.deltas)} stream events through {where} arrived spread over {spread} ms "
        f"(first after {first} ms)"
    )
    return CheckResult.ok("stream-buffering", summary, spread_ms=spread, **timing)
