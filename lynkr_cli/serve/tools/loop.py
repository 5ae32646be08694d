"""The server-side tool loop: offer server tools, run the ones the model calls, continue.

``run_loop(body, call_upstream, settings)`` yields ONE Anthropic event stream to the
client however many upstream calls it takes:

- one ``message_start`` (the first upstream's), content block indices renumbered
  across steps, and one final ``message_delta`` (usage summed over steps) and
  ``message_stop``;
- text and thinking blocks stream through as they arrive; ``tool_use`` blocks for
  server tools are held back and never reach the client, while a client's own tools
  (``tools_mode = "always"`` with client tools) stream through as usual;
- while tools run, ``ping`` events keep a streaming client's connection alive;
- the upstream always receives each server ``tool_use`` with its ``tool_result``;
- reaching ``max_steps`` / ``max_tool_calls`` / ``max_seconds`` ends the turn with a
  text block saying so and ``stop_reason: end_turn``, never a hang.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from lynkr_cli.logs import get_logger
from lynkr_cli.serve.tools.toolbox import Toolbox, build_toolbox
from lynkr_cli.serve.translate.events import apply_delta
from lynkr_cli.settings import Settings

Event = dict[str, Any]
CallUpstream = Callable[[dict[str, Any]], AsyncIterator[Event]]


def log() -> Any:
    # Looked up per call: a logger bound at import would miss the later logs.configure().
    return get_logger("lynkr.tools.loop")


async def shutdown() -> None:
    """Stop what the tools started for the gateway (its MCP servers); the gateway's stop."""
    from lynkr_cli.mcp import api

    await api.shutdown()


def should_offer(body: dict[str, Any], settings: Settings, mode: str | None = None) -> bool:
    """Whether server tools are offered for this request under ``gateway.tools_mode``."""
    mode = mode or settings.gateway.tools_mode
    if mode == "never":
        return False
    if mode == "always":
        return True
    return not body.get("tools") and not _tool_free_by_design(body)


def _tool_free_by_design(body: dict[str, Any]) -> bool:
    """Requests that must stay tool-free even without client tools (``auto`` mode).

    A structured-output request (``output_config.format``), an explicit
    ``tool_choice: none``, and Claude Code's own tool-less side requests (its session
    title; recognised by the billing header it puts first in ``system``) would change
    meaning if the gateway added tools.
    """
    output = body.get("output_config")
    if isinstance(output, dict) and output.get("format"):
        return True
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "none":
        return True
    system = body.get("system")
    first = system[0] if isinstance(system, list) and system else system
    text = first.get("text", "") if isinstance(first, dict) else str(first or "")
    return text.startswith("x-anthropic-billing-header:")


