"""Built-in housekeeping commands: ``plugins``, ``config`` and ``cache``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lynkr_cli import console, hookimpl

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

config_app = typer.Typer(
    help="Show the effective settings and the files they come from.", no_args_is_help=True
)
cache_app = typer.Typer(help="Inspect or empty the prompt cache.", no_args_is_help=True)


def plugins(json_output: JsonOpt = False) -> None:
    """List loaded plugins with their hooks and versions."""
    from lynkr_cli.plugins import get_manager

    infos = get_manager().list()
    if json_output:
        console.print_json([info.__dict__ for info in infos])
        return
    rows = []
    for info in infos:
        kind = "builtin" if info.builtin else "entry point"
        status = console.Styled(f"error: {info.error}", "red") if info.error else kind
        rows.append([info.name, info.version, ", ".join(info.hooks), status])
    console.table(["plugin", "version", "hooks", "status"], rows)


@config_app.command("show")
def config_show(json_output: JsonOpt = False) -> None:
    """Print every effective setting, secrets masked, and where each came from."""
    from lynkr_cli.settings import load_settings, masked_dump

    loaded = load_settings()
    values = masked_dump(loaded.settings)
    backends = _backends(loaded.settings)
    if json_output:
        doc: dict[str, Any] = {
            section: {
                name: {"value": value, "source": loaded.sources[f"{section}.{name}"]}
                for name, value in fields.items()
            }
            for section, fields in values.items()
        }
        files = [str(p) for p in loaded.files]
        console.print_json({"settings": doc, "files": files, "backends": backends})
        return
    rows, styles = [], []
    for section, fields in values.items():
        for name, value in fields.items():
            source = loaded.sources[f"{section}.{name}"]
            rows.append([f"{section}.{name}", repr(value), source])
            styles.append("dim" if source == "default" else "")
    for what, use in backends.items():  # where the gateway's shared state lives
        if isinstance(use, dict):
            shown = use["backend"] + (f" {use['url']}" if use.get("url") else "")
            rows.append([f"backends.{what}", shown, "derived"])
            styles.append("")
    if "error" in backends:
        rows.append(["backends", backends["summary"], "derived"])
        styles.append("")
    console.table(["setting", "value", "source"], rows, row_styles=styles)


def _backends(settings: Any) -> dict[str, Any]:
    """Where the gateway keeps keys, usage, audit, limits and its cache (no passwords)."""
    from lynkr_cli.errors import ConfigError
    from lynkr_cli.team.api import backends

    try:
        return backends(settings)
    except ConfigError as exc:
        return {"summary": f"invalid: {exc.message}", "error": exc.message}


@config_app.command("path")
def config_path(json_output: JsonOpt = False) -> None:
    """Print the config files and lynkr's directories."""
    from pathlib import Path

    from lynkr_cli import paths
    from lynkr_cli.settings import CONFIG_FILENAME, config_files, explicit_config_file

    doc = {
        "config_files": [str(p) for p in config_files(Path.cwd(), explicit_config_file())],
        "user_config": str(paths.config_dir() / CONFIG_FILENAME),
        "project_config": str(Path.cwd() / CONFIG_FILENAME),
        "dotenv": str(Path.cwd() / ".env"),
        "config_dir": str(paths.config_dir()),
        "data_dir": str(paths.data_dir()),
        "cache_dir": str(paths.cache_dir()),
        "log_dir": str(paths.log_dir()),
        "database": str(paths.app_db_path()),
    }
    if json_output:
        console.print_json(doc)
        return
    rows: list[list[console.Cell]] = []
    for key, value in doc.items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        rows.append([key, shown or "(none)"])
    console.table(["what", "path"], rows)


def _open_cache() -> Any:
    from lynkr_cli.cache import PromptCache
    from lynkr_cli.settings import get_settings

    return PromptCache(get_settings().cache)


@cache_app.command("stats")
def cache_stats(json_output: JsonOpt = False) -> None:
    """Show entries, size, limits and hit ratio of the prompt cache."""
    cache = _open_cache()
    stats = cache.stats().as_dict()
    cache.close()
    if json_output:
        console.print_json(stats)
        return
    console.table(["stat", "value"], [[key, value] for key, value in stats.items()])


@cache_app.command("clear")
def cache_clear(json_output: JsonOpt = False) -> None:
    """Remove every entry from the prompt cache."""
    cache = _open_cache()
    removed = cache.clear()
    cache.close()
    if json_output:
        console.print_json({"removed": removed})
        return
    console.say(f"removed {console.plural(removed, 'cached response')}")


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.command("plugins")(plugins)
    app.add_typer(config_app, name="config")
    app.add_typer(cache_app, name="cache")
