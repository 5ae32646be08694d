"""``lynkr switch``: point Claude Code at a profile, for the user, a project, a shell or one run."""

from __future__ import annotations

import sys
from difflib import get_close_matches
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from lynkr_cli import complete, console, hookimpl
from lynkr_cli.errors import UsageError
from lynkr_cli.switch import command_report


class SwitchGroup(TyperGroup):
    """``lynkr switch NAME`` and ``lynkr switch SUBCOMMAND`` share one group."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        # An unknown first word is a profile (or preset) name: hand it to `use`,
        # unless it is no such name and looks like a mistyped subcommand.
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            close = get_close_matches(args[0], [n for n in self.commands if n != "use"])
            if close and not ctx.resilient_parsing and not _known_name(args[0]):
                names = ", ".join(repr(n) for n in close)
                ctx.fail(f"No such command, profile or preset {args[0]!r}. Did you mean {names}?")
            return "use", self.commands["use"], args
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        from typer._click.shell_completion import CompletionItem

        names = complete.profiles_and_presets(ctx, incomplete)
        return [*super().shell_complete(ctx, incomplete),
                *(CompletionItem(name, help=text) for name, text in names)]  # fmt: skip


def _known_name(name: str) -> bool:
    from lynkr_cli.switch import presets, profiles

    return name in presets.load_presets() or profiles.find(_conn(), name) is not None


HELP = """Point Claude Code at a profile: `lynkr switch NAME [--scope user|project|local]`.

With no arguments, list the profiles (the active one marked). A preset name
works on first use: `lynkr switch databricks` creates the profile and asks only
for what is missing. A switch also writes the profile's MCP servers
(`lynkr switch mcp`) and, for the user scope, its prompt preset
(`lynkr switch prompt`); only what lynkr manages changes, byte for byte, and
`lynkr switch restore` undoes it.
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
PromptOpt = Annotated[
    str | None,
    typer.Option(
        "--prompt", help="A prompt preset a user-scope switch writes into ~/.claude/CLAUDE.md."
    ),
]


_say = console.say


def _conn() -> Any:
    from lynkr_cli.switch import profiles

    return profiles.connect()


def _prompter() -> Any:
    """Ask on a terminal; in scripts return None so missing inputs become one clear error."""
    if not sys.stdin.isatty():
        return None

    def ask(item: Any) -> str:
        return str(typer.prompt(item.prompt, hide_input=item.secret, err=True))

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
    rows = [
        {**p.public(), "active": [s.scope for s in states if s.profile == p.name]}
        for p in profiles.list_all(conn)
    ]
    if json_output:
        console.print_json({"profiles": rows, "current": [s.as_dict() for s in states]})
        return
    command_report.hint_unread_vars()
    if not rows:
        console.info(
            "no profiles yet: `lynkr switch databricks` (or any of `lynkr switch presets`)"
        )
        return
    drifted = {(s.profile, s.scope) for s in states if s.profile and not s.in_sync}
    cells = []
    for row in rows:
        row["active"] = [
            f"{sc} (edited since)" if (row["name"], sc) in drifted else sc for sc in row["active"]
        ]
        mark = "*" if row["active"] else ""
        key = f"{row['key']} ({row['key_field'].removeprefix('ANTHROPIC_')})" if row["key"] else "-"
        active = ", ".join(row["active"])
        cells.append([mark, row["name"], row["base_url"], key, row["model"] or "-", active])
    console.table(["active", "profile", "base url", "key", "model", "scopes"], cells)


