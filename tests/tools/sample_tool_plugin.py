"""A third-party-style plugin registering server tools through ``register_tools``."""

from __future__ import annotations

from typing import Any

from lynkr_cli import hookimpl
from lynkr_cli.registry import ToolSpec

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}}


async def echo(args: dict[str, Any], ctx: Any) -> str:
    return f"echo: {args.get('text', '')} (root {ctx.root.name})"


async def write(args: dict[str, Any], ctx: Any) -> str:
    (ctx.root / "written.txt").write_text("written by a tool")
    return "wrote written.txt"


@hookimpl
def register_tools(register: Any) -> None:
    register(ToolSpec("demo_echo", "Echo text.", SCHEMA, "read", echo))
    register(ToolSpec("demo_write", "Write a file.", SCHEMA, "write", write))
