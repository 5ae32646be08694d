"""``lynkr switch``: point Claude Code at a profile, for the user, a project, a shell or one run."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lynkr_cli import console, hookimpl
from lynkr_cli.errors import UsageError


class SwitchGroup(TyperGroup):
    """``lynkr switch NAME`` and ``lynkr switch SUBCOMMAND`` share one group."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        # An unknown first word is a profile (or preset) name: hand it to `use`.
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "use", self.commands["use"], args
        return super().resolve_command(ctx, args)


HELP = """Point Claude Code at a profile: `lynkr switch NAME [--scope user|project|local]`.

With no arguments, list the profiles (the active one marked). A preset name
works on first use: `lynkr switch databricks` creates the profile and asks only
for what is missing.
"""

switch_app = typer.Typer(cls=SwitchGroup, invoke_without_command=True, help=HELP)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ScopeOpt = Annotated[
    str,
    typer.Option(
        "--scope",
        help="user (~/.claude/settings.json), project (.claude/settings.json) "
        "or local (.claude/settings.local.json).",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="A preset input, ID=VALUE (see `lynkr switch presets`)."),
]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="ANTHROPIC_BASE_URL.")]
KeyOpt = Annotated[
    str | None,
    typer.Option("--key", help="The key; '-' reads it from stdin (keeps it out of history)."),
]
KeyFieldOpt = Annotated[
    str | None,
    typer.Option("--key-field", help="Send the key as ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN."),
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="ANTHROPIC_MODEL.")]
HaikuOpt = Annotated[
    str | None, typer.Option("--haiku-model", help="ANTHROPIC_DEFAULT_HAIKU_MODEL.")
]
SonnetOpt = Annotated[
    str | None, typer.Option("--sonnet-model", help="ANTHROPIC_DEFAULT_SONNET_MODEL.")
]
OpusOpt = Annotated[str | None, typer.Option("--opus-model", help="ANTHROPIC_DEFAULT_OPUS_MODEL.")]
EnvOpt = Annotated[
    list[str] | None, typer.Option("--env", help="Extra variable NAME=VALUE (repeat).")
]
NotesOpt = Annotated[str | None, typer.Option("--notes", help="Free text.")]


def _say(text: str) -> None:
    """One line of human output; user data never parsed as Rich markup."""
    console.out().print(text, markup=False, highlight=False)


def _cells(*values: Any) -> list[str]:
    from rich.markup import escape

    return [escape(str(v)) for v in values]


def _conn() -> Any:
    from lynkr_cli.switch import profiles

    return profiles.connect()


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{what} {item!r} is not NAME=VALUE")
        out[name.strip()] = value
    return out


