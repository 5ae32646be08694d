"""``lynkr mcp start``: the gateway's MCP pool in the foreground, reporting health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from lynkr_cli.errors import NotFoundError
from lynkr_cli.mcp.pool import McpPool
from lynkr_cli.settings import Settings

Show = Callable[[list[dict[str, Any]]], None]


async def health(pool: McpPool) -> list[dict[str, Any]]:
    """One row per server: up or not, tool names, ping time, last error, restarts."""
    rows: list[dict[str, Any]] = []
    for name, srv in pool.servers.items():
        started = time.monotonic()
        ok = False
        if srv.session is not None:
            try:
                async with asyncio.timeout(10):
                    await srv.session.send_ping()
                ok = True
            except Exception as exc:
                srv.error = repr(exc)
                srv.dead.set()
        rows.append({
            "name": name, "ok": ok, "state": srv.state, "error": srv.error,
            "tools": [t["name"] for t in srv.tools], "restarts": srv.restarts,
            "ms": round((time.monotonic() - started) * 1000, 1), "source": srv.config.source,
        })  # fmt: skip
    return rows


async def run_foreground(
    settings: Settings,
    only: str | None,
    *,
    once: bool,
    interval: float,
    show: Show | None,
) -> list[dict[str, Any]]:
    """Start the servers, report health every ``interval`` s; return the last report."""
    pool = McpPool(settings)
    pool.configured()
    if only is not None:
        if only not in pool.servers:
            raise NotFoundError(f"no MCP server named '{only}'",
                                hint="`lynkr mcp list` shows the servers found.")  # fmt: skip
        pool.servers = {only: pool.servers[only]}
    try:
        await pool.list_tools()
        report = await health(pool)
        if show is not None:
            show(report)
        while not once:
            await asyncio.sleep(interval)
            report = await health(pool)
            if show is not None:
                show(report)
        return report
    finally:
        await pool.close()
