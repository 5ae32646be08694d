"""Backups of what ``lynkr switch`` replaced (``restore.py`` undoes one switch with them).

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
from pathlib import Path
from typing import Any

from lynkr_cli import db, paths
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
