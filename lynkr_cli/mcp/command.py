"""``lynkr mcp``: find MCP servers, start them, list and call their tools."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from lynkr_cli import complete, console, hookimpl

mcp_app = typer.Typer(
    help="Find MCP servers (Claude Code, Claude Desktop, Lynkr manifests), list and call tools.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ServerArg = typer.Argument(help="Only this server.", autocompletion=complete.mcp_servers)


def _settings() -> Any:
    # Server stderr and pool events are structured logs: on stderr, quiet unless -v.
    from typing import TextIO, cast

    from lynkr_cli import logs
    from lynkr_cli.settings import get_settings

    level = "info" if console.state.verbosity else "warning"
    logs.configure(level, stream=cast(TextIO, _Stderr()))
    return get_settings()


class _Stderr:
    """Whatever ``sys.stderr`` is at write time (test runners swap and close it)."""

    def write(self, text: str) -> int:
        import sys

        return sys.stderr.write(text)

    def flush(self) -> None:
        import sys

        sys.stderr.flush()


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


@mcp_app.command("list")
def list_servers(json_output: JsonOpt = False) -> None:
    """List every MCP server found, with the file it came from (nothing is started).

    Looks in .mcp.json, ~/.claude.json, claude_desktop_config.json, MCP_MANIFEST_DIRS,
    MCP_SERVER_MANIFEST and [mcp.servers] in lynkr.toml; --json adds every path searched.
    """
    from lynkr_cli.mcp.manifests import discover

    found = discover(_settings())
    if json_output:
        console.print_json({
            "servers": [s.public() for s in found.servers.values()],
            "searched": found.searched, "problems": found.problems,
        })  # fmt: skip
        return
    for problem in found.problems:
        console.warn(problem)
    for s in found.servers.values():
        for warning in s.warnings:
            console.warn(f"{s.name}: {warning}")
    if not found.servers:
        console.info("no MCP servers found; `lynkr mcp list --json` shows where I looked")
        return
    rows = []
    for s in found.servers.values():
        target = s.url if s.transport != "stdio" else " ".join([s.command, *s.args])
        label = f"{s.name} (disabled)" if s.disabled else s.name
        rows.append([label, s.transport + (" (docker)" if s.sandbox else ""), target, s.source])
    console.table(["server", "transport", "command / url", "source"], rows)


async def _tools_of(names: list[str], settings: Any) -> list[dict[str, Any]]:
    import asyncio

    from lynkr_cli.mcp.manifests import get_server

    servers = [get_server(settings, name) for name in names]
    # Concurrently: each server starts, lists and stops inside its own task.
    return list(await asyncio.gather(*(_tools_entry(s, settings) for s in servers)))


async def _tools_entry(server: Any, settings: Any) -> dict[str, Any]:
    from lynkr_cli.mcp import client

    entry: dict[str, Any] = {"server": server.name, "source": server.source}
    try:
        async with client.connect(server, settings, stderr=_stderr_sink(server.name)) as session:
            entry["tools"] = await client.list_tools(session)
    except Exception as exc:  # one broken server must not hide the others
        entry["error"] = getattr(exc, "message", None) or repr(exc)
    return entry


def _stderr_sink(name: str) -> Any:
    return lambda line: console.debug(f"[{name}] {line}")


@mcp_app.command("tools")
def tools(
    server: Annotated[str | None, ServerArg] = None,
    json_output: JsonOpt = False,
) -> None:
    """Start the servers and list their tools with input schemas."""
    from lynkr_cli.errors import UpstreamError
    from lynkr_cli.mcp.manifests import discover

    settings = _settings()
    names = [server] if server else [n for n, s in discover(settings).servers.items()
                                     if not s.disabled]  # fmt: skip
    result = _run(_tools_of(names, settings))
    if json_output:
        console.print_json({"servers": result})
    else:
        _print_tools(result)
    failed = [e for e in result if "error" in e]
    if failed:
        raise UpstreamError(
            f"{len(failed)} of {console.plural(len(result), 'MCP server')} failed: "
            + "; ".join(f"{e['server']}: {e['error']}" for e in failed)
        )


def _print_tools(result: list[dict[str, Any]]) -> None:
    for entry in result:
        if "error" in entry:
            continue
        console.say(console.Styled(entry["server"], "bold"), f"  ({entry['source']})")
        for tool in entry["tools"]:
            sig = _signature(tool["input_schema"])
            console.say(f"  mcp__{entry['server']}__{tool['name']}({sig})")
            if tool["description"]:
                console.say(f"      {tool['description'].splitlines()[0]}")


def _signature(schema: dict[str, Any]) -> str:
    """``name: type, other?: type`` from a JSON schema (``?`` marks optional)."""
    required = set(schema.get("required") or [])
    parts = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("type", "any") if isinstance(prop, dict) else "any"
        parts.append(f"{name}{'' if name in required else '?'}: {kind}")
    return ", ".join(parts)


@mcp_app.command("call")
def call(
    server: Annotated[
        str,
        typer.Argument(
            help="The server name (see `lynkr mcp list`).", autocompletion=complete.mcp_servers
        ),
    ],
    tool: Annotated[str, typer.Argument(help="The tool name (see `lynkr mcp tools`).")],
    json_args: Annotated[str, typer.Argument(help="Tool arguments as a JSON object.")] = "{}",
    json_output: JsonOpt = False,
) -> None:
    """Call one tool of one server and print its result.

    Example: lynkr mcp call time get_current_time '{"timezone": "Europe/Paris"}'

    Exits 4 when the server fails or the tool reports an error, 6 for an unknown server.
    """
    from lynkr_cli.errors import UpstreamError, UsageError

    try:
        args = json.loads(json_args)
    except json.JSONDecodeError as exc:
        hint = """Quote it for the shell: '{"timezone": "UTC"}'"""
        raise UsageError(f"JSON_ARGS is not valid JSON: {exc}", hint=hint) from exc
    if not isinstance(args, dict):
        raise UsageError('JSON_ARGS must be a JSON object, like \'{"key": "value"}\'')
    text, is_error = _run(_call(server, tool, args))
    if json_output:
        console.print_json({"server": server, "tool": tool, "is_error": is_error, "text": text})
    else:
        console.say(text)
    if is_error:
        raise UpstreamError(f"the tool {tool} reported an error")


async def _call(name: str, tool: str, args: dict[str, Any]) -> tuple[str, bool]:
    from lynkr_cli.mcp import client
    from lynkr_cli.mcp.manifests import get_server

    settings = _settings()
    server = get_server(settings, name)
    async with client.connect(server, settings, stderr=_stderr_sink(name)) as session:
        return await client.call_tool(session, tool, args, settings.mcp.call_timeout)


@mcp_app.command("start")
def start(
    server: Annotated[str | None, ServerArg] = None,
    once: Annotated[bool, typer.Option("--once", help="Check health once and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between health checks.")] = 15.0,
    json_output: JsonOpt = False,
) -> None:
    """Run the servers in the foreground and show their health until Ctrl-C."""
    from lynkr_cli.mcp.runner import run_foreground

    settings = _settings()
    report = _run(run_foreground(settings, server, once=once, interval=interval,
                                 show=None if json_output else _show_health))  # fmt: skip
    if json_output:
        console.print_json({"servers": report})
    if any(not r["ok"] for r in report):
        from lynkr_cli.errors import UpstreamError

        raise UpstreamError("some MCP servers are not healthy")


def _show_health(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        mark = "up" if row["ok"] else f"down {row.get('error') or ''}"
        console.info(f"{row['name']:20} {mark}  tools={len(row['tools'])} {row['ms']}ms")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(mcp_app, name="mcp")
