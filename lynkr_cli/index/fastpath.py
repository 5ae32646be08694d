"""``lynkr index`` without Typer, pydantic, pluggy or Rich, when the settings are known.

The ``lynkr`` console script (:func:`lynkr_cli.__main__.main`) calls :func:`run`
first. It handles ``lynkr [-q] [-v] index [PATH] [--root DIR] [--json] [--no-claude-md]``
(PATH and DIR find the repository root as the full command does: ``index/root.py``) and
returns None, the full CLI running instead with nothing written, unless:

- the index exists at the default location or at ``LYNKR_INDEX_DB``, with the current
  schema, as the index of PATH (a rebuild is left to the full command);
- its settings inputs are those recorded by the last full ``lynkr index`` that used
  it. That run, its settings validated and its plugins loaded, records in the index's
  ``meta`` table (:func:`remember`) what decides the settings: the environment
  variables of every setting that is not free text, the ``lynkr.toml`` and ``.env``
  files it could read (size, mtime, inode, device, or their absence) and
  ``settings.py`` itself; and what decides the plugins: ``sys.path`` and the mtimes of
  its directories (a distribution installed or removed). Equal inputs give the same
  settings, valid, so neither pydantic nor pluggy is needed; the record holds the
  ``index`` settings. A run with third-party plugins or plugin warnings records nothing.

Then, when :func:`lynkr_cli.index.build.unchanged_report` says there is nothing to
write and CLAUDE.md (unless skipped) is byte-identical to what would be written from
the block cached for this generation, it prints the full command's JSON document or
summary from the index alone. Otherwise it runs what the full command runs,
``service.run`` with the recorded settings, the same progress bar, warnings and
output, and the full CLI's error boundary for what goes wrong there.

An exception while looking falls through to the full command, which does the same
work again and reports the problem its usual way.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from lynkr_cli.index.early import Check, Retreat, Speculated, speculate

if TYPE_CHECKING:
    from pathlib import Path

    from lynkr_cli.index.api import IndexConf
    from lynkr_cli.index.plan import BuildReport
    from lynkr_cli.index.service import ClaudeMode, IndexOutcome
    from lynkr_cli.settings import IndexSettings

ROOT_OPTIONS = frozenset({"-q", "--quiet", "-v", "--verbose"})
SUBCOMMANDS = frozenset({"build", "search", "defs", "refs", "map", "stats"})
RECORD = "cli_settings"  # the meta key of the record :func:`remember` writes
PLUGIN_GROUP = "lynkr"  # plugins.ENTRY_POINT_GROUP, without importing it (a test holds them)
# The environment names of index.db_path, first match wins (the tests hold this to
# settings.field_env_names("index", "db_path")).
DB_ENV = ("LYNKR_INDEX_DB_PATH", "LYNKR_INDEX_DB")
# Beyond the settings' own names: which lynkr.toml is read, and which plugins load.
CONTEXT_ENV = (
    "LYNKR_CONFIG", "LYNKR_HOME", "LYNKR_LOAD_PLUGINS", "HOME", "XDG_CONFIG_HOME",
    "APPDATA", "LOCALAPPDATA", "USERPROFILE",
)  # fmt: skip


class Args(NamedTuple):
    """A command line handled here."""

    path: str  # PATH, or DIR of --root
    json: bool
    no_claude_md: bool
    verbosity: int
    quiet: bool
    exact: bool = False  # --root: PATH is the root, no search

    def root(self) -> str:
        """The repository root, as the full command finds it."""
        if self.exact:
            return self.path
        from lynkr_cli.index.root import find_root

        return str(find_root(self.path))


def parse(argv: list[str]) -> Args | None:
    """The arguments when ``argv`` is a form handled here, else None."""
    at = verbosity = 0
    quiet = False
    while at < len(argv) and argv[at] in ROOT_OPTIONS:
        quiet = quiet or argv[at] in ("-q", "--quiet")
        verbosity += argv[at] in ("-v", "--verbose")
        at += 1
    if argv[at : at + 1] != ["index"]:
        return None
    path: str | None = None
    root: str | None = None
    json_output = no_claude_md = False
    rest = iter(argv[at + 1 :])
    for arg in rest:
        if arg == "--json":
            json_output = True
        elif arg == "--no-claude-md":
            no_claude_md = True
        elif arg in ("--root", "-C") or arg.startswith("--root="):
            value = arg.partition("=")[2] if "=" in arg else next(rest, "")
            if not value or root is not None:
                return None
            root = value
        elif not arg or arg.startswith("-") or arg in SUBCOMMANDS or path is not None:
            return None
        else:
            path = arg
    if root is not None:
        return Args(root, json_output, no_claude_md, verbosity, quiet, exact=True)
    return Args(path or ".", json_output, no_claude_md, verbosity, quiet)


class Recorded(NamedTuple):
    """The ``index`` settings of the record, as :func:`lynkr_cli.index.api.build` reads them."""

    db_path: Path
    workers: int
    max_file_bytes: int


class Found(NamedTuple):
    base: Path
    conf: IndexConf
    claude: ClaudeMode
    outcome: IndexOutcome | None  # None: there is something to write
    loaded: tuple[Inputs, IndexSettings] | None = None  # loaded, not recorded: record after
    check: Check | None = None  # settings still to validate, while parsing (early.py)


def run(argv: list[str]) -> int | None:
    """The exit code when the fast path answered, or None: run the full CLI."""
    args = parse(argv)
    if args is None:
        return None
    try:
        root = args.root()
        found = _look(root, claude=not args.no_claude_md)
        if found is None:
            found = _load(root, claude=not args.no_claude_md)
    except Exception:
        return None  # the full command redoes it all and reports what went wrong
    except KeyboardInterrupt as exc:
        return _failed(exc)
    if found is None:
        return None
    from lynkr_cli import console

    console.configure(verbosity=args.verbosity, quiet=args.quiet)  # the root options
    try:
        outcome = found.outcome or _refresh(found, args.json)
        loaded = found.loaded or (found.check.loaded if found.check else None)
        if loaded is not None:
            remember_run(outcome.report, loaded, plugins_checked=True)
        for warning in outcome.later_warnings():
            console.warn(warning)
        _print(outcome.as_dict(), args.json)
    except Retreat:
        if found.check is not None:
            found.check.undo()
        return None  # the settings were not what the run assumed: the full CLI, afresh
    except BaseException as exc:
        return _failed(exc)
    return 0


def _failed(exc: BaseException) -> int:
    """What the full CLI's error boundary (``LynkrGroup.main``) does with ``exc``."""
    if isinstance(exc, SystemExit) or os.environ.get("LYNKR_DEBUG") == "1":
        raise exc
    from lynkr_cli.cli import exit_code_for  # Typer is imported for an error only

    return exit_code_for(exc)


