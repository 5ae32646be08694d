"""A first ``lynkr index`` starts parsing while its settings are still being validated.

Loading and validating the settings (pydantic, the settings model) is the largest
part of a first run's start-up, and it decides only four things for the index:
``db_path``, ``workers``, ``max_file_bytes``, ``claude_md``. When nothing can set them
(no ``LYNKR_INDEX_*`` variable, no ``LYNKR_CONFIG``, no ``lynkr.toml`` in the user's
configuration folder or the working directory, no ``.env`` there) they are the
defaults, so the fast path builds with the defaults and validates the settings in
the parent while the workers parse (:class:`Check`, the build's ``meanwhile``).

Only for a first build (no index yet): everything until the settings are checked
goes to a temporary file, which a failed check deletes with the ``.lynkr/`` folder
it made, and CLAUDE.md is written after the build. When the settings do not load,
or are not the defaults after all, :class:`Retreat` sends the run to the full CLI,
which reports them (exit 3) or builds with them, nothing having been written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from lynkr_cli.index.record import Inputs
    from lynkr_cli.settings import IndexSettings

# (db_path, workers, max_file_bytes, claude_md) of IndexSettings() (a test holds them).
DEFAULTS: tuple[Any, ...] = (None, 0, 1_000_000, True)
INDEX_DIR = ".lynkr"


class Speculated(NamedTuple):
    """The default ``index`` settings, as ``api.build`` reads them (``IndexConf``)."""

    db_path: Path | None = None
    workers: int = 0
    max_file_bytes: int = 1_000_000


class Retreat(Exception):
    """The settings do not load, or are not the defaults: the full CLI must run."""


def speculate(base: Path) -> Speculated | None:
    """The defaults, when nothing can change them and ``base`` has no index yet."""
    env = os.environ
    if env.get("LYNKR_CONFIG", "").strip() or any(k.startswith("LYNKR_INDEX") for k in env):
        return None
    cwd = os.getcwd()
    if any(os.path.exists(os.path.join(cwd, name)) for name in ("lynkr.toml", ".env")):
        return None
    if os.path.exists(_user_config()) or (base / INDEX_DIR / "index.db").exists():
        return None
    return Speculated()


def _user_config() -> str:
    home = os.environ.get("LYNKR_HOME", "").strip()
    if home:  # paths.config_dir() without importing platformdirs
        return os.path.join(os.path.expanduser(home), "config", "lynkr.toml")
    from lynkr_cli import paths

    return str(paths.config_dir() / "lynkr.toml")


class Check:
    """The build's ``meanwhile``: validate the settings once the workers are parsing."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.had_index_dir = (base / INDEX_DIR).exists()
        self.loaded: tuple[Inputs, IndexSettings] | None = None

    def __call__(self) -> None:
        from lynkr_cli.index.record import current_inputs

        try:
            inputs = current_inputs()
            from lynkr_cli.settings import get_settings

            conf = get_settings().index
        except Exception as exc:
            raise Retreat(str(exc)) from exc
        if (conf.db_path, conf.workers, conf.max_file_bytes, conf.claude_md) != DEFAULTS:
            raise Retreat("the index settings are not the defaults")
        self.loaded = (inputs, conf)

    def undo(self) -> None:
        """After a retreat: the ``.lynkr/`` folder this run made goes too."""
        if self.had_index_dir:
            return
        import shutil

        shutil.rmtree(self.base / INDEX_DIR, ignore_errors=True)
