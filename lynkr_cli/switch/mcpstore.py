"""MCP servers kept by ``lynkr switch``, and which profiles they are enabled for.

A server is added once (``lynkr switch mcp add``) and written into Claude Code's
configuration by every switch to a profile it is enabled for. Its ``env`` and
``headers`` values are treated as secrets, as profile keys are: stored in the same
0600 database, in their own column, and shown masked everywhere.

Enabling is per profile, or for every profile (``*``): a per-profile row wins over
``*``, so ``enable NAME`` then ``disable NAME --profile work`` means "everywhere but
work". Names keep their case and are looked up case-insensitively.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.settings import mask_secret

Transport = Literal["stdio", "http", "sse"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "http", "sse")
ALL = "*"  # the profile name that means every profile
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}")
_AUTH_WORD = re.compile(r"\s*(?:Bearer|Basic|Token)?\s*", re.IGNORECASE)


@dataclass
class McpServer:
    """One server, in the shape Claude Code's ``mcpServers`` entries have."""

    name: str
    transport: Transport = "stdio"
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    source: str = ""  # "added", or the file or database it was imported from

    def entry(self) -> dict[str, Any]:
        """The ``mcpServers`` value Claude Code reads (and ``claude mcp add`` writes)."""
        if self.transport == "stdio":
            return {
                "type": "stdio",
                "command": self.command,
                "args": list(self.args),
                "env": dict(self.env),
            }
        out: dict[str, Any] = {"type": self.transport, "url": self.url}
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    def desktop_entry(self) -> dict[str, Any] | None:
        """Claude Desktop's config holds local (stdio) servers only."""
        if self.transport != "stdio":
            return None
        out: dict[str, Any] = {"command": self.command, "args": list(self.args)}
        if self.env:
            out["env"] = dict(self.env)
        return out

    def secrets(self) -> list[str]:
        """Values that are literal secrets (``${VAR}`` references are not)."""
        values = [*self.env.values(), *self.headers.values()]
        return [v for v in values if v and not is_reference(v)]

    def public(self) -> dict[str, Any]:
        """JSON-ready; env and header values masked unless they are ``${VAR}`` references."""
        return {
            "name": self.name,
            "transport": self.transport,
            "command": self.command,
            "args": list(self.args),
            "env": mask_values(self.env),
            "url": self.url,
            "headers": mask_values(self.headers),
            "source": self.source,
        }


def is_reference(value: str) -> bool:
    """``${VAR}`` (or ``Bearer ${VAR}``): Claude Code fills it in, nothing secret is stored."""
    return bool(_REFERENCE.search(value)) and bool(_AUTH_WORD.fullmatch(_REFERENCE.sub("", value)))


def mask_values(values: Mapping[str, str]) -> dict[str, str]:
    return {k: v if is_reference(v) else (mask_secret(v) or "") for k, v in values.items()}