def _look(path: str, *, claude: bool) -> Found | None:
    """What the full command would report if it would write nothing; what it would be
    told to do otherwise; None when the fast path cannot tell (see the module doc)."""
    from pathlib import Path

    from lynkr_cli.index import api, build, service

    started = time.perf_counter()  # as build_index times itself: imports done
    base = Path(path).resolve()
    if not base.is_dir():
        return None
    configured = next((os.environ[name] for name in DB_ENV if name in os.environ), None)
    db_path = api.db_location(base, None if configured is None else Path(configured))
    if not db_path.is_file():
        return None
    conn, rows = build.open_existing(db_path, base)
    if conn is None:
        return None  # to be rebuilt: the full command, which records
    try:
        record = _record(conn, db_path)
        if record is None:
            return None
        conf = Recorded(db_path, int(record["workers"]), int(record["max_file_bytes"]))
        mode: ClaudeMode = "write" if claude and record["claude_md"] else "skip"
        found = Found(base, conf, mode, None)
        report = build.unchanged_report(base, db_path, conn, rows, started=started)
        if report is None:
            return found
        outcome = service.IndexOutcome(report)
        if mode == "write":
            block = service.cached_block(conn, base)
            if not block or service.merged(base, block)[1]:
                return found
            outcome.claude_md, outcome.claude_md_path = "unchanged", str(base / "CLAUDE.md")
        return found._replace(outcome=outcome)
    finally:
        conn.close()


