"""Where lynkr keeps its files: platformdirs, all overridden by ``LYNKR_HOME``."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "lynkr"


def lynkr_home() -> Path | None:
    """The ``LYNKR_HOME`` override, if set: every lynkr directory lives under it."""
    value = os.environ.get("LYNKR_HOME", "").strip()
    return Path(value).expanduser() if value else None


def _platform_dir(kind: str) -> Path:
    import platformdirs

    func = getattr(platformdirs, f"user_{kind}_dir")
    return Path(func(APP_NAME, appauthor=False))


def _dir(kind: str) -> Path:
    home = lynkr_home()
    return home / kind if home is not None else _platform_dir(kind)


def config_dir() -> Path:
    """User configuration: the user-level ``lynkr.toml`` lives here."""
    return _dir("config")


def data_dir() -> Path:
    """User data: ``lynkr.db`` (profiles, tasks, usage, audit)."""
    return _dir("data")


def cache_dir() -> Path:
    """Caches: the prompt cache lives here by default."""
    return _dir("cache")


def log_dir() -> Path:
    """Log files."""
    return _dir("log")


def state_dir() -> Path:
    """Runtime state: backups of files lynkr rewrote."""
    return _dir("state")


def ensure_dir(path: Path, mode: int = 0o700) -> Path:
    """Create ``path`` (and parents) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path


def app_db_path() -> Path:
    """The shared SQLite database for profiles, tasks, keys, usage and audit."""
    return data_dir() / "lynkr.db"
