"""Doctor checks from ``lynkr switch``, registered through the plugin hook like any other.

- ``env.unread-vars``: a variable Claude Code never reads, set where people set
  variables (the Lynkr article's ``export CLAUDE_CODE_ENDPOINT=http://localhost:8080``),
  with the command that sets ``ANTHROPIC_BASE_URL`` instead.
- ``mcp-secrets``: an MCP server in ``~/.claude.json`` or ``.mcp.json`` whose env or
  header holds a literal secret where a ``${VAR}`` reference would do (Claude Code expands
  them in both files; ``.mcp.json`` is usually committed to git).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli import hookimpl
from lynkr_cli.registry import CheckResult, DoctorCheck

if TYPE_CHECKING:
    from lynkr_cli.doctor.api import Context


def unread_vars(ctx: Context) -> CheckResult:
    from lynkr_cli.switch import conflicts

    found = conflicts.unread_names(ctx.environ, ctx.home, ctx.cwd)
    if not found:
        names = ", ".join(conflicts.UNREAD)
        return CheckResult("env.unread-vars", "ok", f"none of {names} is set")
    settings = ctx.settings()
    port = settings.server.port if settings is not None else 8080
    first = found[0]
    right = conflicts.UNREAD[first.name]
    where = "; ".join(f"{f.name}={f.value} ({f.where})" for f in found)
    return CheckResult(
        "env.unread-vars",
        "warn",
        f"Claude Code does not read {first.name}, so it changes nothing: {where}",
        f"Set {right} instead: {conflicts.endpoint_fix(first.value, port)}; then delete the line.",
        {"findings": [f.as_dict() for f in found]},
    )


def _claude_json(ctx: Context) -> Path:
    override = ctx.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return (Path(override).expanduser() if override else ctx.home) / ".claude.json"


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None  # missing, or reported by the checks that parse these files


def _server_maps(ctx: Context) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, mcpServers) for every Claude Code file that holds servers."""
    user_path = _claude_json(ctx)
    user = _load(user_path)
    if isinstance(user, Mapping):
        if isinstance(user.get("mcpServers"), Mapping):
            yield f"{user_path} (user)", user["mcpServers"]
        for project, entry in (user.get("projects") or {}).items():
            if isinstance(entry, Mapping) and isinstance(entry.get("mcpServers"), Mapping):
                yield f"{user_path} (local, {project})", entry["mcpServers"]
    project_path = ctx.cwd / ".mcp.json"
    data = _load(project_path)
    if isinstance(data, Mapping) and isinstance(data.get("mcpServers"), Mapping):
        yield f"{project_path} (project)", data["mcpServers"]


def _looks_secret(name: str, value: Any) -> bool:
    from lynkr_cli.logs import redact_text
    from lynkr_cli.switch.profiles import is_secret_name

    if not isinstance(value, str) or not value.strip() or "${" in value:
        return False
    return is_secret_name(name) or name.lower() == "authorization" or redact_text(value) != value


def literal_findings(ctx: Context) -> list[dict[str, str]]:
    out = []
    for where, servers in _server_maps(ctx):
        for server, entry in servers.items():
            if not isinstance(entry, Mapping):
                continue
            for part in ("env", "headers"):
                values = entry.get(part)
                for name, value in values.items() if isinstance(values, Mapping) else []:
                    if _looks_secret(str(name), value):
                        out.append({"server": str(server), part: str(name), "where": where})
    return out


def mcp_secrets(ctx: Context) -> CheckResult:
    found = literal_findings(ctx)
    if not found:
        return CheckResult("mcp-secrets", "ok", "no literal secrets in MCP server configs")
    listed = "; ".join(
        f"'{f['server']}' {'env ' + f['env'] if 'env' in f else 'header ' + f['headers']}"
        f" in {f['where']}"
        for f in found
    )
    committed = any(f["where"].endswith("(project)") for f in found)
    return CheckResult(
        "mcp-secrets",
        "warn",
        f"MCP config holds literal secrets: {listed}"
        + (" (.mcp.json is usually committed to git)" if committed else ""),
        'Export the value (e.g. GITHUB_TOKEN) and write "${GITHUB_TOKEN}" in its place: '
        "Claude Code expands ${VAR} in .mcp.json and ~/.claude.json. With lynkr: "
        "`lynkr switch mcp add NAME --replace … --env 'GITHUB_TOKEN=${GITHUB_TOKEN}'`.",
        {"findings": found},
    )


CHECKS: list[tuple[str, str, Callable[..., object]]] = [
    ("env.unread-vars", "claude", unread_vars),
    ("mcp-secrets", "mcp", mcp_secrets),
]


@hookimpl
def register_doctor_checks(register: Callable[[Any], Any]) -> None:
    for name, group, run in CHECKS:
        register(DoctorCheck(name=name, run=run, group=group))
