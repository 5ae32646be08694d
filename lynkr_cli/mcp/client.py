"""Talking to one MCP server through the official ``mcp`` SDK (stdio, streamable HTTP, SSE).

No JSON-RPC is written here: :func:`connect` picks the SDK transport for the
server's config, opens a ``ClientSession`` and initializes it. A stdio server's
stderr goes line by line to a callback (the structured log in the gateway), and it
inherits only the SDK's safe environment plus its own ``env``, never the gateway's
keys. :func:`probe` is the health check ``lynkr doctor`` and ``lynkr mcp start`` use.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import UpstreamError
from lynkr_cli.logs import get_logger, redact_text
from lynkr_cli.mcp.manifests import ServerConfig
from lynkr_cli.settings import Settings

if TYPE_CHECKING:
    from mcp.client.session import ClientSession

LineSink = Callable[[str], None]


class ToolCallRefused(UpstreamError):
    """The server answered ``tools/call`` with an error instead of a result (exit 4)."""

    def __init__(self, tool: str, reason: str) -> None:
        super().__init__(
            f"the MCP server refused the call of '{tool}': {reason}",
            hint="`lynkr mcp tools SERVER` lists the server's tools and their arguments.",
        )
        self.reason = reason


def stderr_logger(server: str) -> LineSink:
    """A sink that writes each stderr line of ``server`` to the structured log."""
    log = get_logger("lynkr.mcp", server=server)
    return lambda line: log.info("mcp.stderr", line=redact_text(line))


class _StderrPipe:
    """A real file descriptor for the child's stderr, drained by a thread into a sink."""

    def __init__(self, sink: LineSink) -> None:
        read_fd, write_fd = os.pipe()
        self.writer = os.fdopen(write_fd, "w")
        self._reader = os.fdopen(read_fd, "r", errors="replace")
        self._thread = threading.Thread(target=self._drain, args=(sink,), daemon=True)
        self._thread.start()

    def _drain(self, sink: LineSink) -> None:
        with self._reader:
            for line in self._reader:
                if line.strip():
                    sink(line.rstrip("\n"))

    def close(self) -> None:
        # Our copy of the write end; the thread ends when the child's copy closes too.
        self.writer.close()


def launch_argv(server: ServerConfig, settings: Settings, workspace: Path) -> list[str]:
    """The command line a stdio server runs with (docker-wrapped when sandboxed)."""
    if server.sandbox == "docker":
        from lynkr_cli.mcp import sandbox

        client = sandbox.ensure_engine()
        allow = settings.policy.tools_allow_write
        return sandbox.docker_argv(server, workspace, allow_write=allow, docker=client)
    if server.sandbox:
        from lynkr_cli.errors import ConfigError

        raise ConfigError(f"MCP server '{server.name}': unknown sandbox '{server.sandbox}'",
                          hint='The only sandbox is "docker".')  # fmt: skip
    return [server.command, *server.args]


async def _open_streams(
    stack: AsyncExitStack, server: ServerConfig, settings: Settings, workspace: Path,
    sink: LineSink,
) -> tuple[Any, Any]:  # fmt: skip
    if server.transport == "stdio":
        from mcp.client.stdio import StdioServerParameters, stdio_client

        # ensure_engine() runs `docker version`: keep that off the event loop.
        argv = await asyncio.to_thread(launch_argv, server, settings, workspace)
        pipe = _StderrPipe(sink)
        stack.callback(pipe.close)
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=server.env or None,
                                       cwd=server.cwd or str(workspace))  # fmt: skip
        streams = await stack.enter_async_context(stdio_client(params, errlog=pipe.writer))
        return streams[0], streams[1]
    if server.transport == "sse":
        from mcp.client.sse import sse_client

        streams = await stack.enter_async_context(sse_client(server.url, headers=server.headers))
        return streams[0], streams[1]
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    http = await stack.enter_async_context(create_mcp_http_client(headers=server.headers))
    streams = await stack.enter_async_context(streamable_http_client(server.url, http_client=http))
    return streams[0], streams[1]


@asynccontextmanager
async def connect(
    server: ServerConfig,
    settings: Settings,
    *,
    workspace: Path | None = None,
    stderr: LineSink | None = None,
) -> AsyncIterator[ClientSession]:
    """An initialized SDK session with ``server``; UpstreamError if it cannot start."""
    sink = stderr or stderr_logger(server.name)
    try:
        async with _session(server, settings, workspace, sink) as session:
            yield session
    except BaseExceptionGroup as group:
        # The SDK's task group wraps whatever the caller raised: give the caller its own.
        leaf = _only_exception(group)
        if leaf is group:
            raise
        raise leaf from None