def _changes(  # noqa: PLR0917
    base_url: str | None = None,
    key: str | None = None,
    key_field: str | None = None,
    model: str | None = None,
    haiku_model: str | None = None,
    sonnet_model: str | None = None,
    opus_model: str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    from pydantic import SecretStr

    if key == "-":
        key = sys.stdin.readline().strip()
    raw = {
        "base_url": base_url,
        "key": SecretStr(key) if key else None,
        "key_field": key_field,
        "model": model,
        "haiku_model": haiku_model,
        "sonnet_model": sonnet_model,
        "opus_model": opus_model,
        "notes": notes,
    }
    return {k: v for k, v in raw.items() if v is not None}


def _prompter() -> Any:
    """Ask on a terminal; in scripts return None so missing inputs become one clear error."""
    if not sys.stdin.isatty():
        return None

    def ask(item: Any) -> str:
        return str(typer.prompt(item.prompt, hide_input=item.secret))

    return ask


def _scope(value: str) -> Any:
    from lynkr_cli.switch.targets import SCOPES

    if value not in SCOPES:
        raise UsageError(f"unknown scope {value!r}", hint="Use --scope user, project or local.")
    return value


# --------------------------------------------------------------------------- list / use


@switch_app.callback()
def switch_main(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from lynkr_cli.switch import activate, profiles

    conn = _conn()
    states = activate.current(conn)
    active = {s.profile: s.scope for s in states if s.profile}
    rows = [
        {**p.public(), "active": sorted(sc for n, sc in active.items() if n == p.name)}
        for p in profiles.list_all(conn)
    ]
    if json_output:
        console.print_json({"profiles": rows, "current": [s.as_dict() for s in states]})
        return
    if not rows:
        console.info(
            "no profiles yet: `lynkr switch databricks` (or any of `lynkr switch presets`)"
        )
        return
    from rich.table import Table

    table = Table("", "profile", "base url", "key", "model", "active in")
    for row in rows:
        mark = "*" if row["active"] else ""
        key = f"{row['key']} ({row['key_field'].removeprefix('ANTHROPIC_')})" if row["key"] else "-"
        table.add_row(
            *_cells(
                mark,
                row["name"],
                row["base_url"],
                key,
                row["model"] or "-",
                ", ".join(row["active"]) or "",
            )
        )
    console.out().print(table)


@switch_app.command("use")
def use(  # noqa: PLR0917
    name: Annotated[str, typer.Argument(help="Profile, or preset to create it from.")],
    scope: ScopeOpt = "user",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; write nothing.")
    ] = False,
    shell: Annotated[
        str | None,
        typer.Option("--shell", help="Print export lines for bash|zsh|fish|powershell instead."),
    ] = None,
    set_: SetOpt = None,
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    key_field: KeyFieldOpt = None,
    model: ModelOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Activate a profile (also `lynkr switch NAME`): write its env into Claude Code's settings."""
    from lynkr_cli.switch import activate, profiles
    from lynkr_cli.switch import shell as shells

    conn = _conn()
    changes = _changes(base_url, key, key_field, model)
    profile, created = activate.obtain(
        conn, name, values=_pairs(set_, "--set"), changes=changes, prompt=_prompter()
    )
    if created is not None:
        console.info(f"created profile '{name}' from preset '{profile.preset}'")
        if created.settings_file:
            console.info(f"saved the gateway settings to {created.settings_file}")
    if shell is not None:
        sys.stdout.write(shells.script(shell, profile.env(), profiles.MANAGED_VARS))
        return
    result = activate.switch(conn, profile, _scope(scope), dry_run=dry_run)
    if json_output:
        console.print_json(
            {
                **result.as_dict(),
                "dry_run": dry_run,
                "diff": result.plan.diff() if dry_run else None,
            }
        )
        return
    if dry_run:
        sys.stdout.write(result.plan.diff() or "no change\n")
        return
    verb = "switched" if result.written else "already on"
    _say(f"{verb} {profile.name} ({profile.base_url or 'no base URL'}) in {result.path}")
    if result.backup:
        console.info(f"backup: {result.backup} (undo with `lynkr switch restore`)")
    for finding in result.shadowed_by:
        console.warn(f"{finding.name} in {finding.where} overrides this {scope} setting")


# --------------------------------------------------------------------------- CRUD


@switch_app.command("add")
def add(  # noqa: PLR0917
    name: Annotated[str, typer.Argument(help="New profile name.")],
    preset: Annotated[str | None, typer.Option("--preset", help="Start from this preset.")] = None,
    set_: SetOpt = None,
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    key_field: KeyFieldOpt = None,
    model: ModelOpt = None,
    haiku_model: HaikuOpt = None,
    sonnet_model: SonnetOpt = None,
    opus_model: OpusOpt = None,
    env: EnvOpt = None,
    notes: NotesOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Create a profile from flags, or from a preset with --preset."""
    from lynkr_cli.switch import activate, presets, profiles

    conn = _conn()
    changes = _changes(
        base_url, key, key_field, model, haiku_model, sonnet_model, opus_model, notes
    )
    if env:
        changes["extra_env"] = _pairs(env, "--env")
    if preset:
        profile = activate.create_from_preset(
            conn,
            presets.get_preset(preset),
            name,
            values=_pairs(set_, "--set"),
            changes=changes,
            prompt=_prompter(),
        ).profile
    else:
        profile = profiles.Profile(name=name, **changes)
        profiles.save(conn, profile)
    _show(profile, json_output, "created")


@switch_app.command("edit")
def edit(  # noqa: PLR0917
    name: Annotated[str, typer.Argument(help="Profile to change.")],
    base_url: BaseUrlOpt = None,
    key: KeyOpt = None,
    key_field: KeyFieldOpt = None,
    model: ModelOpt = None,
    haiku_model: HaikuOpt = None,
    sonnet_model: SonnetOpt = None,
    opus_model: OpusOpt = None,
    env: EnvOpt = None,
    unset_env: Annotated[
        list[str] | None, typer.Option("--unset-env", help="Drop an extra variable (repeat).")
    ] = None,
    notes: NotesOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Change fields of a profile; run `lynkr switch NAME` again to apply it."""
    from lynkr_cli.switch import profiles

    conn = _conn()
    changes = _changes(
        base_url, key, key_field, model, haiku_model, sonnet_model, opus_model, notes
    )
    if env or unset_env:
        extra = dict(profiles.get(conn, name).extra_env) | _pairs(env, "--env")
        for gone in unset_env or []:
            extra.pop(gone, None)
        changes["extra_env"] = extra
    if not changes:
        raise UsageError("nothing to change", hint="Pass at least one option, e.g. --model.")
    _show(profiles.update(conn, name, **changes), json_output, "updated")


@switch_app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="Profile to delete.")], json_output: JsonOpt = False
) -> None:
    """Delete a profile (settings files already written keep their values)."""
    from lynkr_cli.switch import profiles

    profiles.delete(_conn(), name)
    if json_output:
        console.print_json({"deleted": name})
        return
    _say(f"deleted {name}")


@switch_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Profile to show.")], json_output: JsonOpt = False
) -> None:
    """Show one profile, key masked."""
    from lynkr_cli.switch import profiles

    _show(profiles.get(_conn(), name), json_output, None)