def _load(path: str, *, claude: bool) -> Found | None:
    """No record to go by (a first run, a rebuild, changed settings): the settings are
    loaded and validated as the full command loads them, still without Typer; the run
    then records them. None (the full CLI) when a third-party plugin is installed, as it
    could change what the full command does, or when the settings do not load: the full
    command reports that, with its exit code."""
    from pathlib import Path

    base = Path(path).resolve()
    if not base.is_dir() or _third_party_plugins():
        return None
    if speculate(base) is not None:  # a first build with the default settings
        return Found(base, Speculated(), "write" if claude else "skip", None, check=Check(base))
    inputs = current_inputs()  # before the settings load what they decide, as the full run
    from lynkr_cli.settings import get_settings

    conf = get_settings().index
    mode: ClaudeMode = "write" if claude and conf.claude_md else "skip"
    return Found(base, conf, mode, None, (inputs, conf))


def _third_party_plugins() -> bool:
    """Whether a third-party plugin would load (declared, and allowed by
    ``LYNKR_LOAD_PLUGINS`` when that is set)."""
    if not _may_declare_plugins(f"[{PLUGIN_GROUP}]"):
        return False  # without importing the plugin machinery (importlib.metadata)
    from importlib import metadata

    from lynkr_cli.plugins import ENTRY_POINT_GROUP, allow_list

    allowed = allow_list()
    points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    return any(allowed is None or point.name in allowed for point in points)


def _may_declare_plugins(section: str) -> bool:
    """False only when no distribution on ``sys.path`` can declare a plugin: none of their
    ``entry_points.txt`` has ``section``. A few stat and read calls, where reading every
    distribution's metadata (importlib.metadata) costs ~30 ms; any doubt (a zip on the
    path, an unreadable folder) is a "maybe", which the exact check then settles."""
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True  # a zip archive: only importlib.metadata reads those
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            return True
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as handle:
                        if section.encode() in handle.read():
                            return True
                except FileNotFoundError:
                    continue
                except OSError:
                    return True
    return False


def _refresh(found: Found, json_output: bool) -> IndexOutcome:
    """What the full command runs: the build, then CLAUDE.md, with the recorded settings."""
    from lynkr_cli import console
    from lynkr_cli.index import service
    from lynkr_cli.index.progress import ProgressBar

    with ProgressBar(enabled=not json_output) as progress:
        return service.run(
            found.base,
            claude=found.claude,
            progress=progress.update,
            settings=found.conf,
            warn=console.warn,
            meanwhile=found.check,
        )


def _print(doc: dict[str, Any], json_output: bool) -> None:
    from lynkr_cli.index import service

    if json_output:
        from lynkr_cli import console

        console.print_json(doc)
    else:
        service.print_summary(doc)


# --------------------------------------------------------------------------- the record


def _record(conn: Any, db_path: Path) -> dict[str, Any] | None:
    """The record of the last full run, if its settings inputs are today's."""
    import json

    from lynkr_cli.index import store

    text = store.get_meta(conn, RECORD)
    if not text:
        return None
    record = json.loads(text)
    if not isinstance(record, dict) or record.get("db") != str(db_path):
        return None
    if record.get("plugins") != plugin_inputs():
        return None
    inputs = settings_inputs(record["names"], record["config_dir"], _explicit_config())
    return record if record.get("inputs") == inputs else None


def _explicit_config() -> str | None:
    """``LYNKR_CONFIG``, as ``settings.explicit_config_file`` reads it without ``--config``."""
    value = os.environ.get("LYNKR_CONFIG", "").strip()
    if not value:
        return None
    from pathlib import Path

    return str(Path(value).expanduser())


def settings_inputs(names: list[str], config_dir: str, explicit: str | None) -> str:
    """Everything that decides the settings, as one string.

    ``names``: the environment variables that can make a setting invalid or change the
    index's; ``config_dir``: the user configuration directory; ``explicit``: the
    ``lynkr.toml`` named by ``--config`` or ``LYNKR_CONFIG``.
    """
    import json

    import lynkr_cli

    cwd = os.getcwd()
    files = [explicit] if explicit else [os.path.join(d, "lynkr.toml") for d in (config_dir, cwd)]
    files.append(os.path.join(cwd, ".env"))
    package = os.path.dirname(os.path.abspath(lynkr_cli.__file__))
    doc = {
        "version": lynkr_cli.__version__,
        "settings_py": _stat(os.path.join(package, "settings.py")),
        "python": [sys.executable, sys.platform, getattr(os, "getuid", lambda: -1)()],
        "env": {name: os.environ[name] for name in names if name in os.environ},
        # By role, not by path: from another directory without lynkr.toml or .env the
        # settings are the same, and a file there is another file (device, inode).
        "explicit": explicit is not None,
        "files": [_stat(path) for path in files],
    }
    return json.dumps(doc, sort_keys=True)


