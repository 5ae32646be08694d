"""The Claude Code settings files ``lynkr switch`` edits, and how it edits them.

Only the ``env`` keys lynkr manages change; every other key, value and the key
order stay as they were (Claude Code users keep ``statusLine``, ``permissions``
and plugins there). A write is: refuse a corrupt file, back up what is there,
write a temporary file (0600) beside it, rename over. ``restore`` undoes the last.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lynkr_cli import db, paths
from lynkr_cli.errors import ConfigError, NotFoundError, UsageError
from lynkr_cli.switch import profiles
from lynkr_cli.switch.profiles import mask_env

Scope = Literal["user", "project", "local"]
SCOPES: tuple[Scope, ...] = ("user", "project", "local")


def claude_dir() -> Path:
    """``~/.claude``, or ``CLAUDE_CONFIG_DIR`` as Claude Code itself honours it."""
    override = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return Path(override).expanduser() if override else Path.home() / ".claude"


def settings_path(scope: Scope, cwd: Path | None = None) -> Path:
    base = cwd or Path.cwd()
    if scope == "user":
        return claude_dir() / "settings.json"
    if scope == "project":
        return base / ".claude" / "settings.json"
    if scope == "local":
        return base / ".claude" / "settings.local.json"
    raise UsageError(f"unknown scope {scope!r}", hint="Use --scope user, project or local.")


def read_text(path: Path) -> str | None:
    try:
        # Bytes, decoded: read_text would turn CRLF into LF and the rewrite would change it.
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text; lynkr will not overwrite it", hint=f"Fix {path}."
        ) from exc
    except (FileNotFoundError, NotADirectoryError):
        return None  # a blocked parent is reported, with its fix, when writing
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc


def parse(text: str | None, path: Path) -> dict[str, Any]:
    """The file as an ordered dict; a file we cannot parse is refused, never rewritten."""
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text.removeprefix(BOM))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "lynkr will not overwrite it",
            hint=f"Fix or remove {path}, then run the switch again.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(data).__name__}, not an object; lynkr will not "
            "overwrite it",
            hint=f"Fix or remove {path}.",
        )
    if "env" in data and not isinstance(data["env"], dict):
        raise ConfigError(
            f"'env' in {path} is not an object; lynkr will not overwrite it",
            hint='Make it an object of strings, e.g. "env": {}.',
        )
    return data


def read_settings(path: Path) -> dict[str, Any]:
    return parse(read_text(path), path)


BOM = "\ufeff"


@dataclass(frozen=True)
class Style:
    """How a file is laid out, so a rewrite changes values, not its look."""

    indent: int | str = 2
    eol: str = "\n"
    bom: bool = False
    final_newline: bool = True


def style_of(text: str | None) -> Style:
    if not text:
        return Style()
    indent: int | str = 2
    for line in text.splitlines()[1:]:
        match = re.match(r"^([ \t]+)\S", line)
        if match:
            lead = match.group(1)
            indent = lead if "\t" in lead else len(lead)
            break
    eol = "\r\n" if "\r\n" in text else "\n"
    return Style(indent, eol, text.startswith(BOM), text.endswith(("\n", "\r")))


def render(data: dict[str, Any], style: Style = Style()) -> str:
    text = json.dumps(data, indent=style.indent, ensure_ascii=False)
    if style.final_newline:
        text += "\n"
    if style.eol != "\n":
        text = text.replace("\n", style.eol)
    return BOM + text if style.bom else text


@dataclass
class Plan:
    """The change one switch makes to one file, computed before anything is written."""

    path: Path
    before_text: str | None
    after: dict[str, Any]
    after_text: str
    set_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """A difference in content; layout alone never causes a rewrite."""
        if self.before_text is None:
            return True
        before = parse(self.before_text, self.path)
        return json.dumps(before) != json.dumps(self.after)

    def diff(self) -> str:
        """A unified diff with secret values masked."""
        style = Style(indent=style_of(self.before_text).indent)
        before = _masked(parse(self.before_text, self.path), style)
        after = _masked(self.after, style)
        lines = difflib.unified_diff(
            before.splitlines(keepends=True) if self.before_text is not None else [],
            after.splitlines(keepends=True),
            fromfile=f"{self.path} (now)" if self.before_text is not None else "/dev/null",
            tofile=f"{self.path} (after)",
        )
        return "".join(lines)


def _masked(data: dict[str, Any], style: Style) -> str:
    if not data:
        return ""
    copy = dict(data)
    if isinstance(copy.get("env"), dict):
        copy["env"] = mask_env({k: str(v) for k, v in copy["env"].items()})
    return render(copy, style)


def plan(path: Path, new_env: dict[str, str], managed: set[str]) -> Plan:
    """Replace the ``managed`` keys of ``env`` with ``new_env``; keep everything else."""
    text = read_text(path)
    data = parse(text, path)
    old_env: dict[str, Any] = dict(data.get("env") or {})
    env: dict[str, Any] = {}
    removed = []
    for key, value in old_env.items():
        if key in new_env:
            env[key] = new_env[key]  # keep the key's place
        elif key in managed:
            removed.append(key)
        else:
            env[key] = value
    for key, value in new_env.items():
        env.setdefault(key, value)
    after = dict(data)
    after["env"] = env  # replaces in place when present, appends when new
    return Plan(path, text, after, render(after, style_of(text)), list(new_env), sorted(removed))


# --------------------------------------------------------------------------- writing


def _writable_dir(path: Path) -> Path:
    parent = path.parent
    blocker = next((p for p in [parent, *parent.parents] if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ConfigError(
            f"cannot write {path}: {blocker} is a file, not a directory",
            hint=f"Move {blocker} aside, or pick another --scope.",
        )
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create {parent}: {exc.strerror or exc}",
            hint="Check the directory's permissions, or pick another --scope.",
        ) from exc
    return parent


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over."""
    target = path.resolve() if path.is_symlink() else path  # keep a dotfiles symlink
    parent = _writable_dir(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ConfigError(
            f"cannot write in {parent}: {exc.strerror or exc}",
            hint="The directory is read-only or full; fix its permissions or pick another --scope.",
        ) from exc
    try:
        os.chmod(tmp, mode)  # mkstemp makes it 0600 already; other modes need this
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc


@contextmanager
def switch_lock(timeout: float = 30.0) -> Iterator[None]:
    """One writer of settings files at a time, across processes (flock where available)."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename still keeps each file whole
        yield
        return
    path = paths.ensure_dir(paths.state_dir()) / "switch.lock"
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConfigError(
                        f"another lynkr switch holds {path} for over {timeout:g}s",
                        hint="Wait for it to finish, or remove the lock file if none runs.",
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def backup_dir() -> Path:
    return paths.state_dir() / "backups"


KEEP_BACKUPS = 20  # per settings file; older backups are pruned


def _stamped_copy(text: str, name: str) -> Path:
    directory = paths.ensure_dir(backup_dir())
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"
    saved = directory / f"{stamp}-{name}"
    atomic_write(saved, text)
    return saved


def backup(conn: sqlite3.Connection, path: Path, text: str | None) -> Path | None:
    """Copy the current file (if any) into the backup dir and remember it for restore."""
    saved = _stamped_copy(text, path.name) if text is not None else None
    prev = profiles.activation_for(conn, str(path))
    with db.transaction(conn):
        conn.execute(
            "INSERT INTO switch_backups (path, backup, prev_profile, prev_keys, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                str(path),
                str(saved) if saved else None,
                prev.profile if prev else None,
                json.dumps(list(prev.keys)) if prev else None,
                time.time(),
            ),
        )
    _prune(conn, path)
    return saved


def _prune(conn: sqlite3.Connection, path: Path) -> None:
    old = conn.execute(
        "SELECT id, backup FROM switch_backups WHERE path = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
        (str(path), KEEP_BACKUPS),
    ).fetchall()
    if not old:
        return
    with db.transaction(conn):
        conn.executemany("DELETE FROM switch_backups WHERE id = ?", [(r["id"],) for r in old])
    for row in old:
        if row["backup"]:
            Path(row["backup"]).unlink(missing_ok=True)


def apply(conn: sqlite3.Connection, change: Plan) -> Path | None:
    """Back up, then write the planned file atomically. Returns the backup's path."""
    _writable_dir(change.path)
    saved = backup(conn, change.path, change.before_text)
    atomic_write(change.path, change.after_text)
    return saved


@dataclass
class Restored:
    path: Path
    backup: Path | None
    profile: str | None
    replaced: Path | None = None  # a copy of what the restore overwrote


def restore(conn: sqlite3.Connection, path: Path | None = None) -> Restored:
    """Undo the last write (to ``path``, or to any file): put the old file back."""
    with switch_lock():
        return _restore(conn, path)


def _restore(conn: sqlite3.Connection, path: Path | None) -> Restored:
    query = "SELECT * FROM switch_backups"
    args: tuple[str, ...] = ()
    if path is not None:
        query += " WHERE path = ?"
        args = (str(path),)
    row = conn.execute(query + " ORDER BY id DESC LIMIT 1", args).fetchone()
    if row is None:
        where = f" of {path}" if path else ""
        raise NotFoundError(
            f"no backup{where} to restore", hint="Backups are taken by `lynkr switch NAME`."
        )
    target = Path(row["path"])
    saved = Path(row["backup"]) if row["backup"] else None
    current = read_text(target)
    # Edits made since the switch would be lost: keep them beside the backups.
    replaced = _stamped_copy(current, f"pre-restore-{target.name}") if current else None
    if saved is None:
        target.unlink(missing_ok=True)  # the switch created the file
    else:
        text = read_text(saved)
        if text is None:
            raise NotFoundError(f"backup file {saved} is missing")
        atomic_write(target, text)
    if row["prev_profile"]:
        keys = json.loads(row["prev_keys"] or "[]")
        profiles.record_activation(
            conn, str(target), _scope_of(conn, target), row["prev_profile"], keys
        )
    else:
        profiles.forget_activation(conn, str(target))
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_backups WHERE id = ?", (row["id"],))
    return Restored(target, saved, row["prev_profile"], replaced)


def _scope_of(conn: sqlite3.Connection, target: Path) -> str:
    found = profiles.activation_for(conn, str(target))
    return found.scope if found else "user"


def managed_keys(conn: sqlite3.Connection, path: Path, profile: profiles.Profile) -> set[str]:
    """What a switch may remove: lynkr's variables, plus the extras it wrote last time."""
    keys = set(profiles.MANAGED_VARS) | set(profile.extra_env)
    previous = profiles.activation_for(conn, str(path))
    if previous is not None:
        keys |= set(previous.keys)
    return keys


def file_env(path: Path) -> dict[str, str]:
    """The ``env`` block of a settings file; unreadable files read as empty."""
    try:
        data = read_settings(path)
    except ConfigError:
        return {}
    env = data.get("env") or {}
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