def safe_name(value: str) -> str:
    """An imported name Claude Code accepts: other characters become '-', case kept."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", value.strip()).strip("-")
    return name[:64] or "server"


def validate(server: McpServer) -> McpServer:
    if not _NAME.match(server.name):
        raise UsageError(
            f"invalid MCP server name {server.name!r}",
            hint="Use up to 64 letters, digits, '_' or '-' (Claude Code's own rule).",
        )
    if server.transport not in TRANSPORTS:
        raise UsageError(f"unknown transport {server.transport!r}", hint="Use stdio, http or sse.")
    if server.transport == "stdio" and not server.command.strip():
        raise UsageError(
            f"MCP server '{server.name}' needs a command or a URL",
            hint="lynkr switch mcp add NAME -- COMMAND ARGS…, or --url URL.",
        )
    if server.transport != "stdio" and not re.match(r"^https?://[^/\s]+", server.url):
        raise UsageError(
            f"MCP server '{server.name}': {server.url!r} is not an http(s) URL",
            hint="Give it as https://host[:port]/path.",
        )
    for name in server.env:
        if not _ENV_NAME.match(name):
            raise UsageError(f"invalid environment variable name {name!r} for '{server.name}'")
    for name in server.headers:
        if not _HEADER.match(name):
            raise UsageError(f"invalid header name {name!r} for '{server.name}'")
    _check_utf8(server)
    return server


def _check_utf8(server: McpServer) -> None:
    texts = [server.command, server.url, *server.args, *server.env.values()]
    for text in [*texts, *server.headers.values()]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"a value of MCP server '{server.name}' is not valid UTF-8",
                hint="Pass the value as UTF-8 text.",
            ) from None


# --------------------------------------------------------------------------- storage


def _row(row: sqlite3.Row) -> McpServer:
    data = json.loads(row["data"])
    secrets = json.loads(row["secrets"] or "{}")
    return McpServer(
        name=row["name"], env=secrets.get("env", {}), headers=secrets.get("headers", {}), **data
    )


def save(conn: sqlite3.Connection, server: McpServer, *, replace_existing: bool = False) -> None:
    validate(server)
    data = {
        "transport": server.transport,
        "command": server.command,
        "args": server.args,
        "url": server.url,
        "source": server.source,
    }
    secrets = {"env": server.env, "headers": server.headers}
    now = time.time()
    with db.transaction(conn):
        existing = find(conn, server.name)
        if existing is not None and not replace_existing:
            raise UsageError(
                f"an MCP server named '{existing.name}' already exists",
                hint=f"`lynkr switch mcp remove {existing.name}` first, or pick another name.",
            )
        if existing is not None:
            conn.execute("DELETE FROM switch_mcp_servers WHERE name = ?", (existing.name,))
        conn.execute(
            "INSERT INTO switch_mcp_servers (name, data, secrets, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (server.name, json.dumps(data), json.dumps(secrets), now, now),
        )


def find(conn: sqlite3.Connection, name: str) -> McpServer | None:
    row = conn.execute("SELECT * FROM switch_mcp_servers WHERE name = ?", (name,)).fetchone()
    return _row(row) if row else None


def get(conn: sqlite3.Connection, name: str) -> McpServer:
    found = find(conn, name)
    if found is None:
        raise NotFoundError(
            f"no MCP server named '{name}' in lynkr switch",
            hint="`lynkr switch mcp list` shows them; `lynkr switch mcp add` or `import` adds.",
        )
    return found


def list_all(conn: sqlite3.Connection) -> list[McpServer]:
    rows = conn.execute("SELECT * FROM switch_mcp_servers ORDER BY name COLLATE NOCASE").fetchall()
    return [_row(r) for r in rows]


def delete(conn: sqlite3.Connection, name: str) -> McpServer:
    server = get(conn, name)
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_mcp_servers WHERE name = ?", (server.name,))
        conn.execute("DELETE FROM switch_mcp_enabled WHERE server = ?", (server.name,))
    return server


# --------------------------------------------------------------------------- enabling


def set_enabled(conn: sqlite3.Connection, name: str, profile: str | None, on: bool) -> McpServer:
    """Enable or disable ``name`` for one profile, or (no profile) for all of them."""
    server = get(conn, name)
    with db.transaction(conn):
        if profile is None:
            conn.execute("DELETE FROM switch_mcp_enabled WHERE server = ?", (server.name,))
            if on:
                conn.execute(
                    "INSERT INTO switch_mcp_enabled (server, profile, enabled) VALUES (?, ?, 1)",
                    (server.name, ALL),
                )
        else:
            conn.execute(
                "INSERT INTO switch_mcp_enabled (server, profile, enabled) VALUES (?, ?, ?)"
                " ON CONFLICT(server, profile) DO UPDATE SET enabled = excluded.enabled",
                (server.name, profile, int(on)),
            )
    return server


def enablement(conn: sqlite3.Connection) -> dict[str, dict[str, bool]]:
    """server name (lower case) -> {profile or '*': enabled}."""
    out: dict[str, dict[str, bool]] = {}
    for row in conn.execute("SELECT server, profile, enabled FROM switch_mcp_enabled"):
        out.setdefault(row["server"].lower(), {})[row["profile"]] = bool(row["enabled"])
    return out


def is_enabled(rows: Mapping[str, bool], profile: str) -> bool:
    for name, on in rows.items():
        if name.lower() == profile.lower():
            return on
    return rows.get(ALL, False)


def enabled_for(conn: sqlite3.Connection, profile: str) -> list[McpServer]:
    """The servers a switch to ``profile`` writes, in name order."""
    table = enablement(conn)
    return [s for s in list_all(conn) if is_enabled(table.get(s.name.lower(), {}), profile)]


def forget_profile(conn: sqlite3.Connection, profile: str) -> None:
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_mcp_enabled WHERE profile = ?", (profile,))