@asynccontextmanager
async def _session(
    server: ServerConfig, settings: Settings, workspace: Path | None, sink: LineSink
) -> AsyncIterator[ClientSession]:
    from mcp.client.session import ClientSession

    timeout = settings.mcp.startup_timeout
    async with AsyncExitStack() as stack:
        try:
            # asyncio.timeout, not wait_for: the SDK's contexts must be entered in this task.
            async with asyncio.timeout(timeout):
                workdir = workspace or Path.cwd()
                read, write = await _open_streams(stack, server, settings, workdir, sink)
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
        except TimeoutError as exc:
            raise UpstreamError(
                f"MCP server '{server.name}' did not start within {timeout:g}s",
                hint="Check its command with `lynkr mcp start`, or raise MCP_STARTUP_TIMEOUT.",
            ) from exc
        except (OSError, ValueError) as exc:
            raise UpstreamError(f"MCP server '{server.name}' could not start: {exc}",
                                hint=_start_hint(server)) from exc  # fmt: skip
        yield session


def _only_exception(group: BaseExceptionGroup[Any]) -> BaseException:
    """The one exception inside nested single-member groups, or the group itself."""
    found: BaseException = group
    while isinstance(found, BaseExceptionGroup) and len(found.exceptions) == 1:
        found = found.exceptions[0]
    return found


def _start_hint(server: ServerConfig) -> str:
    if server.transport == "stdio":
        return f"Is '{server.command}' installed and on PATH? `lynkr mcp list` shows its source."
    return f"Is the server at {server.url} running?"


def tool_listing(tool: Any) -> dict[str, Any]:
    """One SDK tool as plain data: name, description, input schema."""
    return {"name": tool.name, "description": tool.description or "",
            "input_schema": tool.input_schema or {"type": "object", "properties": {}}}  # fmt: skip


async def list_tools(session: ClientSession, max_pages: int = 50) -> list[dict[str, Any]]:
    """Every tool of the server, following pagination (bounded)."""
    from mcp_types import PaginatedRequestParams

    tools: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools += [tool_listing(t) for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def result_text(result: Any) -> str:
    """The text of a CallToolResult: text blocks joined, other blocks described."""
    parts: list[str] = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} {getattr(block, 'mime_type', '')}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")
        else:
            parts.append(f"[{kind} content]")
    if not parts and getattr(result, "structured_content", None) is not None:
        import json

        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


async def call_tool(
    session: ClientSession, tool: str, args: dict[str, Any], timeout: float
) -> tuple[str, bool]:
    """Call one tool; ``(text, is_error)``. A tool-level error is a result, not an exception.

    A protocol-level refusal (an unknown tool, arguments the server rejects) raises
    :class:`ToolCallRefused` with the server's own message; the session stays usable.
    """
    from mcp.shared.exceptions import MCPError
    from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT

    try:
        async with asyncio.timeout(timeout):
            result = await session.call_tool(tool, args)
    except MCPError as exc:
        if exc.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
            raise  # the transport failed, not the call
        raise ToolCallRefused(tool, redact_text(exc.message)) from exc
    return result_text(result), bool(result.is_error)


@dataclass
class Probe:
    """The health of one server: did it start, how fast, which tools."""

    name: str
    ok: bool
    transport: str
    ms: float = 0.0
    tools: list[str] = field(default_factory=list)
    error: str | None = None
    stderr: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


async def probe(server: ServerConfig, settings: Settings, workspace: Path | None = None) -> Probe:
    """Start ``server``, list its tools, stop it. Never raises (doctor-friendly)."""
    lines: list[str] = []
    started = time.monotonic()
    report = Probe(server.name, False, server.transport)
    try:
        async with connect(server, settings, workspace=workspace, stderr=lines.append) as session:
            report.tools = [t["name"] for t in await list_tools(session)]
            report.ok = True
    except Exception as exc:  # report every failure; the caller decides what is fatal
        report.error = redact_text(getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")
    report.ms = round((time.monotonic() - started) * 1000, 1)
    report.stderr = [redact_text(line) for line in lines[-20:]]
    return report
