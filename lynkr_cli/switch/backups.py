"""Backups of what ``lynkr switch`` replaced, and ``restore``, which undoes one switch.

Every write first copies the file into ``<state dir>/backups/`` and records a row in
``switch_backups``. The rows of one switch share an ``op`` id, so ``restore`` undoes a
switch as a whole: settings file, ``~/.claude.json``, ``.mcp.json``, Claude Desktop's
config and CLAUDE.md together. How each file is undone depends on who else writes it:

- ``file`` (settings files): the copy goes back, byte for byte;
- ``members`` (MCP configs): only the ``mcpServers`` entries lynkr touched get their old
  values back. Claude Code rewrites ``~/.claude.json`` constantly (history, projects,
  counters); putting back a whole old copy would erase all of that;
- ``block`` (CLAUDE.md): only lynkr's marked block is put back, the user's text stays.

What a restore overwrites is copied first too (``…-pre-restore-NAME``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli import db, paths
from lynkr_cli.errors import NotFoundError
from lynkr_cli.switch import files, profiles

KEEP_BACKUPS = 20  # per file; older backups are pruned


def backup_dir() -> Path:
    return paths.state_dir() / "backups"


def stamped_copy(text: str, name: str) -> Path:
    directory = paths.ensure_dir(backup_dir())
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 10**9:09d}"
    saved = directory / f"{stamp}-{name}"
    files.atomic_write(saved, text)
    return saved


def new_op() -> str:
    return f"{time.time_ns():x}"


def record(
    conn: sqlite3.Connection,
    path: Path,
    text: str | None,
    *,
    op: str,
    kind: str = "file",
    undo: dict[str, Any] | None = None,
) -> tuple[int, Path | None]:
    """Copy the current file (if any) into the backup dir and remember how to undo.

    Returns the row id (for :func:`amend`) and the copy's path.
    """
    saved = stamped_copy(text, path.name) if text is not None else None
    prev = profiles.activation_for(conn, str(path))
    with db.transaction(conn):
        cur = conn.execute(
            "INSERT INTO switch_backups (path, backup, prev_profile, prev_keys, at, op, kind, undo)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(path),
                str(saved) if saved else None,
                prev.profile if prev else None,
                json.dumps(list(prev.keys)) if prev else None,
                time.time(),
                op,
                kind,
                json.dumps(undo) if undo is not None else None,
            ),
        )
    _prune(conn, path)
    return int(cur.lastrowid or 0), saved


def digest(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def amend(
    conn: sqlite3.Connection,
    row_id: int,
    path: Path,
    undo: dict[str, Any] | None,
    before: tuple[str | None] | None = None,
) -> Path | None:
    """Complete a backup row after the write: the final undo (with the digest of what was
    written), and, when the write was recomputed on newer text, that text as the backup."""
    row = conn.execute("SELECT backup FROM switch_backups WHERE id = ?", (row_id,)).fetchone()
    saved = Path(row["backup"]) if row and row["backup"] else None
    if before is not None:
        saved = stamped_copy(before[0], path.name) if before[0] is not None else None
    with db.transaction(conn):
        conn.execute(
            "UPDATE switch_backups SET backup = ?, undo = ? WHERE id = ?",
            (str(saved) if saved else None, json.dumps(undo) if undo is not None else None, row_id),
        )
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


@dataclass
class Restored:
    path: Path
    backup: Path | None
    profile: str | None
    replaced: Path | None = None  # a copy of what the restore overwrote
    kind: str = "file"
    also: list[Restored] = field(default_factory=list)  # the other files of the same switch

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "backup": str(self.backup) if self.backup else None,
            "profile": self.profile,
            "replaced_copy": str(self.replaced) if self.replaced else None,
            "kind": self.kind,
            "also": [r.as_dict() for r in self.also],
        }


def restore(conn: sqlite3.Connection, path: Path | None = None) -> Restored:
    """Undo the last switch (the last one that wrote ``path``, if given)."""
    with files.switch_lock():
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
        rows = [row]
        if row["op"]:
            rows = conn.execute(
                "SELECT * FROM switch_backups WHERE op = ? ORDER BY id DESC", (row["op"],)
            ).fetchall()
        done = [_restore_row(conn, r) for r in rows]
    first = next(d for d, r in zip(done, rows, strict=True) if r["id"] == row["id"])
    first.also = [d for d in done if d is not first]
    return first


def _restore_row(conn: sqlite3.Connection, row: sqlite3.Row) -> Restored:
    target = Path(row["path"])
    saved = Path(row["backup"]) if row["backup"] else None
    kind = row["kind"] or "file"
    undo = json.loads(row["undo"] or "{}")
    current = files.read_text(target)
    # Edits made since the switch would be lost: keep them beside the backups.
    replaced = stamped_copy(current, f"pre-restore-{target.name}") if current else None
    untouched = undo.get("after") is not None and undo["after"] == digest(current)
    if kind == "file" or untouched:
        _put_back_file(target, saved)  # nobody wrote since: the exact old bytes
    if kind != "file":
        _undo_part(conn, target, kind, undo, only_records=untouched)
    _restore_activation(conn, target, row)
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_backups WHERE id = ?", (row["id"],))
    return Restored(target, saved, row["prev_profile"], replaced, kind)


def _put_back_file(target: Path, saved: Path | None) -> None:
    if saved is None:
        target.unlink(missing_ok=True)  # the switch created the file
        return
    text = files.read_text(saved)
    if text is None:
        raise NotFoundError(f"backup file {saved} is missing")
    files.atomic_write(target, text, files.mode_for(target))


def _undo_part(
    conn: sqlite3.Connection, target: Path, kind: str, undo: dict[str, Any], *, only_records: bool
) -> None:
    """Undo lynkr's part of a file others also write (or, ``only_records``, its bookkeeping)."""
    if kind == "members":
        from lynkr_cli.switch import mcpwrite

        mcpwrite.undo(conn, target, undo, only_records=only_records)
    elif kind == "block" and not only_records:
        from lynkr_cli.switch import prompts

        prompts.undo(target, undo)


def _restore_activation(conn: sqlite3.Connection, target: Path, row: sqlite3.Row) -> None:
    if (row["kind"] or "file") != "file":
        return
    if row["prev_profile"]:
        keys = json.loads(row["prev_keys"] or "[]")
        found = profiles.activation_for(conn, str(target))
        scope = found.scope if found else "user"
        profiles.record_activation(conn, str(target), scope, row["prev_profile"], keys)
    else:
        profiles.forget_activation(conn, str(target))
