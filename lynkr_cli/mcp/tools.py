"""An MCP server's tool as the model sees it: ``mcp__<server>__<tool>``, Claude Code's naming."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MCP_PREFIX = "mcp__"
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True)
class McpTool:
    """One MCP server tool as the model sees it."""

    server: str
    tool: str
    description: str
    input_schema: dict[str, Any]

    @property
    def name(self) -> str:
        # Anthropic tool names allow [a-zA-Z0-9_-]{1,128}; MCP names are freer.
        return _NAME_OK.sub("_", f"{MCP_PREFIX}{self.server}__{self.tool}")[:128]
