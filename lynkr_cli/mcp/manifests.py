"""Finding MCP servers: every place Claude Code, Claude Desktop and Lynkr keep them.

Sources, lowest precedence first (a later source redefining a name wins, and the
entry keeps the list of every source that defined it):

1. ``claude_desktop_config.json`` (platform location) ``mcpServers``;
2. ``~/.claude.json`` ``mcpServers`` (Claude Code, user scope);
3. Lynkr manifests: every ``*.json`` in ``MCP_MANIFEST_DIRS`` (default ``~/.claude/mcp``),
   then ``MCP_SERVER_MANIFEST``; format ``{"servers": [{"name": ..., "command": ...}]}``;
4. ``~/.claude.json`` ``projects[<cwd>].mcpServers`` (Claude Code, local scope);
5. the project's ``.mcp.json`` (Claude Code, project scope);
6. ``[mcp.servers.<name>]`` in ``lynkr.toml`` (``settings.mcp.servers``).

Values go through ``${VAR}`` / ``${VAR:-default}`` expansion the way Claude Code does
it. :func:`discover` never raises for a bad file: problems are collected and shown by
``lynkr mcp list`` and ``lynkr doctor``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lynkr_cli.settings import Settings

Transport = Literal["stdio", "http", "sse"]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class ServerConfig:
    """One MCP server, normalised from whichever format defined it."""

    name: str
    transport: Transport = "stdio"
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    sandbox: str | None = None
    sandbox_options: dict[str, Any] = field(default_factory=dict)
    disabled: bool = False
    source: str = ""
    sources: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """JSON-ready, with env and header values masked (they often hold keys)."""
        from lynkr_cli.logs import MASK

        return {
            "name": self.name, "transport": self.transport, "command": self.command,
            "args": self.args, "env": dict.fromkeys(self.env, MASK), "cwd": self.cwd,
            "url": self.url, "headers": dict.fromkeys(self.headers, MASK),
            "sandbox": self.sandbox, "disabled": self.disabled, "source": self.source,
            "sources": self.sources, "warnings": self.warnings,
        }  # fmt: skip


@dataclass
class Discovery:
    """Every server found, the files looked at, and what was wrong with them."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)
    searched: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, server: ServerConfig) -> None:
        previous = self.servers.get(server.name)
        server.sources = [*(previous.sources if previous else []), server.source]
        self.servers[server.name] = server


# --------------------------------------------------------------------------- expansion


def expand(value: str, environ: Mapping[str, str], missing: list[str]) -> str:
    """``${VAR}`` and ``${VAR:-default}``; unset variables without a default are noted."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return _VAR.sub(replace, value)


def _expand_all(server: ServerConfig, environ: Mapping[str, str]) -> None:
    missing: list[str] = []
    server.command = expand(server.command, environ, missing)
    server.args = [expand(a, environ, missing) for a in server.args]
    server.env = {k: expand(v, environ, missing) for k, v in server.env.items()}
    server.url = expand(server.url, environ, missing)
    server.headers = {k: expand(v, environ, missing) for k, v in server.headers.items()}
    if server.cwd:
        server.cwd = expand(server.cwd, environ, missing)
    for name in dict.fromkeys(missing):
        server.warnings.append(f"environment variable {name} is not set")


# --------------------------------------------------------------------------- parsing


def parse_server(name: str, raw: Mapping[str, Any], source: str) -> ServerConfig:
    """One entry in Claude Code / Desktop / Lynkr shape. Raises ValueError when unusable."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"server '{name}' must be an object")
    kind = str(raw.get("type") or raw.get("transport") or "").lower().replace("-", "_")
    url = str(raw.get("url") or "")
    transport: Transport
    if kind in ("http", "streamable_http", "streamablehttp"):
        transport = "http"
    elif kind == "sse":
        transport = "sse"
    elif kind in ("", "stdio"):
        transport = "http" if (url and not raw.get("command")) else "stdio"
    else:
        raise ValueError(f"server '{name}' has unknown type '{kind}'")
    server = ServerConfig(name=name, transport=transport, url=url, source=source)
    server.command = str(raw.get("command") or "")
    server.args = [str(a) for a in raw.get("args") or []]
    server.env = {str(k): str(v) for k, v in (raw.get("env") or {}).items()}
    server.headers = {str(k): str(v) for k, v in (raw.get("headers") or {}).items()}
    server.cwd = str(raw["cwd"]) if raw.get("cwd") else None
    server.disabled = bool(raw.get("disabled", False))
    sandbox = raw.get("sandbox")
    if isinstance(sandbox, Mapping):
        server.sandbox = str(sandbox.get("type") or "docker")
        server.sandbox_options = dict(sandbox)
    elif sandbox:
        server.sandbox = str(sandbox)
        server.sandbox_options = dict(raw.get("sandbox_options") or {})
    if transport == "stdio" and not server.command:
        raise ValueError(f"server '{name}' has neither a command nor a url")
    if server.sandbox and transport != "stdio":
        server.warnings.append("sandbox applies to stdio servers only; ignored for a url")
    return server


