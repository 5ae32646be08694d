"""``lynkr switch mcp``: MCP servers kept once, written into Claude Code's config on a switch."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from lynkr_cli import console
from lynkr_cli.errors import NotFoundError, UsageError

HELP = """MCP servers in lynkr's store, enabled per profile.

Add a server once; `lynkr switch PROFILE` writes the servers enabled for that profile
into ~/.claude.json (--scope project: .mcp.json; local: this project's entry in
~/.claude.json) and into Claude Desktop's config when it exists. Only entries lynkr
wrote are ever changed or removed.
"""

mcp_app = typer.Typer(help=HELP, no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Only for this profile (default: every profile)."),
]


_say = console.say


def _store_names(ctx: Any, incomplete: str) -> list[tuple[str, str]]:
    """Completion: server names in lynkr's store (never raises, never creates the db)."""
    try:
        from lynkr_cli import paths
        from lynkr_cli.switch import mcpstore

        if not paths.app_db_path().is_file():
            return []
        found = mcpstore.list_all(_conn())
        return [(s.name, s.transport) for s in found if s.name.startswith(incomplete)]
    except Exception:  # a completing shell must never see a traceback
        return []


NameArg = Annotated[str, typer.Argument(help="Server name.", autocompletion=_store_names)]


def _conn() -> Any:
    from lynkr_cli.switch import profiles

    return profiles.connect()


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``K=V`` options; a value of ``-`` is read from stdin (one line each, in order)."""
    from lynkr_cli.switch import activate

    out = activate.parse_pairs(items, what)
    for name, value in out.items():
        if value == "-":
            out[name] = sys.stdin.readline().rstrip("\r\n")
    return out


def _check_profile(conn: Any, profile: str | None) -> str | None:
    """An existing profile (its stored name) or a preset name a first switch will create."""
    if profile is None:
        return None
    from lynkr_cli.switch import presets, profiles

    found = profiles.find(conn, profile)
    if found is not None:
        return found.name
    if profile.lower() in {p.lower() for p in presets.load_presets()}:
        return profile
    raise NotFoundError(
        f"no profile or preset named '{profile}'", hint="`lynkr switch` lists profiles."
    )


def _apply_hint(conn: Any) -> None:
    from lynkr_cli.switch import profiles

    active = {a.profile for a in profiles.activations(conn)}
    if active:
        names = ", ".join(f"`lynkr switch {name}`" for name in sorted(active))
        console.info(f"the next switch writes it into Claude Code's config ({names} does it now)")
    else:
        console.info("`lynkr switch PROFILE` writes it into Claude Code's config")


@mcp_app.command("add")
def add(  # noqa: PLR0917
    name: Annotated[str, typer.Argument(help="Server name (letters, digits, '_', '-').")],
    command: Annotated[
        list[str] | None, typer.Argument(help="After --: the command and its arguments.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="A remote server's URL.")] = None,
    transport: Annotated[
        str | None, typer.Option("--transport", help="http (default with --url) or sse.")
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="K=V for a stdio server (repeat; V '-' reads stdin)."),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="K=V for a remote server (repeat; '-' reads stdin)."),
    ] = None,
    profile: ProfileOpt = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Add it without enabling it anywhere.")
    ] = False,
    replace_existing: Annotated[
        bool, typer.Option("--replace", help="Overwrite a server of the same name.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Add a server: `lynkr switch mcp add time -- mcp-server-time`, or --url URL.

    Values of --env and --header are secrets (stored like profile keys, shown masked).
    Write `--env 'TOKEN=${TOKEN}'` to have Claude Code read it from its environment.
    """
    from lynkr_cli.switch import mcpstore

    if bool(command) == bool(url):
        raise UsageError(
            "give either a command (after --) or --url",
            hint="lynkr switch mcp add NAME -- COMMAND ARGS…, or … mcp add NAME --url URL",
        )
    kind = transport or ("http" if url else "stdio")
    if (kind == "stdio") != bool(command):
        raise UsageError(f"--transport {kind} does not fit a {'command' if command else 'URL'}")
    conn = _conn()
    scope = _check_profile(conn, profile)
    server = mcpstore.McpServer(
        name=name,
        transport=kind,  # type: ignore[arg-type]  # validate() names a bad one
        command=command[0] if command else "",
        args=list(command[1:]) if command else [],
        env=_pairs(env, "--env"),
        url=url or "",
        headers=_pairs(header, "--header"),
        source="added",
    )
    mcpstore.save(conn, server, replace_existing=replace_existing)
    if not disabled:
        mcpstore.set_enabled(conn, server.name, scope, True)
    doc = {**server.public(), "enabled_for": [] if disabled else [scope or mcpstore.ALL]}
    if json_output:
        console.print_json(doc)
        return
    where = "nowhere yet" if disabled else (f"profile {scope}" if scope else "every profile")
    _say(f"added MCP server {server.name} ({server.transport}), enabled for {where}")
    if not disabled:
        _apply_hint(conn)


