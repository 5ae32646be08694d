"""``lynkr switch run | import | export | test``: one process, share links, and probes.

These subcommands join the ``switch`` group from :mod:`lynkr_cli.switch.command`.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from lynkr_cli import complete, console
from lynkr_cli.errors import UsageError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


_say = console.say


def _conn() -> Any:
    from lynkr_cli.switch import profiles

    return profiles.connect()


# --------------------------------------------------------------------------- run / links / test


def run(
    name: Annotated[
        str,
        typer.Argument(
            help="Profile whose environment the command gets.", autocompletion=complete.profiles
        ),
    ],
    command: Annotated[list[str], typer.Argument(help="The command, after --.")],
) -> None:
    """Run one command with a profile's environment: `lynkr switch run NAME -- claude -p hi`."""
    import os
    import subprocess
    import tempfile

    from lynkr_cli.switch import activate, profiles

    profile = profiles.get(_conn(), name)
    env = activate.run_env(profile, os.environ)
    with tempfile.TemporaryDirectory(prefix="lynkr-run-") as private:
        argv = activate.run_argv(profile, command, private)
        try:
            code = subprocess.call(argv, env=env)
        except FileNotFoundError:
            raise UsageError(f"command not found: {command[0]}") from None
    raise typer.Exit(code)


def import_cmd(  # noqa: PLR0917
    url: Annotated[str | None, typer.Argument(help="A lynkr:// or ccswitch:// link.")] = None,
    from_cc_switch: Annotated[
        bool, typer.Option("--from-cc-switch", help="Import cc-switch's Claude providers.")
    ] = False,
    db_path: Annotated[
        str | None,
        typer.Option("--db", help="cc-switch database (default ~/.cc-switch/cc-switch.db)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Save under this name.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Accept risky extra variables.")] = False,
    replace_existing: Annotated[
        bool, typer.Option("--replace", help="Overwrite profiles with the same name.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Import a profile from a link, or every Claude provider from cc-switch's database."""
    from dataclasses import replace
    from pathlib import Path

    from lynkr_cli.switch import links

    if from_cc_switch == bool(url):
        raise UsageError("give either a link or --from-cc-switch", hint="lynkr switch import URL")
    if url:
        found = [links.parse_link(url)]
        if name:
            found = [replace(found[0], name=name)]
    else:
        path = Path(db_path).expanduser() if db_path else links.default_ccswitch_db()
        found = [item.profile for item in links.read_ccswitch_db(path)]
    carried = links.link_servers(url) if url else []  # refused before anything is saved
    saved, skipped = _save_imported(found, yes=yes, replace_existing=replace_existing)
    servers = _link_servers(carried, saved)
    if json_output:
        console.print_json(
            {"imported": [p.public() for p in saved], "skipped": skipped, "mcp_servers": servers}
        )
        return
    for profile in saved:
        _say(f"imported {profile.name} ({profile.base_url})")
    for item in skipped:
        console.warn(f"skipped {item['name']}: {item['reason']}")
    for server in servers:
        console.info(f"MCP server {server['name']}: {server['status']}")


def _link_servers(carried: list[Any], saved: list[Any]) -> list[dict[str, Any]]:
    """A link's MCP servers: a server of that name here wins (by reference); new ones are
    added. Each is enabled for the imported profile. Blank secrets are reported."""
    from lynkr_cli.switch import mcpstore, prompts

    if not saved:
        return []
    profile = saved[0]
    conn = _conn()
    out = []
    for server in carried:
        existing = mcpstore.find(conn, server.name)
        if existing is not None:
            status = "already here; this machine's definition is used"
        else:
            mcpstore.save(conn, server)
            blank = [k for k, v in {**server.env, **server.headers}.items() if not v]
            status = "added" + (
                f" without values for {', '.join(blank)} (the link left secrets out): "
                f"`lynkr switch mcp add {server.name} --replace …` sets them"
                if blank
                else ""
            )
        mcpstore.set_enabled(conn, (existing or server).name, profile.name, True)
        out.append({"name": (existing or server).name, "status": status})
    if profile.prompt and prompts.find(conn, profile.prompt) is None:
        console.warn(
            f"profile {profile.name} names prompt preset '{profile.prompt}', which is not here: "
            f"`lynkr switch prompt add {profile.prompt} --file F`"
        )
    return out


def _save_imported(
    found: list[Any], *, yes: bool, replace_existing: bool
) -> tuple[list[Any], list[dict[str, str]]]:
    from lynkr_cli.switch import activate

    def accept(profile: Any, risky: list[tuple[str, str]]) -> bool:
        for var, why in risky:
            console.warn(f"{profile.name}: {var} {why}")
        return yes or _confirm(f"save '{profile.name}' with these variables?")

    for profile in found:
        _review(profile)
    done = activate.import_profiles(
        _conn(), found, accept_risky=accept, replace_existing=replace_existing
    )
    return done.saved, done.skipped


def _review(profile: Any) -> None:
    doc = profile.public()
    extra = ", ".join(f"{k}={v}" for k, v in doc["extra_env"].items()) or "-"
    console.info(
        f"profile {doc['name']}: base_url={doc['base_url'] or '-'} "
        f"{doc['key_field']}={doc['key'] or '-'} model={doc['model'] or '-'} extra: {extra}"
    )


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return bool(typer.confirm(question, default=False, err=True))


def export(
    name: Annotated[
        str, typer.Argument(help="Profile to share.", autocompletion=complete.profiles)
    ],
    with_key: Annotated[
        bool, typer.Option("--with-key", help="Include the key in the link.")
    ] = False,
    include_secrets: Annotated[
        bool,
        typer.Option(
            "--include-secrets", help="Include the key and the MCP servers' env/header values."
        ),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Print a lynkr:// link for a profile, its MCP servers and prompt preset by name.

    Secrets (the key, MCP env and header values) are left out unless asked for.
    """
    from lynkr_cli.switch import links, mcpstore, profiles

    conn = _conn()
    profile = profiles.get(conn, name)
    servers = mcpstore.enabled_for(conn, profile.name)
    link = links.export_link(
        profile, with_key=with_key, servers=servers, include_secrets=include_secrets
    )
    if json_output:
        console.print_json(
            {
                "name": profile.name,
                "link": link,
                "with_key": with_key or include_secrets,
                "include_secrets": include_secrets,
                "mcp_servers": [s.name for s in servers],
                "prompt": profile.prompt or None,
            }
        )
        return
    sys.stdout.write(link + "\n")


def test_cmd(
    name: Annotated[str, typer.Argument(help="Profile to test.", autocompletion=complete.profiles)],
    probe: Annotated[
        bool, typer.Option("--probe", help="Also make a real 1-token /v1/messages call.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per step.")] = 5.0,
    json_output: JsonOpt = False,
) -> None:
    """Check a profile's endpoint: DNS, TLS, status, first byte; --probe checks key and model."""
    from lynkr_cli.switch import probe as probes
    from lynkr_cli.switch import profiles

    profile = profiles.get(_conn(), name)
    if not profile.base_url:
        raise UsageError(
            f"profile '{name}' has no base URL", hint=f"lynkr switch edit {name} --base-url URL"
        )
    results = {"reach": probes.reach(profile.base_url, timeout)}
    if probe:
        results["probe"] = probes.probe_messages(profile, max(timeout, 30.0))
    ok = all(r.ok for r in results.values())
    if json_output:
        console.print_json(
            {"profile": name, "ok": ok, **{k: r.as_dict() for k, r in results.items()}}
        )
    else:
        for label, r in results.items():
            if r.ok:
                _say(
                    f"{label:6} ok   HTTP {r.status}  dns {r.dns_ms} ms  "
                    f"first byte {r.ttfb_ms} ms  {r.url}"
                )
            else:
                _say(f"{label:6} FAIL {r.error}  {r.url}")
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these subcommands to the ``switch`` group."""
    app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
        run
    )
    app.command("import")(import_cmd)
    app.command("export")(export)
    app.command("test")(test_cmd)
