"""The record that lets ``lynkr index`` skip loading the settings (``fastpath.py``).

Every full ``lynkr index`` records, in the index's ``meta`` table (:func:`remember`),
what decided its settings and plugins: the environment variables of every setting that
is not free text (API keys and other free-text values are left out), the
``lynkr.toml`` and ``.env`` files it could read (size, mtime, inode and device, or
their absence), ``settings.py`` itself, and ``sys.path`` with the mtimes of its
directories. The next run uses the recorded ``index`` settings only when all of that
is unchanged (:func:`recorded`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pathlib import Path

    from lynkr_cli.index.plan import BuildReport
    from lynkr_cli.settings import IndexSettings

RECORD = "cli_settings"  # the meta key of the record :func:`remember` writes
# Beyond the settings' own names: which lynkr.toml is read, and which plugins load.
CONTEXT_ENV = (
    "LYNKR_CONFIG", "LYNKR_HOME", "LYNKR_LOAD_PLUGINS", "HOME", "XDG_CONFIG_HOME",
    "APPDATA", "LOCALAPPDATA", "USERPROFILE",
)  # fmt: skip


def recorded(conn: Any, db_path: Path) -> dict[str, Any] | None:
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
        info = settings.field_info(section, name)
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