@switch_app.command("use")
def use(  # noqa: PLR0917
    name: Annotated[
        str,
        typer.Argument(
            help="Profile, or preset to create it from.",
            autocompletion=complete.profiles_and_presets,
        ),
    ],
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

    checked_scope = _scope(scope)  # before anything is created
    conn = _conn()
    changes = activate.field_changes(base_url, key, key_field, model)
    profile, created = activate.obtain(
        conn, name, values=activate.parse_pairs(set_, "--set"), changes=changes, prompt=_prompter()
    )
    if created is None and set_:
        console.warn(f"--set is for creating from a preset; '{name}' exists, so it was ignored")
    if created is not None:
        console.info(f"created profile '{profile.name}' from preset '{profile.preset}'")
        for note in created.notes:
            console.info(note)
        if created.settings_file:
            console.info(f"saved the gateway settings to {created.settings_file}")
    if shell is not None:
        sys.stdout.write(shells.script(shell, profile.env(), profiles.MANAGED_VARS))
        command_report.warn_settings_override()
        return
    result = activate.switch(conn, profile, checked_scope, dry_run=dry_run)
    if json_output:
        console.print_json(
            {**result.as_dict(), "dry_run": dry_run, "diff": result.diff() if dry_run else None}
        )
        return
    if dry_run:
        sys.stdout.write(result.diff() or "no change\n")
        return
    command_report.switched(result)


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
    prompt: PromptOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Create a profile from flags, or from a preset with --preset."""
    from lynkr_cli.switch import activate, presets, profiles

    conn = _conn()
    changes = activate.field_changes(
        base_url, key, key_field, model, haiku_model, sonnet_model, opus_model, notes, prompt
    )
    if env:
        changes["extra_env"] = activate.parse_pairs(env, "--env")
    if preset:
        created = activate.create_from_preset(
            conn,
            presets.get_preset(preset),
            name,
            values=activate.parse_pairs(set_, "--set"),
            changes=changes,
            prompt=_prompter(),
        )
        profile = created.profile
        for note in created.notes:
            console.info(note)
    else:
        profile = profiles.Profile(name=name, **changes)
        profiles.save(conn, profile)
    _show(profile, json_output, "created")


@switch_app.command("edit")
def edit(  # noqa: PLR0917
    name: Annotated[
        str, typer.Argument(help="Profile to change.", autocompletion=complete.profiles)
    ],
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
    prompt: PromptOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Change fields of a profile; run `lynkr switch NAME` again to apply it.

    `--prompt ""` clears the profile's prompt preset.
    """
    from lynkr_cli.switch import activate, profiles

    conn = _conn()
    changes = activate.field_changes(
        base_url, key, key_field, model, haiku_model, sonnet_model, opus_model, notes, prompt
    )
    if env or unset_env:
        extra = dict(profiles.get(conn, name).extra_env) | activate.parse_pairs(env, "--env")
        for gone in unset_env or []:
            extra.pop(gone, None)
        changes["extra_env"] = extra
    if not changes:
        raise UsageError("nothing to change", hint="Pass at least one option, e.g. --model.")
    _show(profiles.update(conn, name, **changes), json_output, "updated")
    active = [a.scope for a in profiles.activations(conn) if a.profile == name]
    if active:
        console.info(f"'{name}' is active ({', '.join(active)}): `lynkr switch {name}` applies it")


@switch_app.command("rm")
def rm(
    name: Annotated[
        str, typer.Argument(help="Profile to delete.", autocompletion=complete.profiles)
    ],
    json_output: JsonOpt = False,
) -> None:
    """Delete a profile (settings files already written keep their values)."""
    from lynkr_cli.switch import profiles

    gone = profiles.delete(_conn(), name)
    if json_output:
        console.print_json({"deleted": gone})
        return
    _say(f"deleted {gone}")


@switch_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Profile to show.", autocompletion=complete.profiles)],
    json_output: JsonOpt = False,
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
    rows = []
    for field, value in doc.items():
        if field == "extra_env":
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        rows.append([field, value if value not in ("", None) else "-"])
    console.table(["field", "value"], rows)


@switch_app.command("current")
def current(json_output: JsonOpt = False) -> None:
    """Which profile each settings file points at, and whether it still matches."""
    from lynkr_cli.switch import activate

    states = activate.current(_conn())
    if json_output:
        console.print_json([s.as_dict() for s in states])
        return
    rows: list[list[console.Cell]] = []
    for s in states:
        state = (
            "-" if s.profile is None else "in sync" if s.in_sync else "edited since: switch again"
        )
        rows.append([s.scope, s.profile or "-", s.base_url or "-", state, str(s.path)])
    console.table(["scope", "profile", "base url", "state", "file"], rows)


@switch_app.command("presets")
def presets_cmd(json_output: JsonOpt = False) -> None:
    """List the presets `lynkr switch NAME` can start from, and what each needs."""
    from lynkr_cli.switch import presets

    items = [p.public() for p in presets.load_presets().values()]
    if json_output:
        console.print_json(items)
        return
    rows = []
    for item in items:
        needs = ", ".join(f"{i['id']} (${'/$'.join(i['env'])})" for i in item["inputs"])
        rows.append([item["name"], item["description"], needs or "-"])
    console.table(["preset", "what it sets up", "needs"], rows)


@switch_app.command("restore")
def restore(
    scope: Annotated[
        str | None,
        typer.Option("--scope", help="Restore this scope's file (default: the last file written)."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Undo the last switch: its settings file, MCP configs and CLAUDE.md together."""
    from lynkr_cli.switch import restore as undoing
    from lynkr_cli.switch import targets

    path = targets.settings_path(_scope(scope)) if scope else None
    done = undoing.restore(_conn(), path)
    if json_output:
        console.print_json(done.as_dict())
        return
    for item in [done, *done.also]:
        if item.kind != "file":
            what = "lynkr's entries put back as they were"
        elif item.backup:
            what = f"from {item.backup}"
        else:
            what = "(removed: it did not exist before)"
        _say(f"restored {item.path} {what}")
        if item.replaced:
            console.info(f"what it replaced is kept in {item.replaced}")


# run, import, export and test live in a sibling module to keep this one short; MCP
# servers and prompt presets are sub-groups of their own.
from lynkr_cli.switch import command_share  # noqa: E402
from lynkr_cli.switch.command_mcp import mcp_app  # noqa: E402
from lynkr_cli.switch.command_prompt import prompt_app  # noqa: E402

command_share.register(switch_app)
switch_app.add_typer(mcp_app, name="mcp")
switch_app.add_typer(prompt_app, name="prompt")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(switch_app, name="switch")
