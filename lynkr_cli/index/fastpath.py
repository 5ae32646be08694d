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
from lynkr_cli.index.record import (
    Inputs,
    current_inputs,
    recorded,
    remember_run,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lynkr_cli.index.api import IndexConf
    from lynkr_cli.index.service import ClaudeMode, IndexOutcome
    from lynkr_cli.settings import IndexSettings

ROOT_OPTIONS = frozenset({"-q", "--quiet", "-v", "--verbose"})
SUBCOMMANDS = frozenset({"build", "search", "defs", "refs", "map", "stats"})
PLUGIN_GROUP = "lynkr"  # plugins.ENTRY_POINT_GROUP, without importing it (a test holds them)
# The environment names of index.db_path, first match wins (the tests hold this to
# settings.field_env_names("index", "db_path")).
DB_ENV = ("LYNKR_INDEX_DB_PATH", "LYNKR_INDEX_DB")


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
        record = recorded(conn, db_path)
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
