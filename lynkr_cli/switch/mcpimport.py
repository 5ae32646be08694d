"""``lynkr switch mcp import``: servers you already have, into lynkr's store, once each.

Two sources:

- everything ``lynkr mcp list`` discovers (Claude Desktop, ``~/.claude.json`` user and
  local scope, ``.mcp.json``, Lynkr manifests, ``lynkr.toml``), read *unexpanded*, so a
  ``${GITHUB_TOKEN}`` reference stays a reference and never becomes a stored secret;
- cc-switch's database (``mcp_servers``: ``id`` is the name cc-switch writes into
  ``mcpServers``, ``server_config`` the entry, ``enabled_claude`` its Claude switch).

A server already in the store under the same name (any case) is skipped, and so is one
that has the same definition under another name.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.switch import mcpstore
from lynkr_cli.switch.mcpstore import McpServer


@dataclass
class Found:
    server: McpServer
    enable: bool = False  # cc-switch had it switched on for Claude


@dataclass
class ImportResult:
    saved: list[McpServer] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def from_config(name: str, raw: Mapping[str, Any], source: str) -> McpServer:
    """A Claude Code / Claude Desktop / cc-switch entry as a store server."""
    from lynkr_cli.mcp.api import parse_server

    return _stored(parse_server(name, raw, source))  # raises ValueError when unusable


def _stored(parsed: Any) -> McpServer:
    """A discovered ``ServerConfig`` (lynkr_cli.mcp.manifests) as a store server."""
    return McpServer(
        name=mcpstore.safe_name(parsed.name),
        transport=parsed.transport,
        command=parsed.command,
        args=parsed.args,
        env=parsed.env,
        url=parsed.url,
        headers=parsed.headers,
        source=parsed.source,
    )


def discovered(cwd: Path | None = None) -> tuple[list[Found], list[str]]:
    """Every server ``lynkr mcp list`` would show, with ``${VAR}`` references kept."""
    from lynkr_cli.mcp.api import discover
    from lynkr_cli.settings import get_settings

    found = discover(get_settings(), cwd, expand=False)
    out = []
    problems = list(found.problems)
    for server in found.servers.values():
        if server.sandbox:
            problems.append(
                f"{server.name}: its docker sandbox is a lynkr-only setting; imported without it"
            )
        out.append(Found(_stored(server)))
    return out, problems


def default_ccswitch_db() -> Path:
    return Path.home() / ".cc-switch" / "cc-switch.db"


def ccswitch_rows(path: Path, query: str) -> list[sqlite3.Row]:
    """Rows of cc-switch's database, opened read-only."""
    if not path.is_file():
        raise NotFoundError(
            f"no cc-switch database at {path}", hint="Pass --db PATH to point at cc-switch.db."
        )
    try:
        conn = db.connect(path, readonly=True)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"{path} is not a cc-switch database this lynkr can read: {exc}",
            hint="cc-switch keeps its data in ~/.cc-switch/cc-switch.db.",
        ) from None


def from_ccswitch(path: Path) -> tuple[list[Found], list[str]]:
    """cc-switch's MCP servers, read-only."""
    rows = ccswitch_rows(path, "SELECT * FROM mcp_servers ORDER BY id")
    out, problems = [], []
    for row in rows:
        keys = row.keys()
        source = f"cc-switch {path}"
        try:
            raw = json.loads(row["server_config"] or "{}")
            server = from_config(str(row["id"]), raw, source)
        except ValueError as exc:
            problems.append(f"{source}: {row['id']}: {exc}")
            continue
        enabled = bool(row["enabled_claude"]) if "enabled_claude" in keys else False
        out.append(Found(server, enabled))
    return out, problems


def _same(a: McpServer, b: McpServer) -> bool:
    return a.entry() == b.entry()


def save_all(conn: sqlite3.Connection, found: list[Found], *, enable: bool = False) -> ImportResult:
    """Save what is new; ``enable`` turns each saved one on for every profile."""
    result = ImportResult()
    known = mcpstore.list_all(conn)
    for item in found:
        server = item.server
        same_name = next((k for k in known if k.name.lower() == server.name.lower()), None)
        if same_name is not None:
            why = "already in lynkr's store" + ("" if _same(same_name, server) else " (differs)")
            result.skipped.append({"name": server.name, "reason": why, "source": server.source})
            continue
        twin = next((k for k in known if _same(k, server)), None)
        if twin is not None:
            result.skipped.append(
                {"name": server.name, "reason": f"same as '{twin.name}'", "source": server.source}
            )
            continue
        try:
            mcpstore.save(conn, server)
        except UsageError as exc:
            result.problems.append(f"{server.name} ({server.source}): {exc.message}")
            continue
        if enable or item.enable:
            mcpstore.set_enabled(conn, server.name, None, True)
        known.append(server)
        result.saved.append(server)
    return result
