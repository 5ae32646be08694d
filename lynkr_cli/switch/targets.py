"""The files ``lynkr switch`` edits, and how a change to one is planned, shown and made.

A :class:`FileEdit` names a file and a ``build`` function (current text → new text).
Planning runs ``build`` on what the file holds now, for ``--dry-run``'s masked diff;
committing runs it again on whatever the file holds at that moment (see
:func:`lynkr_cli.switch.files.commit`), after a backup. Settings files change only in
the ``env`` keys lynkr manages, through :mod:`lynkr_cli.switch.jsonedit`, so every
other byte stays as it was.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lynkr_cli.errors import ConfigError, UsageError
from lynkr_cli.settings import mask_secret
from lynkr_cli.switch import backups, files, jsonedit, profiles
from lynkr_cli.switch.files import atomic_write, read_text, switch_lock
from lynkr_cli.switch.profiles import is_secret_name

__all__ = ["atomic_write", "read_text", "switch_lock"]

Scope = Literal["user", "project", "local"]
SCOPES: tuple[Scope, ...] = ("user", "project", "local")
BOM = jsonedit.BOM


def claude_dir() -> Path:
    """``~/.claude``, or ``CLAUDE_CONFIG_DIR`` as Claude Code itself honours it."""
    override = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return Path(override).expanduser() if override else Path.home() / ".claude"


def claude_json_path() -> Path:
    """Claude Code's global config: ``~/.claude.json`` (``$CLAUDE_CONFIG_DIR/.claude.json``).

    A legacy ``<config dir>/.config.json`` wins when it exists, as in Claude Code.
    """
    legacy = claude_dir() / ".config.json"
    if legacy.is_file():
        return legacy
    override = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    return (Path(override).expanduser() if override else Path.home()) / ".claude.json"


def settings_path(scope: Scope, cwd: Path | None = None) -> Path:
    base = cwd or Path.cwd()
    if scope == "user":
        return claude_dir() / "settings.json"
    if scope == "project":
        return base / ".claude" / "settings.json"
    if scope == "local":
        return base / ".claude" / "settings.local.json"
    raise UsageError(f"unknown scope {scope!r}", hint="Use --scope user, project or local.")


# --------------------------------------------------------------------------- reading


def refused(path: Path, exc: Exception) -> ConfigError:
    """The error for a file lynkr will not edit, with where and why."""
    if isinstance(exc, jsonedit.JsonError):
        what = f"is not valid JSON (line {exc.line}, column {exc.column}: {exc.message})"
        hint = f"Fix or remove {path}, then run the switch again."
    elif isinstance(exc, jsonedit.NotAnObject) and not exc.path:
        what = f"holds a JSON {exc.kind}, not an object"
        hint = f"Fix or remove {path}."
    elif isinstance(exc, jsonedit.NotAnObject):
        what = f"has '{'.'.join(exc.path)}' as a JSON {exc.kind}, not an object"
        hint = f'Make it an object, e.g. "{exc.path[-1]}": {{}}.'
    else:
        what, hint = str(exc), f"Fix {path}."
    return ConfigError(f"{path} {what}; lynkr will not overwrite it", hint=hint)


def parse(text: str | None, path: Path) -> dict[str, Any]:
    """The file as a dict, validated strictly; a file we cannot use is refused."""
    if text is None or not text.strip(" \t\r\n" + BOM):
        return {}
    try:
        data = jsonedit.loads(text)
        if not isinstance(data, dict):
            raise jsonedit.NotAnObject((), _kind(data))
        if text.count('"env"') > 1:  # maybe twice in one object: ask the span parser
            jsonedit.find(text, jsonedit.parse(text), ("env",))
        if "env" in data and not isinstance(data["env"], dict):
            raise jsonedit.NotAnObject(("env",), _kind(data["env"]))
    except (jsonedit.JsonError, jsonedit.NotAnObject) as exc:
        raise refused(path, exc) from None
    return data


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "number" if value is not None else "literal"


def read_settings(path: Path) -> dict[str, Any]:
    return parse(read_text(path), path)


def file_env(path: Path) -> dict[str, str]:
    """The ``env`` block of a settings file; unreadable files read as empty."""
    try:
        data = read_settings(path)
    except ConfigError:
        return {}
    env = data.get("env") or {}
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


# --------------------------------------------------------------------------- edits


def edit_json(
    path: Path,
    text: str | None,
    container: tuple[str, ...],
    changes: dict[str, Any],
    remove: Iterable[str] = (),
    *,
    root: jsonedit.Node | None = None,
) -> str:
    """``jsonedit.update`` with its refusals turned into errors naming ``path``."""
    try:
        return jsonedit.update(text, container, changes, remove, root=root)
    except (jsonedit.JsonError, jsonedit.NotAnObject) as exc:
        raise refused(path, exc) from None


@dataclass
class FileEdit:
    """One file a switch changes, planned before anything is written."""

    path: Path
    label: str
    build: Callable[[str | None], str]
    kind: str = "file"  # how restore undoes it: file | members | block
    undo: Callable[[str | None], dict[str, Any]] | None = None
    secrets: list[str] = field(default_factory=list)  # values masked in diffs
    claude_lock: bool = False  # take Claude Code's own lock (~/.claude.json)
    private: bool = False  # writes a secret: the file loses group/other permissions
    after_commit: Callable[[sqlite3.Connection], None] | None = None
    set_keys: list[str] = field(default_factory=list)
    removed_keys: list[str] = field(default_factory=list)
    before_text: str | None = None
    after_text: str = ""
    notes: list[str] = field(default_factory=list)  # warnings found while planning
    retries: int = 0  # times the write was recomputed because another program wrote first

    def plan(self) -> FileEdit:
        self.before_text = read_text(self.path)
        self.after_text = self.build(self.before_text)
        return self

    @property
    def changed(self) -> bool:
        return self.after_text != (self.before_text or "")

    def diff(self) -> str:
        """A unified diff with secret values masked."""
        lines = difflib.unified_diff(
            self.before_text.splitlines(keepends=True) if self.before_text is not None else [],
            self.after_text.splitlines(keepends=True),
            fromfile=f"{self.path} (now)" if self.before_text is not None else "/dev/null",
            tofile=f"{self.path} (after)",
        )
        return "".join(mask_line(line, self.secrets) for line in lines)


_SECRET_MEMBER = re.compile(r'("(?P<name>[^"\\]*)"\s*:\s*)"(?P<value>(?:[^"\\]|\\.)*)"')


def mask_line(line: str, secrets: Iterable[str] = ()) -> str:
    """Secret-named members' values, and every known secret value, shown masked."""

    def member(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")):
            return match.group(0)
        value = json.loads(f'"{match.group("value")}"')
        return f'{match.group(1)}"{mask_secret(value) or ""}"'

    out = _SECRET_MEMBER.sub(member, line)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            out = out.replace(
                json.dumps(secret, ensure_ascii=False)[1:-1], mask_secret(secret) or ""
            )
    return out


def commit(conn: sqlite3.Connection, edit: FileEdit, op: str) -> tuple[bool, Path | None]:
    """Back up and write one planned edit, recomputed on the file's text at that moment."""
    rows: list[tuple[int, Path | None]] = []

    def on_replace(text: str | None) -> None:
        undo = edit.undo(text) if edit.undo else None
        rows.append(backups.record(conn, edit.path, text, op=op, kind=edit.kind, undo=undo))

    planned = (edit.before_text, edit.after_text)

    def build(text: str | None) -> str:
        # The file still says what the plan read: its result stands (no second parse).
        return planned[1] if text == planned[0] and planned[1] else edit.build(text)

    if edit.claude_lock:
        with files.claude_json_lock(edit.path):
            done = files.commit(edit.path, build, on_replace=on_replace, private=edit.private)
    else:
        done = files.commit(edit.path, build, on_replace=on_replace, private=edit.private)
    saved = rows[0][1] if rows else None
    if rows and (edit.kind != "file" or done.retries):
        undo = edit.undo(done.before) if edit.undo else {}
        undo["after"] = backups.digest(done.after)
        # Recomputed on newer text: that text is what the write replaced.
        before = (done.before,) if done.retries else None
        saved = backups.amend(conn, rows[0][0], edit.path, undo, before)
    edit.before_text, edit.after_text, edit.retries = done.before, done.after, done.retries
    if edit.after_commit is not None:
        edit.after_commit(conn)
    return done.written, saved


# --------------------------------------------------------------------------- settings env


def env_edit(path: Path, new_env: dict[str, str], managed: set[str], label: str) -> FileEdit:
    """Replace the ``managed`` keys of ``env`` with ``new_env``; keep everything else."""
    remove = managed - set(new_env)

    def build(text: str | None) -> str:
        return edit_json(path, text, ("env",), dict(new_env), remove)

    edit = FileEdit(path, label, build, secrets=_secrets_of(new_env))
    edit.private = bool(edit.secrets)
    edit.plan()
    before = parse(edit.before_text, path).get("env") or {}
    edit.set_keys = list(new_env)
    edit.removed_keys = sorted(k for k in remove if k in before)
    edit.secrets += _secrets_of({str(k): str(v) for k, v in before.items()})
    return edit


def _secrets_of(env: dict[str, str]) -> list[str]:
    return [v for k, v in env.items() if is_secret_name(k) and v]


def managed_keys(conn: sqlite3.Connection, path: Path, profile: profiles.Profile) -> set[str]:
    """What a switch may remove: lynkr's variables, plus the extras it wrote last time."""
    keys = set(profiles.MANAGED_VARS) | set(profile.extra_env)
    previous = profiles.activation_for(conn, str(path))
    if previous is not None:
        keys |= set(previous.keys)
    return keys
