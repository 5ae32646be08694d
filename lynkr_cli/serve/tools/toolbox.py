"""The set of server tools offered on one request, and how one call of them runs.

A :class:`Toolbox` joins the registry's tools (filtered by policy: write and exec
tools only when ``policy.tools_allow_write`` / ``tools_allow_exec`` say so) with the
tools of every configured MCP server, exposed as ``mcp__<server>__<tool>``. Running a
call never raises: every failure becomes an ``is_error`` result the model can read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import LynkrError
from lynkr_cli.logs import get_logger
from lynkr_cli.registry import ToolSpec
from lynkr_cli.serve.tools.base import ToolContext, result_text, truncate
from lynkr_cli.settings import Settings

if TYPE_CHECKING:
    from lynkr_cli.mcp.api import McpTool

McpCall = Callable[[str, str, dict[str, Any]], Awaitable[tuple[str, bool]]]


@dataclass
class Toolbox:
    """Tools offered to the model for one request."""

    ctx: ToolContext
    specs: dict[str, ToolSpec] = field(default_factory=dict)
    mcp_tools: dict[str, McpTool] = field(default_factory=dict)
    mcp_call: McpCall | None = None
    refused: dict[str, str] = field(default_factory=dict)

    def names(self) -> set[str]:
        return set(self.specs) | set(self.mcp_tools)

    def definitions(self) -> list[dict[str, Any]]:
        """Anthropic ``tools`` entries for every offered tool."""
        defs = [
            {"name": s.name, "description": s.description, "input_schema": s.input_schema}
            for s in self.specs.values()
        ]
        for name, tool in self.mcp_tools.items():
            schema = tool.input_schema or {"type": "object", "properties": {}}
            desc = f"[MCP server '{tool.server}'] {tool.description}".strip()
            defs.append({"name": name, "description": desc, "input_schema": schema})
        return defs

    async def run(self, name: str, args: Any, timeout: float) -> tuple[str, bool]:
        """Run one call; return ``(text, is_error)``. Never raises (except cancellation)."""
        if not isinstance(args, dict):
            return "tool input must be a JSON object", True
        try:
            return await asyncio.wait_for(self._dispatch(name, args), timeout)
        except TimeoutError:
            return f"tool {name} timed out after {timeout:g}s", True
        except LynkrError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            return self.ctx.redact(f"{exc.message}{hint}"), True
        except Exception as exc:  # a broken tool must not end the turn; the model can adapt
            get_logger("lynkr.tools").warning("tool.crash", tool=name, error=repr(exc))
            return self.ctx.redact(f"tool {name} failed: {type(exc).__name__}: {exc}"), True

    async def _dispatch(self, name: str, args: dict[str, Any]) -> tuple[str, bool]:
        from lynkr_cli.procenv import confined

        # Every process the tool starts (git, rg, the tests, the index's git) gets only the
        # allow-listed environment, never the gateway's keys.
        with confined(self.ctx.env()):
            if name in self.specs:
                return result_text(await self.specs[name].run(args, self.ctx), self.ctx), False
            if name in self.mcp_tools and self.mcp_call is not None:
                # The user's own servers: trusted to run, but what they return is redacted too.
                tool = self.mcp_tools[name]
                text, is_error = await self.mcp_call(tool.server, tool.tool, args)
                return truncate(self.ctx.redact(text)), is_error
        if name in self.refused:
            return f"tool {name} is disabled: {self.refused[name]}", True
        return f"no such tool: {name}", True


def allowed(spec: ToolSpec, settings: Settings) -> str | None:
    """Why ``spec`` may not be offered under the policy, or None when it may."""
    if spec.policy == "write" and not settings.policy.tools_allow_write:
        return "write tools are off (set POLICY_TOOLS_ALLOW_WRITE=true to enable)"
    if spec.policy == "exec" and not settings.policy.tools_allow_exec:
        return "exec tools are off (set POLICY_TOOLS_ALLOW_EXEC=true to enable)"
    return None


def registry_toolbox(settings: Settings, ctx: ToolContext) -> Toolbox:
    """A toolbox of the registered (plugin) tools the policy allows; no MCP."""
    from lynkr_cli.registry import tools

    box = Toolbox(ctx)
    for name, spec in tools().items():
        reason = allowed(spec, settings)
        if reason is None:
            box.specs[name] = spec
        else:
            box.refused[name] = reason
    return box


async def build_toolbox(settings: Settings, ctx: ToolContext | None = None) -> Toolbox:
    """Registry tools plus the tools of every configured MCP server that starts."""
    from lynkr_cli.serve.tools.workspace import workspace_root

    ctx = ctx or ToolContext(settings, workspace_root(settings))
    box = registry_toolbox(settings, ctx)
    from lynkr_cli.mcp.api import gateway_pool

    servers = gateway_pool(settings, ctx.root)
    try:
        if servers.configured():
            for tool in await servers.list_tools():
                box.mcp_tools[tool.name] = tool
            box.mcp_call = servers.call
    except Exception as exc:  # MCP trouble never fails the request: its tools are just missing
        get_logger("lynkr.tools").warning("mcp.unavailable", error=repr(exc))
    return box