@mcp_app.command("list")
def list_cmd(json_output: JsonOpt = False) -> None:
    """The servers in lynkr's store, where each is enabled, and which files hold them."""
    from lynkr_cli.switch import mcpstore

    conn = _conn()
    table = mcpstore.enablement(conn)
    written = _written(conn)
    rows = []
    for server in mcpstore.list_all(conn):
        flags = table.get(server.name.lower(), {})
        rows.append(
            {
                **server.public(),
                "enabled": {p: on for p, on in sorted(flags.items())},
                "written_to": written.get(server.name, []),
            }
        )
    if json_output:
        console.print_json({"servers": rows})
        return
    if not rows:
        console.info("no MCP servers yet: `lynkr switch mcp add NAME -- CMD` or `… mcp import`")
        return
    cells = [
        [
            row["name"],
            row["transport"],
            row["url"] or " ".join([row["command"], *row["args"]]),
            _enabled_text(row["enabled"]),
            ", ".join(row["written_to"]) or "-",
        ]
        for row in rows
    ]
    console.table(["server", "transport", "command / url", "enabled for", "written to"], cells)


def _enabled_text(flags: dict[str, bool]) -> str:
    on = ["every profile" if p == "*" else p for p, v in flags.items() if v]
    off = [f"not {p}" for p, v in flags.items() if not v]
    return ", ".join(on + off) or "nowhere"


def _written(conn: Any) -> dict[str, list[str]]:
    import json

    out: dict[str, list[str]] = {}
    rows = conn.execute("SELECT path, container, server FROM switch_mcp_written WHERE active = 1")
    for row in rows:
        container = json.loads(row["container"])
        label = row["path"] + ("" if container == ["mcpServers"] else f" ({'.'.join(container)})")
        out.setdefault(row["server"], []).append(label)
    return out


@mcp_app.command("remove")
def remove(name: NameArg, json_output: JsonOpt = False) -> None:
    """Remove a server from the store; the next switch removes what lynkr wrote of it."""
    from lynkr_cli.switch import mcpstore

    conn = _conn()
    server = mcpstore.delete(conn, name)
    if json_output:
        console.print_json({"removed": server.name})
        return
    _say(f"removed MCP server {server.name}")
    _apply_hint(conn)


def _toggle(name: str, profile: str | None, on: bool, json_output: bool) -> None:
    from lynkr_cli.switch import mcpstore

    conn = _conn()
    scope = _check_profile(conn, profile)
    server = mcpstore.set_enabled(conn, name, scope, on)
    flags = mcpstore.enablement(conn).get(server.name.lower(), {})
    if json_output:
        console.print_json({"name": server.name, "enabled": flags})
        return
    verb = "enabled" if on else "disabled"
    _say(f"{verb} {server.name} for {('profile ' + scope) if scope else 'every profile'}")
    _apply_hint(conn)


@mcp_app.command("enable")
def enable(
    name: NameArg,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Enable a server for one profile, or for every profile."""
    _toggle(name, profile, True, json_output)


@mcp_app.command("disable")
def disable(
    name: NameArg,
    profile: ProfileOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Disable a server for one profile (even when enabled for all), or everywhere."""
    _toggle(name, profile, False, json_output)


@mcp_app.command("rename")
def rename(
    old: NameArg,
    new: Annotated[str, typer.Argument(help="New name.")],
    json_output: JsonOpt = False,
) -> None:
    """Rename a server (its enablement follows); the next switch writes the new name."""
    from dataclasses import replace

    from lynkr_cli import db
    from lynkr_cli.switch import mcpstore

    conn = _conn()
    server = mcpstore.get(conn, old)
    if mcpstore.find(conn, new) is not None and new.lower() != old.lower():
        raise UsageError(f"an MCP server named '{new}' already exists")
    mcpstore.validate(replace(server, name=new))
    with db.transaction(conn):
        conn.execute("UPDATE switch_mcp_servers SET name = ? WHERE name = ?", (new, server.name))
        conn.execute(
            "UPDATE switch_mcp_enabled SET server = ? WHERE server = ?", (new, server.name)
        )
    if json_output:
        console.print_json({"renamed": server.name, "to": new})
        return
    _say(f"renamed MCP server {server.name} to {new}")


@mcp_app.command("import")
def import_cmd(
    from_cc_switch: Annotated[
        bool, typer.Option("--from-cc-switch", help="Read cc-switch's database instead.")
    ] = False,
    db_path: Annotated[
        str | None,
        typer.Option("--db", help="cc-switch database (default ~/.cc-switch/cc-switch.db)."),
    ] = None,
    enable_all: Annotated[
        bool, typer.Option("--enable", help="Enable every imported server for every profile.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Import the servers `lynkr mcp list` finds (or cc-switch's), skipping duplicates.

    `${VAR}` references are kept as references. Imported servers are enabled only with
    --enable; from cc-switch, those it had switched on for Claude are enabled.
    """
    from pathlib import Path

    from lynkr_cli.switch import mcpimport

    if from_cc_switch:
        where = Path(db_path).expanduser() if db_path else mcpimport.default_ccswitch_db()
        found, problems = mcpimport.from_ccswitch(where)
    elif db_path:
        raise UsageError("--db goes with --from-cc-switch")
    else:
        found, problems = mcpimport.discovered()
    result = mcpimport.save_all(_conn(), found, enable=enable_all)
    result.problems[:0] = problems
    if json_output:
        console.print_json(
            {
                "imported": [s.public() for s in result.saved],
                "skipped": result.skipped,
                "problems": result.problems,
            }
        )
        return
    for server in result.saved:
        _say(f"imported {server.name} ({server.transport}) from {server.source}")
    for item in result.skipped:
        console.info(f"skipped {item['name']} from {item['source']}: {item['reason']}")
    for problem in result.problems:
        console.warn(problem)
    if not result.saved:
        console.info("nothing new to import")