def plugin_inputs() -> str:
    """What decides which plugins load: ``sys.path`` and its directories' mtimes (a
    distribution installed or removed changes its directory)."""
    import json

    return json.dumps([[entry, (_stat(entry) or [0, 0])[1]] for entry in sys.path])


def _stat(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev]


def checked_env_names() -> list[str]:
    """The environment names of every setting a value can make invalid (not free text).

    Free-text settings (``str``, ``SecretStr``, unconstrained) accept any value, so
    their values (API keys among them) are left out of the record.
    """
    from pydantic import SecretStr

    from lynkr_cli import settings

    free: tuple[Any, ...] = (str, SecretStr, str | None, SecretStr | None)
    names = set(CONTEXT_ENV)
    for section, name in settings.iter_fields():
        info = settings.SECTIONS[section].model_fields[name]
        if info.annotation in free and not info.metadata:
            continue
        names.update(settings.field_env_names(section, name))
    return sorted(names)


class Inputs(NamedTuple):
    """The settings inputs of a full run, taken before its settings were loaded."""

    names: list[str]
    config_dir: str
    explicit: str | None
    text: str


def current_inputs() -> Inputs:
    """:func:`settings_inputs` now, with the settings model's names (imports pydantic)."""
    from lynkr_cli import paths, settings

    names = checked_env_names()
    config_dir = str(paths.config_dir())
    explicit = settings.explicit_config_file()
    shown = None if explicit is None else str(explicit)
    return Inputs(names, config_dir, shown, settings_inputs(names, config_dir, shown))


def remember_run(
    report: BuildReport, loaded: tuple[Inputs, IndexSettings], *, plugins_checked: bool = False
) -> None:
    """:func:`remember` after a successful run with the settings ``loaded`` from their
    inputs; a file that changed under it only loses the record (the next run is full)."""
    from pathlib import Path

    inputs, conf = loaded
    try:
        remember(
            Path(report.root), Path(report.db_path), conf, inputs, plugins_checked=plugins_checked
        )
    except OSError:
        pass


def remember(
    root: Path,
    db_path: Path,
    conf: IndexSettings,
    inputs: Inputs,
    *,
    plugins_checked: bool = False,
) -> None:
    """Record ``inputs`` in the index at ``db_path``, for the fast path (see above).

    Called by the full ``lynkr index`` once it has succeeded with ``conf``, loaded from
    ``inputs`` and validated, and its plugins loaded. Nothing is recorded when a plugin
    is not built in or warned, or when the inputs changed during the run; the record is
    written only when it differs from the stored one.
    """
    import json
    import sqlite3

    from lynkr_cli.db import transaction
    from lynkr_cli.index import api, store

    if not plugins_checked:
        from lynkr_cli.plugins import get_manager

        manager = get_manager()
        if manager.warnings or any(not info.builtin for info in manager.infos.values()):
            return
    if settings_inputs(inputs.names, inputs.config_dir, inputs.explicit) != inputs.text:
        return  # a file changed while we ran
    if api.index_path(root, conf) != db_path:
        return
    record = json.dumps(
        {
            "db": str(db_path),
            "inputs": inputs.text,
            "plugins": plugin_inputs(),
            "names": inputs.names,
            "config_dir": inputs.config_dir,
            "claude_md": conf.claude_md,
            "workers": conf.workers,
            "max_file_bytes": conf.max_file_bytes,
        }
    )
    try:
        conn = store.open_db(db_path)
        try:
            if store.get_meta(conn, RECORD) != record:
                with transaction(conn):
                    store.set_meta(conn, {RECORD: record})
        finally:
            conn.close()
    except sqlite3.Error:
        pass  # a busy or read-only index only loses the fast path