def _show(profile: Any, json_output: bool, verb: str | None) -> None:
    doc = profile.public()
    if json_output:
        console.print_json(doc)
        return
    if verb:
        console.info(f"{verb} profile '{profile.name}'")
    for field, value in doc.items():
        if field == "extra_env":
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        _say(f"{field:13} {value if value not in ('', None) else '-'}")


@switch_app.command("current")
def current(json_output: JsonOpt = False) -> None:
    """Which profile each settings file points at, and whether it still matches."""
    from lynkr_cli.switch import activate

    states = activate.current(_conn())
    if json_output:
        console.print_json([s.as_dict() for s in states])
        return
    for s in states:
        note = "" if s.profile is None or s.in_sync else " (edited since: run the switch again)"
        _say(f"{s.scope:8} {s.profile or '-':20} {s.base_url or '-'}{note}  [{s.path}]")


@switch_app.command("presets")
def presets_cmd(json_output: JsonOpt = False) -> None:
    """List the presets `lynkr switch NAME` can start from, and what each needs."""
    from lynkr_cli.switch import presets

    items = [p.public() for p in presets.load_presets().values()]
    if json_output:
        console.print_json(items)
        return
    from rich.table import Table

    table = Table("preset", "what it sets up", "needs")
    for item in items:
        needs = ", ".join(f"{i['id']} (${'/$'.join(i['env'])})" for i in item["inputs"])
        table.add_row(*_cells(item["name"], item["description"], needs or "-"))
    console.out().print(table)


@switch_app.command("restore")
def restore(
    scope: Annotated[
        str | None,
        typer.Option("--scope", help="Restore this scope's file (default: the last file written)."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Put back the settings file as it was before the last switch."""
    from lynkr_cli.switch import targets

    path = targets.settings_path(_scope(scope)) if scope else None
    done = targets.restore(_conn(), path)
    doc = {
        "path": str(done.path),
        "backup": str(done.backup) if done.backup else None,
        "profile": done.profile,
    }
    if json_output:
        console.print_json(doc)
        return
    what = f"from {done.backup}" if done.backup else "(removed: it did not exist before)"
    _say(f"restored {done.path} {what}")


# --------------------------------------------------------------------------- run / links / test


@switch_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def run(
    name: Annotated[str, typer.Argument(help="Profile whose environment the command gets.")],
    command: Annotated[list[str], typer.Argument(help="The command, after --.")],
) -> None:
    """Run one command with a profile's environment: `lynkr switch run NAME -- claude -p hi`."""
    import os
    import subprocess

    from lynkr_cli.switch import activate, profiles

    profile = profiles.get(_conn(), name)
    env = activate.run_env(profile, os.environ)
    try:
        code = subprocess.call(command, env=env)
    except FileNotFoundError:
        raise UsageError(f"command not found: {command[0]}") from None
    raise typer.Exit(code)


@switch_app.command("import")
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
    saved, skipped = _save_imported(found, yes=yes, replace_existing=replace_existing)
    if json_output:
        console.print_json({"imported": [p.public() for p in saved], "skipped": skipped})
        return
    for profile in saved:
        _say(f"imported {profile.name} ({profile.base_url})")
    for item in skipped:
        console.warn(f"skipped {item['name']}: {item['reason']}")


def _save_imported(
    found: list[Any], *, yes: bool, replace_existing: bool
) -> tuple[list[Any], list[dict[str, str]]]:
    from lynkr_cli.switch import conflicts, profiles

    conn = _conn()
    saved, skipped = [], []
    for profile in found:
        _review(profile)
        risky = conflicts.risky(profile.extra_env)
        if conflicts.insecure_base_url(profile.base_url):
            risky.append(
                ("ANTHROPIC_BASE_URL", "plain http to another host sends the key in the clear")
            )
        for var, why in risky:
            console.warn(f"{profile.name}: {var} {why}")
        if risky and not yes and not _confirm(f"save '{profile.name}' with these variables?"):
            skipped.append({"name": profile.name, "reason": "risky variables not accepted (--yes)"})
            continue
        if profiles.find(conn, profile.name) and not replace_existing:
            skipped.append({"name": profile.name, "reason": "a profile has this name (--replace)"})
            continue
        profiles.save(conn, profile, replace_existing=replace_existing)
        saved.append(profile)
    return saved, skipped


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
    return bool(typer.confirm(question, default=False))


@switch_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Profile to share.")],
    with_key: Annotated[
        bool, typer.Option("--with-key", help="Include the key in the link.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Print a lynkr:// link for a profile (without the key unless --with-key)."""
    from lynkr_cli.switch import links, profiles

    link = links.export_link(profiles.get(_conn(), name), with_key=with_key)
    if json_output:
        console.print_json({"name": name, "link": link, "with_key": with_key})
        return
    sys.stdout.write(link + "\n")


@switch_app.command("test")
def test_cmd(
    name: Annotated[str, typer.Argument(help="Profile to test.")],
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


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(switch_app, name="switch")
