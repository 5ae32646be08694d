"""The Python API of ``lynkr mcp``: what the gateway's tools, doctor, switch and completion call.

Finding servers (no process is started)::

    discover(settings, cwd=None, environ=None) -> Discovery   # .servers, .problems, .searched
    get_server(settings, name, cwd=None) -> ServerConfig      # NotFoundError when unknown
    parse_server(name, raw, source) -> ServerConfig           # one mcpServers entry
    desktop_config_path() -> Path                             # Claude Desktop's config file

Running them::

    await probe(server, settings, workspace=None) -> Probe    # start, list tools, stop
    ensure_engine(docker="docker", timeout=10.0) -> str       # the sandbox's container engine
    gateway_pool(settings, workspace=None) -> McpPool         # the gateway's servers, kept up
    await shutdown()                                          # stop the gateway's servers

A server's tools reach the model as :class:`McpTool` (``mcp__<server>__<tool>``).
The SDK, the pool and the sandbox load on first use, so importing this module is
cheap (shell completion imports it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lynkr_cli.mcp.manifests import (
    Discovery,
    ServerConfig,
    desktop_config_path,
    discover,
    get_server,
    parse_server,
)
from lynkr_cli.mcp.tools import MCP_PREFIX, McpTool

if TYPE_CHECKING:
    from lynkr_cli.mcp.client import Probe
    from lynkr_cli.mcp.pool import McpPool
    from lynkr_cli.settings import Settings

__all__ = [
    "MCP_PREFIX",
    "Discovery",
    "McpTool",
    "ServerConfig",
    "desktop_config_path",
    "discover",
    "ensure_engine",
    "gateway_pool",
    "get_server",
    "parse_server",
    "probe",
    "shutdown",
]


async def probe(server: ServerConfig, settings: Settings, workspace: Path | None = None) -> Probe:
    """Start ``server``, list its tools, stop it: the health check doctor and `mcp start` use."""
    from lynkr_cli.mcp import client

    return await client.probe(server, settings, workspace)


def ensure_engine(docker: str = "docker", timeout: float = 10.0) -> str:
    """The container engine sandboxed servers run in; ConfigError when it is not reachable."""
    from lynkr_cli.mcp import sandbox

    return sandbox.ensure_engine(docker, timeout)


def gateway_pool(settings: Settings, workspace: Path | None = None) -> McpPool:
    """The gateway's servers (one pool per settings and event loop), started on first use."""
    from lynkr_cli.mcp import pool

    return pool.get_pool(settings, workspace)


async def shutdown() -> None:
    """Stop the gateway's servers; safe to call when none started (and then cheap: the
    pool, and the SDK behind it, are not even imported)."""
    import sys

    pool = sys.modules.get("lynkr_cli.mcp.pool")
    if pool is not None:
        await pool.shutdown()
