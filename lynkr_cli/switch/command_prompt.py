"""``lynkr switch prompt``: named prompt presets for the user's ~/.claude/CLAUDE.md."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from lynkr_cli import console
from lynkr_cli.errors import UsageError

HELP = """Prompt presets: named texts for ~/.claude/CLAUDE.md.

`use NAME` writes one between lynkr's marker lines; your own text outside them stays
byte for byte. A profile can name one (`lynkr switch edit P --prompt NAME`): a
user-scope switch to it applies the preset.
"""

prompt_app = typer.Typer(help=HELP, no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the diff; write nothing.")]


_say = console.say


def _conn() -> Any:
    from lynkr_cli.switch import profiles

    return profiles.connect()


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source).expanduser()
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"no file {path}", hint="Pass --file PATH (or - for stdin).") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


@prompt_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Preset name.")],
    file: Annotated[str, typer.Option("--file", "-f", help="The text ('-' reads stdin).")],
    replace_existing: Annotated[
        bool, typer.Option("--replace", help="Overwrite a preset of the same name.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Add a preset from a file: `lynkr switch prompt add reviewer --file reviewer.md`."""
    from lynkr_cli.switch import prompts

    preset = prompts.Preset(name, _read(file), "added")
    prompts.save(_conn(), preset, replace_existing=replace_existing)
    if json_output:
        console.print_json(preset.public())
        return
    _say(f"added prompt preset {name} ({len(preset.text.splitlines())} lines)")


@prompt_app.command("list")
def list_cmd(json_output: JsonOpt = False) -> None:
    """The presets, and which one ~/.claude/CLAUDE.md holds now."""
    from lynkr_cli.switch import prompts

    active = prompts.active()
    rows = [{**p.public(), "active": p.name == active} for p in prompts.list_all(_conn())]
    if json_output:
        console.print_json(
            {"presets": rows, "active": active, "file": str(prompts.claude_md_path())}
        )
        return
    if not rows:
        console.info("no prompt presets yet: `lynkr switch prompt add NAME --file F`")
        return
    cells = [
        ["*" if row["active"] else "", row["name"], str(row["lines"]), row["first_line"]]
        for row in rows
    ]
    console.table(["active", "preset", "lines", "first line"], cells)


@prompt_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Preset to print.")], json_output: JsonOpt = False
) -> None:
    """Print a preset's text."""
    from lynkr_cli.switch import prompts

    preset = prompts.get(_conn(), name)
    if json_output:
        console.print_json(preset.public(with_text=True))
        return
    sys.stdout.write(preset.text if preset.text.endswith("\n") else preset.text + "\n")


@prompt_app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="Preset to delete.")], json_output: JsonOpt = False
) -> None:
    """Delete a preset (a CLAUDE.md that holds it keeps its text until `none`)."""
    from lynkr_cli.switch import prompts

    gone = prompts.delete(_conn(), name)
    if json_output:
        console.print_json({"deleted": gone})
        return
    _say(f"deleted prompt preset {gone}")


def _write(preset: Any, dry_run: bool, json_output: bool) -> None:
    from lynkr_cli.switch import backups, prompts, targets

    conn = _conn()
    with targets.switch_lock():
        edit = prompts.edit_use(preset)
        written, backup = (False, None)
        if not dry_run:
            written, backup = targets.commit(conn, edit, backups.new_op())
    doc = {
        "file": str(edit.path),
        "preset": preset.name if preset else None,
        "changed": edit.changed,
        "written": written,
        "backup": str(backup) if backup else None,
        "diff": edit.diff() if dry_run else None,
    }
    if json_output:
        console.print_json(doc)
    elif dry_run:
        sys.stdout.write(edit.diff() or "no change\n")
    elif preset is None:
        _say(f"removed the prompt preset from {edit.path}" if written else "no preset to remove")
    else:
        _say(f"{'wrote' if written else 'already has'} prompt preset {preset.name} in {edit.path}")


@prompt_app.command("use")
def use(
    name: Annotated[str, typer.Argument(help="Preset to write.")],
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Write a preset into ~/.claude/CLAUDE.md between lynkr's markers (undo: restore)."""
    from lynkr_cli.switch import prompts

    _write(prompts.get(_conn(), name), dry_run, json_output)


@prompt_app.command("none")
def none(dry_run: DryRunOpt = False, json_output: JsonOpt = False) -> None:
    """Remove lynkr's preset block from ~/.claude/CLAUDE.md; your text stays."""
    _write(None, dry_run, json_output)


@prompt_app.command("import")
def import_cmd(
    db_path: Annotated[
        str | None,
        typer.Option("--db", help="cc-switch database (default ~/.cc-switch/cc-switch.db)."),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Import cc-switch's Claude prompts as presets (names made safe, duplicates skipped)."""
    from lynkr_cli.switch import mcpimport, prompts

    where = Path(db_path).expanduser() if db_path else mcpimport.default_ccswitch_db()
    saved, skipped = prompts.import_ccswitch(_conn(), where)
    if json_output:
        console.print_json({"imported": [p.public() for p in saved], "skipped": skipped})
        return
    for preset in saved:
        _say(f"imported prompt preset {preset.name}")
    for item in skipped:
        console.info(f"skipped {item['name']}: {item['reason']}")
