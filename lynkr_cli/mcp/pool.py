"""MCP servers inside the gateway: started on first use, kept up, restarted, shut down.

Each server gets one supervisor task that owns its SDK session (anyio needs the
session entered and exited in the same task). Callers from request handlers use the
session concurrently. A health ping every ``mcp.health_interval`` seconds, or a failed
call, marks the server dead; the supervisor restarts it with exponential backoff.
A server that cannot start is reported (``status()``, ``lynkr doctor``) and its
tools are simply missing: it never takes the gateway down.

The gateway calls :func:`shutdown` on exit (serve's ``on_cleanup``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.logs import get_logger, redact_text
from lynkr_cli.mcp import client
from lynkr_cli.mcp.manifests import ServerConfig, discover
from lynkr_cli.mcp.tools import McpTool
from lynkr_cli.settings import Settings

if TYPE_CHECKING:
    from mcp.client.session import ClientSession

BACKOFF_START = 0.5
BACKOFF_MAX = 30.0


def log() -> Any:
    # Looked up per call: a logger bound at import would miss the later logs.configure().
    return get_logger("lynkr.mcp.pool")


@dataclass
class _Server:
    config: ServerConfig
    session: ClientSession | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    state: str = "stopped"  # stopped | starting | up | backoff | failed
    error: str | None = None
    restarts: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dead: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    retry_at: float = 0.0


class McpPool:
    """The gateway's MCP servers."""

    def __init__(self, settings: Settings, workspace: Path | None = None) -> None:
        self.settings = settings
        self.workspace = workspace or Path.cwd()
        self.servers: dict[str, _Server] = {}
        self._discovered = False
        self._closing = False
        self.loop = asyncio.get_running_loop()

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        found = discover(self.settings, self.workspace)
        for problem in found.problems:
            log().warning("mcp.manifest_problem", problem=problem)
        for name, config in found.servers.items():
            if not config.disabled:
                self.servers[name] = _Server(config)

    def configured(self) -> bool:
        self._discover()
        return bool(self.servers)

    async def list_tools(self) -> list[McpTool]:
        """Tools of every server that is (or can be brought) up; failures are skipped."""
        self._discover()
        names = list(self.servers)
        # Only the first use waits for start-up; later requests never wait on a server that
        # is failing or restarting (a restarting server's last tools stay offered, and a
        # call to one waits for the restart).
        first = [n for n in names if self.servers[n].task is None]
        await asyncio.gather(*(self._ensure(n) for n in first), return_exceptions=True)
        tools: list[McpTool] = []
        for name in names:
            srv = self.servers[name]
            offered = srv.tools if srv.state in ("up", "restarting", "starting") else []
            for t in offered:
                tools.append(McpTool(name, t["name"], t["description"], t["input_schema"]))
        return tools

    async def call(self, server: str, tool: str, args: dict[str, Any]) -> tuple[str, bool]:
        """Call one tool with the per-call timeout; a dead session is restarted later."""
        srv = await self._ensure(server)
        if srv.session is None:
            return f"MCP server '{server}' is unavailable: {srv.error}", True
        try:
            return await client.call_tool(srv.session, tool, args, self.settings.mcp.call_timeout)
        except TimeoutError:
            return f"MCP tool {tool} timed out after {self.settings.mcp.call_timeout:g}s", True
        except client.ToolCallRefused as exc:  # the server is fine; the call was wrong
            return exc.message, True
        except Exception as exc:  # transport failure: restart the server, tell the model
            log().warning("mcp.call_failed", server=server, tool=tool, error=repr(exc))
            self._mark_dead(srv)
            return redact_text(f"MCP server '{server}' failed during the call: {exc!r}"), True

    def _mark_dead(self, srv: _Server) -> None:
        # Later calls wait for the restart instead of using the dead session.
        srv.session = None
        srv.ready.clear()
        srv.state = "restarting"
        srv.dead.set()

    async def _ensure(self, name: str) -> _Server:
        """Start the supervisor if needed and wait (bounded) until the server is ready."""
        self._discover()
        srv = self.servers[name]
        if srv.task is None or srv.task.done():
            srv.ready.clear()
            srv.task = asyncio.create_task(self._supervise(srv), name=f"mcp:{name}")
        if srv.state in ("backoff", "failed") and time.monotonic() < srv.retry_at:
            return srv
        try:
            await asyncio.wait_for(srv.ready.wait(), self.settings.mcp.startup_timeout + 5)
        except TimeoutError:
            srv.error = srv.error or "start-up timed out"
        return srv

    async def _supervise(self, srv: _Server) -> None:
        try:
            await self._run_server(srv)
        finally:
            srv.session, srv.state = None, "stopped"

    async def _run_server(self, srv: _Server) -> None:
        delay = BACKOFF_START
        name = srv.config.name
        while not self._closing:
            srv.state, srv.dead = "starting", asyncio.Event()
            was_up = False
            try:
                sink = client.stderr_logger(name)
                opened = client.connect(
                    srv.config, self.settings, workspace=self.workspace, stderr=sink
                )
                async with opened as session:
                    srv.tools = await client.list_tools(session)
                    srv.session, srv.state, srv.error = session, "up", None
                    srv.ready.set()
                    log().info("mcp.up", server=name, tools=len(srv.tools), restarts=srv.restarts)
                    delay, was_up = BACKOFF_START, True
                    await self._watch(srv, session)
                    self._mark_dead(srv)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                srv.error = redact_text(getattr(exc, "message", None) or repr(exc))
                log().warning("mcp.down", server=name, error=srv.error, retry_in=delay)
            srv.session = None
            if self._closing:
                break
            srv.restarts += 1
            if was_up:
                # A crash after running: callers wait through one short backoff and the restart.
                log().warning("mcp.crashed", server=name, restart_in=delay)
                await asyncio.sleep(delay)
                continue
            srv.state, srv.retry_at = "backoff", time.monotonic() + delay
            srv.ready.set()  # a failed start: wake waiters with the error instead of hanging
            await asyncio.sleep(delay)
            srv.ready.clear()
            delay = min(delay * 2, BACKOFF_MAX)

    async def _watch(self, srv: _Server, session: ClientSession) -> None:
        """Return when the server should be restarted (dead) or the pool closes."""
        while not self._closing:
            try:
                await asyncio.wait_for(srv.dead.wait(), self.settings.mcp.health_interval)
                return
            except TimeoutError:
                pass
            try:
                async with asyncio.timeout(10):
                    await session.send_ping()
            except Exception:
                return

    def status(self) -> list[dict[str, Any]]:
        """Each server's state, tool count, last error and restarts (for doctor and logs)."""
        self._discover()
        return [
            {"name": n, "state": s.state, "tools": len(s.tools), "error": s.error,
             "restarts": s.restarts, "source": s.config.source}
            for n, s in self.servers.items()
        ]  # fmt: skip

    async def close(self) -> None:
        """Stop every server (cancels the supervisors, which close the sessions)."""
        self._closing = True
        tasks = [s.task for s in self.servers.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)


_pool: McpPool | None = None


def get_pool(settings: Settings, workspace: Path | None = None) -> McpPool:
    """The process-wide pool (one per gateway), created on first use.

    A pool belongs to one settings object and one event loop; asking with others
    (tests, a reloaded gateway) starts a fresh pool.
    """
    global _pool
    loop = asyncio.get_running_loop()
    stale = _pool is None or _pool._closing or _pool.settings is not settings
    if stale or _pool is None or _pool.loop is not loop:
        _pool = McpPool(settings, workspace)
    return _pool


async def shutdown() -> None:
    """Stop the process-wide pool's servers; safe to call when none started."""
    global _pool
    if _pool is not None:
        await _pool.close()
        _pool = None
