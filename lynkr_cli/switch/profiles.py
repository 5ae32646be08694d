"""Profiles: what Claude Code should talk to, stored in the shared ``lynkr.db``.

A profile is a base URL, one key (sent as ``ANTHROPIC_API_KEY`` or
``ANTHROPIC_AUTH_TOKEN``, never both), the models, extra environment and notes.
:meth:`Profile.env` is the exact environment a profile means; everything that
writes settings, prints export lines or runs a process starts from it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import SecretStr

from lynkr_cli import db, paths
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.settings import mask_secret

KeyField = Literal["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
KEY_FIELDS: tuple[KeyField, ...] = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")

# Model fields and the variable each one sets in Claude Code.
MODEL_VARS: dict[str, str] = {
    "model": "ANTHROPIC_MODEL",
    "haiku_model": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "sonnet_model": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "opus_model": "ANTHROPIC_DEFAULT_OPUS_MODEL",
}
# Every variable lynkr owns in a settings file, whatever the profile sets. The legacy
# small/fast model is listed so a switch removes it (Claude Code now reads HAIKU).
MANAGED_VARS: tuple[str, ...] = (
    "ANTHROPIC_BASE_URL",
    *KEY_FIELDS,
    *MODEL_VARS.values(),
    "ANTHROPIC_SMALL_FAST_MODEL",
)
# Names that would shadow a subcommand of `lynkr switch`.
RESERVED = frozenset(
    {"add", "edit", "rm", "show", "current", "presets", "restore", "run", "import"}
    | {"export", "test", "use", "list", "help", "mcp", "prompt"}
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class Profile:
    """One way to reach a model; ``key`` is never printed unmasked."""

    name: str
    base_url: str = ""
    key: SecretStr | None = None
    key_field: KeyField = "ANTHROPIC_API_KEY"
    model: str = ""
    haiku_model: str = ""
    sonnet_model: str = ""
    opus_model: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    preset: str = ""
    prompt: str = ""  # a prompt preset written into ~/.claude/CLAUDE.md on a user switch

    def key_value(self) -> str:
        return self.key.get_secret_value() if self.key is not None else ""

    def env(self) -> dict[str, str]:
        """The variables this profile sets, in a stable order (extras last)."""
        out: dict[str, str] = {}
        if self.base_url:
            out["ANTHROPIC_BASE_URL"] = self.base_url
        if self.key_value():
            out[self.key_field] = self.key_value()
        for attr, var in MODEL_VARS.items():
            value = getattr(self, attr)
            if value:
                out[var] = value
        for name, value in self.extra_env.items():
            out.setdefault(name, value)
        return out

    def public(self, *, with_key: bool = False) -> dict[str, Any]:
        """JSON-ready, key masked unless ``with_key``."""
        key = self.key_value()
        return {
            "name": self.name,
            "base_url": self.base_url,
            "key_field": self.key_field,
            "key": key if with_key else mask_secret(key) or "",
            "model": self.model,
            "haiku_model": self.haiku_model,
            "sonnet_model": self.sonnet_model,
            "opus_model": self.opus_model,
            "extra_env": mask_env(self.extra_env),
            "notes": self.notes,
            "preset": self.preset,
            "prompt": self.prompt,
        }


def mask_env(env: dict[str, str]) -> dict[str, str]:
    """Mask values whose name says they are secret."""
    return {k: (mask_secret(v) or "") if is_secret_name(k) else v for k, v in env.items()}


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"))


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid profile name {name!r}",
            hint="Use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    if name.lower() in RESERVED:
        raise UsageError(
            f"'{name}' is a subcommand of `lynkr switch` and cannot name a profile",
            hint=f"Pick another name, e.g. '{name}-profile'.",
        )
    return name


def validate(profile: Profile) -> Profile:
    """Reject profiles Claude Code could not use, with a fix for each problem."""
    validate_name(profile.name)
    if profile.key_field not in KEY_FIELDS:
        raise UsageError(f"key field must be one of {', '.join(KEY_FIELDS)}")
    if profile.base_url and not re.match(r"^https?://[^/\s]+", profile.base_url):
        raise UsageError(
            f"base URL {profile.base_url!r} is not an http(s) URL",
            hint="Give it as https://host[:port][/path].",
        )
    _check_utf8(profile)
    for name in profile.extra_env:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise UsageError(f"invalid environment variable name {name!r} in extra env")
        if name in MANAGED_VARS:
            raise UsageError(
                f"{name} is set by the profile's own fields, not by extra env",
                hint="Use --base-url, --key, --key-field or the --*-model options.",
            )
    return profile


def _check_utf8(profile: Profile) -> None:
    """A value Python got from undecodable argv bytes could never be written as JSON."""
    values = [str(v) for v in profile.__dict__.values() if isinstance(v, str)]
    values += [profile.key_value(), *profile.extra_env, *profile.extra_env.values()]
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"a value of profile '{profile.name}' is not valid UTF-8",
                hint="Pass it as UTF-8 text.",
            ) from None


# --------------------------------------------------------------------------- storage

MIGRATIONS: list[db.Migration] = [
    """
    CREATE TABLE switch_profiles (
        name TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        key TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE switch_activations (
        path TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        profile TEXT NOT NULL,
        keys TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE TABLE switch_backups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        backup TEXT,
        prev_profile TEXT,
        prev_keys TEXT,
        at REAL NOT NULL
    );
    """,
    """
    ALTER TABLE switch_backups ADD COLUMN op TEXT;
    ALTER TABLE switch_backups ADD COLUMN kind TEXT;
    ALTER TABLE switch_backups ADD COLUMN undo TEXT;
    CREATE TABLE switch_mcp_servers (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        data TEXT NOT NULL,
        secrets TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE switch_mcp_enabled (
        server TEXT NOT NULL COLLATE NOCASE,
        profile TEXT NOT NULL COLLATE NOCASE,
        enabled INTEGER NOT NULL,
        PRIMARY KEY (server, profile)
    );
    CREATE TABLE switch_mcp_written (
        path TEXT NOT NULL,
        container TEXT NOT NULL,
        server TEXT NOT NULL,
        value TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (path, container, server, value)
    );
    CREATE TABLE switch_prompts (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        text TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
]


def connect() -> sqlite3.Connection:
    """The shared database with the switch tables; the file holds keys, so 0600."""
    conn = db.app_db("switch", MIGRATIONS)
    main = paths.app_db_path()
    # The WAL and shared-memory files hold recent pages, keys included.
    for path in (main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm")):
        try:
            path.chmod(0o600)
        except OSError:
            pass  # absent (no WAL yet) or not ours to change
    return conn


def _row_to_profile(row: sqlite3.Row) -> Profile:
    data = json.loads(row["data"])
    key = SecretStr(row["key"]) if row["key"] else None
    return Profile(name=row["name"], key=key, **data)


def _data(profile: Profile) -> str:
    data = {k: v for k, v in profile.__dict__.items() if k not in ("name", "key")}
    return json.dumps(data, sort_keys=True)


def get(conn: sqlite3.Connection, name: str) -> Profile:
    """The profile ``name``, matched without regard to case (its stored case is kept)."""
    row = conn.execute(
        "SELECT * FROM switch_profiles WHERE name = ? COLLATE NOCASE ORDER BY name = ? DESC",
        (name, name),
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"no profile named '{name}'",
            hint="`lynkr switch` lists profiles; `lynkr switch presets` lists presets.",
        )
    return _row_to_profile(row)


def find(conn: sqlite3.Connection, name: str) -> Profile | None:
    try:
        return get(conn, name)
    except NotFoundError:
        return None


def list_all(conn: sqlite3.Connection) -> list[Profile]:
    rows = conn.execute("SELECT * FROM switch_profiles ORDER BY name COLLATE NOCASE").fetchall()
    return [_row_to_profile(row) for row in rows]


def save(conn: sqlite3.Connection, profile: Profile, *, replace_existing: bool = False) -> None:
    """Insert (or with ``replace_existing`` update) one profile in one transaction."""
    validate(profile)
    now = time.time()
    with db.transaction(conn):
        exists = conn.execute(
            "SELECT name FROM switch_profiles WHERE name = ? COLLATE NOCASE", (profile.name,)
        ).fetchone()
        if exists and not replace_existing:
            raise UsageError(
                f"profile '{exists['name']}' already exists",
                hint=f"Change it with `lynkr switch edit {exists['name']}`, or pick another name.",
            )
        if exists and exists["name"] != profile.name:
            profile = replace(profile, name=exists["name"])  # one profile per name, any case
        conn.execute(
            "INSERT INTO switch_profiles (name, data, key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
            " data = excluded.data, key = excluded.key, updated_at = excluded.updated_at",
            (profile.name, _data(profile), profile.key_value() or None, now, now),
        )


def update(conn: sqlite3.Connection, name: str, **changes: Any) -> Profile:
    profile = replace(get(conn, name), **changes)  # keeps the stored name's case
    save(conn, profile, replace_existing=True)
    return profile


def delete(conn: sqlite3.Connection, name: str) -> str:
    """Delete a profile (any case of its name); returns the name as it was stored."""
    stored = get(conn, name).name
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_profiles WHERE name = ?", (stored,))
        conn.execute("DELETE FROM switch_activations WHERE profile = ?", (stored,))
        conn.execute("DELETE FROM switch_mcp_enabled WHERE profile = ?", (stored,))
    return stored


# --------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    path: str
    scope: str
    profile: str
    keys: tuple[str, ...]
    at: float


def activations(conn: sqlite3.Connection) -> list[Activation]:
    rows = conn.execute("SELECT * FROM switch_activations ORDER BY at DESC").fetchall()
    return [
        Activation(r["path"], r["scope"], r["profile"], tuple(json.loads(r["keys"])), r["at"])
        for r in rows
    ]


def activation_for(conn: sqlite3.Connection, path: str) -> Activation | None:
    return next((a for a in activations(conn) if a.path == path), None)


def record_activation(
    conn: sqlite3.Connection, path: str, scope: str, profile: str, keys: list[str]
) -> None:
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO switch_activations (path, scope, profile, keys, at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(path) DO UPDATE SET scope = excluded.scope,"
            " profile = excluded.profile, keys = excluded.keys, at = excluded.at",
            (path, scope, profile, json.dumps(keys), time.time()),
        )


def forget_activation(conn: sqlite3.Connection, path: str) -> None:
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_activations WHERE path = ?", (path,))
