"""``lynkr switch restore``: undo the last switch, as a whole, from its backups.

The rows of one switch share an ``op`` id (``backups.py``); each file is undone the way
its kind says: ``file`` gets its copy back, ``members`` (MCP configs) only the entries
lynkr touched (``mcpwrite.undo``), ``block`` (CLAUDE.md) only lynkr's block
(``prompts.undo``). What a restore overwrites is copied first (``…-pre-restore-NAME``).
Above the writers, so that none of them imports it back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError
from lynkr_cli.switch import backups, files, mcpwrite, profiles, prompts


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
    replaced = backups.stamped_copy(current, f"pre-restore-{target.name}") if current else None
    untouched = undo.get("after") is not None and undo["after"] == backups.digest(current)
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
        mcpwrite.undo(conn, target, undo, only_records=only_records)
    elif kind == "block" and not only_records:
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