@dataclass
class _Step:
    """What one upstream call produced."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    server_calls: list[dict[str, Any]] = field(default_factory=list)
    client_calls: int = 0
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    errored: bool = False
    # upstream block index -> client index (None: held back) and blocks being assembled
    index_map: dict[int, int | None] = field(default_factory=dict)
    building: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Turn:
    """State across steps: the output block counter, usage, limits."""

    started: bool = False
    next_index: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    tool_calls: int = 0
    t0: float = field(default_factory=time.monotonic)

    def add_usage(self, usage: dict[str, Any]) -> None:
        for key, value in usage.items():
            if isinstance(value, int) and not isinstance(value, bool):
                self.usage[key] = self.usage.get(key, 0) + value


async def run_loop(
    body: dict[str, Any],
    call_upstream: CallUpstream,
    settings: Settings,
    *,
    toolbox: Toolbox | None = None,
    report: dict[str, int] | None = None,
    mode: str | None = None,
) -> AsyncIterator[Event]:
    """Run the request with server tools; yield the client's Anthropic event stream.

    ``report``, when given, is kept up to date with ``steps`` (upstream calls) and
    ``tool_calls`` (server tools run): the gateway caches an answer only when no tool ran.
    """
    if not should_offer(body, settings, mode):
        async for event in call_upstream(body):
            yield event
        return
    box = toolbox if toolbox is not None else await build_toolbox(settings)
    request = _with_tools(body, box)
    client_tools = {t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)}
    turn = _Turn()
    if report is None:
        report = {}
    while True:
        step = _Step()
        turn.steps += 1
        report["steps"] = turn.steps
        async for event in _stream_step(request, call_upstream, step, turn, client_tools):
            yield event
        turn.add_usage(step.usage)
        if step.errored:
            return
        if not (step.server_calls and not step.client_calls and step.stop_reason == "tool_use"):
            async for event in _finish(turn, step.stop_reason, step.stop_sequence, body):
                yield event
            return
        limit = _limit_reached(turn, step, settings)
        if limit is not None:
            log().info("tools.limit", reason=limit, steps=turn.steps, tool_calls=turn.tool_calls)
            async for event in _explain_and_finish(turn, limit, body):
                yield event
            return
        results: list[dict[str, Any]] = []
        report["tool_calls"] = turn.tool_calls + len(step.server_calls)
        async for event in _run_calls(box, step.server_calls, settings, turn, results):
            yield event
        request = _continue(request, step, results)


def _with_tools(body: dict[str, Any], box: Toolbox) -> dict[str, Any]:
    request = dict(body)
    # Client tools keep precedence: a server tool never shadows a client tool's name.
    # Server tools go last, so a client's cache_control breakpoint on its tools still
    # covers the same prefix and prompt caching keeps working.
    client = list(body.get("tools") or [])
    names = {t.get("name") for t in client if isinstance(t, dict)}
    request["tools"] = client + [d for d in box.definitions() if d["name"] not in names]
    if not request["tools"]:
        request.pop("tools")
        request.pop("tool_choice", None)
    request["messages"] = list(body.get("messages") or [])
    return request


# --------------------------------------------------------------------------- one step


async def _stream_step(
    request: dict[str, Any],
    call_upstream: CallUpstream,
    step: _Step,
    turn: _Turn,
    client_tools: set[Any],
) -> AsyncIterator[Event]:
    index_map, building = step.index_map, step.building
    async for event in call_upstream(request):
        kind = event.get("type")
        if kind == "message_start":
            step.usage.update(event.get("message", {}).get("usage") or {})
            if not turn.started:
                turn.started = True
                yield event
        elif kind == "content_block_start":
            async for out in _block_start(event, turn, client_tools, step):
                yield out
        elif kind == "content_block_delta":
            idx = int(event.get("index", 0))
            _apply_delta(building.get(idx), event.get("delta") or {})
            if index_map.get(idx) is not None:
                yield {**event, "index": index_map[idx]}
        elif kind == "content_block_stop":
            idx = int(event.get("index", 0))
            _close_block(building.pop(idx, None), step, client_tools)
            if index_map.get(idx) is not None:
                yield {**event, "index": index_map[idx]}
        elif kind == "message_delta":
            delta = event.get("delta") or {}
            step.stop_reason = delta.get("stop_reason", step.stop_reason)
            step.stop_sequence = delta.get("stop_sequence", step.stop_sequence)
            step.usage.update(event.get("usage") or {})
        elif kind == "message_stop":
            continue
        elif kind == "error":
            step.errored = True
            if not turn.started:
                turn.started = True
            yield event
            return
        else:
            yield event  # ping and any event type we do not know: clients ignore unknowns


async def _block_start(
    event: Event, turn: _Turn, client_tools: set[Any], step: _Step
) -> AsyncIterator[Event]:
    index_map, building = step.index_map, step.building
    idx = int(event.get("index", 0))
    block = copy.deepcopy(event.get("content_block") or {})
    building[idx] = block
    if block.get("type") == "tool_use":
        block["_json"] = ""
        if block.get("name") not in client_tools:
            index_map[idx] = None  # a server tool call: held back from the client
            return
        step.client_calls += 1
    index_map[idx] = turn.next_index
    turn.next_index += 1
    yield {**event, "index": index_map[idx]}


def _apply_delta(block: dict[str, Any] | None, delta: dict[str, Any]) -> None:
    if block is None:
        return
    fragment = apply_delta(block, delta)
    if fragment is not None:
        block["_json"] = block.get("_json", "") + fragment


def _close_block(block: dict[str, Any] | None, step: _Step, client_tools: set[Any]) -> None:
    if block is None:
        return
    if block.get("type") == "tool_use":
        raw = block.pop("_json", "")
        try:
            block["input"] = json.loads(raw) if raw.strip() else (block.get("input") or {})
        except json.JSONDecodeError:
            # Keep the raw text so the tool result can tell the model what was wrong.
            block["input"] = {}
            block["_bad_json"] = raw
        if block.get("name") not in client_tools:
            step.server_calls.append(block)
    if block.get("type") == "text" and not block.get("text"):
        return  # the API rejects empty text blocks in a later request's history
    step.blocks.append(block)


# --------------------------------------------------------------------------- tools


def _limit_reached(turn: _Turn, step: _Step, settings: Settings) -> str | None:
    gw = settings.gateway
    names = ", ".join(sorted({str(c.get("name")) for c in step.server_calls}))
    if turn.steps >= gw.max_steps:
        return (
            f"Stopped: the tool loop reached its limit of {gw.max_steps} model steps "
            f"(gateway.max_steps, LYNKR_TOOLS_MAX_STEPS) before the model finished; "
            f"it still wanted to call {names}."
        )
    if turn.tool_calls + len(step.server_calls) > gw.max_tool_calls:
        return (
            f"Stopped: running {names} would exceed the limit of {gw.max_tool_calls} tool "
            f"calls per request (gateway.max_tool_calls, LYNKR_TOOLS_MAX_CALLS)."
        )
    elapsed = time.monotonic() - turn.t0
    if elapsed >= gw.max_seconds:
        return (
            f"Stopped: the tool loop ran for {elapsed:.0f}s, past its limit of "
            f"{gw.max_seconds:g}s (gateway.max_seconds, LYNKR_TOOLS_MAX_SECONDS)."
        )
    return None


async def _run_calls(
    box: Toolbox,
    calls: list[dict[str, Any]],
    settings: Settings,
    turn: _Turn,
    results: list[dict[str, Any]],
) -> AsyncIterator[Event]:
    """Run every call concurrently, yielding pings until all are done; fill ``results``."""
    remaining = max(0.1, settings.gateway.max_seconds - (time.monotonic() - turn.t0))
    timeout = min(settings.gateway.tool_timeout, remaining)
    turn.tool_calls += len(calls)
    tasks = [asyncio.create_task(_run_one(box, call, timeout)) for call in calls]
    try:
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=settings.server.ping_interval)
            if pending:
                yield {"type": "ping"}
    finally:
        for task in tasks:
            task.cancel()
    for call, task in zip(calls, tasks, strict=True):
        text, is_error = task.result()
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call["id"],
                                  "content": text or "(no output)"}  # fmt: skip
        if is_error:
            result["is_error"] = True
        results.append(result)


async def _run_one(box: Toolbox, call: dict[str, Any], timeout: float) -> tuple[str, bool]:
    name = str(call.get("name"))
    if "_bad_json" in call:
        return f"the input for {name} was not valid JSON: {call['_bad_json'][:200]!r}", True
    started = time.monotonic()
    text, is_error = await box.run(name, call.get("input"), timeout)
    log().info("tool.call", tool=name, is_error=is_error, chars=len(text),
             ms=round((time.monotonic() - started) * 1000))  # fmt: skip
    return text, is_error


def _continue(
    request: dict[str, Any], step: _Step, results: list[dict[str, Any]]
) -> dict[str, Any]:
    assistant = [{k: v for k, v in b.items() if not k.startswith("_")} for b in step.blocks]
    messages = [
        *request["messages"],
        {"role": "assistant", "content": assistant},
        {"role": "user", "content": results},
    ]
    return {**request, "messages": messages}


# --------------------------------------------------------------------------- ending


async def _explain_and_finish(turn: _Turn, text: str, body: dict[str, Any]) -> AsyncIterator[Event]:
    index = turn.next_index
    turn.next_index += 1
    if not turn.started:
        turn.started = True
        yield _message_start(body)
    yield {"type": "content_block_start", "index": index,
           "content_block": {"type": "text", "text": ""}}  # fmt: skip
    yield {"type": "content_block_delta", "index": index,
           "delta": {"type": "text_delta", "text": text}}  # fmt: skip
    yield {"type": "content_block_stop", "index": index}
    async for event in _finish(turn, "end_turn", None, body):
        yield event


async def _finish(
    turn: _Turn, stop_reason: str | None, stop_sequence: str | None, body: dict[str, Any]
) -> AsyncIterator[Event]:
    if not turn.started:
        turn.started = True
        yield _message_start(body)
    usage = {"input_tokens": 0, "output_tokens": 0, **turn.usage}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason or "end_turn", "stop_sequence": stop_sequence},
        "usage": usage,
    }
    yield {"type": "message_stop"}


def _message_start(body: dict[str, Any]) -> Event:
    import uuid

    return {
        "type": "message_start",
        "message": {
            "id": f"msg_lynkr_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
            "content": [], "model": body.get("model", ""), "stop_reason": None,
            "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0},
        },
    }  # fmt: skip