def _read_json(path: Path, found: Discovery) -> Any:
    entry: dict[str, Any] = {"path": str(path), "exists": path.is_file()}
    found.searched.append(entry)
    if not entry["exists"]:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        found.problems.append(f"{path}: not valid JSON ({exc})")
        entry["error"] = str(exc)
        return None


def _add_map(found: Discovery, servers: Any, source: str) -> None:
    if servers is None:
        return
    if not isinstance(servers, Mapping):
        found.problems.append(f"{source}: mcpServers must be an object")
        return
    for name, raw in servers.items():
        _add_one(found, str(name), raw, source)


def _add_one(found: Discovery, name: str, raw: Any, source: str) -> None:
    try:
        found.add(parse_server(name, raw, source))
    except ValueError as exc:
        found.problems.append(f"{source}: {exc}")


def _add_manifest(found: Discovery, path: Path) -> None:
    data = _read_json(path, found)
    if data is None:
        return
    source = f"manifest {path}"
    if isinstance(data, Mapping) and isinstance(data.get("servers"), list):
        for index, raw in enumerate(data["servers"]):
            name = raw.get("name") or raw.get("id") if isinstance(raw, Mapping) else None
            if not name:
                found.problems.append(f"{source}: servers[{index}] has no name")
                continue
            _add_one(found, str(name), raw, source)
    elif isinstance(data, Mapping) and "mcpServers" in data:
        _add_map(found, data["mcpServers"], source)
    else:
        found.problems.append(f'{source}: expected {{"servers": [...]}}')


# --------------------------------------------------------------------------- locations


def desktop_config_path() -> Path:
    """Where Claude Desktop keeps its config on this platform."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library/Application Support/Claude/claude_desktop_config.json"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home)) / "Claude/claude_desktop_config.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return Path(base) / "Claude/claude_desktop_config.json"


def manifest_dirs(settings: Settings) -> list[Path]:
    # Lynkr separates MCP_MANIFEST_DIRS with ';', our list setting with ','; accept both.
    parts = [p for item in settings.mcp.manifest_dirs for p in item.split(";")]
    return [Path(p.strip()).expanduser() for p in parts if p.strip()]


def discover(
    settings: Settings,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    expand: bool = True,
) -> Discovery:
    """Every configured MCP server, merged by precedence, with its sources and problems.

    ``expand=False`` keeps ``${VAR}`` references as written (``lynkr switch mcp import``).
    """
    cwd = (cwd or Path.cwd()).resolve()
    env_map = os.environ if environ is None else environ
    found = Discovery()
    desktop = _read_json(desktop_config_path(), found)
    if isinstance(desktop, Mapping):
        _add_map(found, desktop.get("mcpServers"), f"claude desktop {desktop_config_path()}")
    claude_json = Path.home() / ".claude.json"
    user = _read_json(claude_json, found)
    if isinstance(user, Mapping):
        _add_map(found, user.get("mcpServers"), f"user {claude_json}")
    for directory in manifest_dirs(settings):
        found.searched.append({"path": str(directory), "exists": directory.is_dir()})
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
            _add_manifest(found, path)
    if settings.mcp.server_manifest is not None:
        manifest = Path(settings.mcp.server_manifest).expanduser()
        if not manifest.is_file():
            found.problems.append(f"MCP_SERVER_MANIFEST {manifest} does not exist")
        _add_manifest(found, manifest)
    if isinstance(user, Mapping):
        project = (user.get("projects") or {}).get(str(cwd)) or {}
        if isinstance(project, Mapping):
            _add_map(found, project.get("mcpServers"), f"local {claude_json} [{cwd}]")
    project_file = cwd / ".mcp.json"
    data = _read_json(project_file, found)
    if isinstance(data, Mapping):
        _add_map(found, data.get("mcpServers"), f"project {project_file}")
    _add_map(found, settings.mcp.servers or None, "lynkr.toml [mcp.servers]")
    for server in found.servers.values() if expand else ():
        _expand_all(server, env_map)
    return found


def get_server(settings: Settings, name: str, cwd: Path | None = None) -> ServerConfig:
    """One discovered server by name; NotFoundError listing the known names otherwise."""
    from lynkr_cli.errors import NotFoundError

    servers = discover(settings, cwd).servers
    if name not in servers:
        known = ", ".join(sorted(servers)) or "none"
        raise NotFoundError(
            f"no MCP server named '{name}' (known: {known})",
            hint="`lynkr mcp list` shows every server found and where it came from.",
        )
    return servers[name]
