"""The task tracker: a small per-workspace TODO list in the shared ``lynkr.db``.

Both ``lynkr tasks`` and the gateway's ``lynkr_tasks_*`` tools use this module, so
a task the model adds shows up in the terminal and the other way round. A task
belongs to the workspace (a resolved directory path) it was added in.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError, UsageError

Status = Literal["open", "done"]
MAX_TITLE = 500

MIGRATIONS: list[db.Migration] = [
    """
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace TEXT NOT NULL,
        title TEXT NOT NULL,
        notes TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        done_at REAL
    );
    CREATE INDEX tasks_workspace ON tasks (workspace, status);
    """,
]


@dataclass
class Task:
    id: int
    workspace: str
    title: str
    notes: str
    status: Status
    created_at: float
    updated_at: float
    done_at: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def opened() -> Iterator[sqlite3.Connection]:
    """The shared database with the tasks tables migrated; closed on exit."""
    conn = db.app_db("tasks", MIGRATIONS)
    try:
        yield conn
    finally:
        conn.close()


def default_workspace(cwd: Path | None = None) -> Path:
    """The enclosing repository's root (a parent holding ``.git``), else ``cwd``.

    So ``lynkr tasks`` shows the same list from any subdirectory, and the same list the
    gateway's tools see when its workspace root is the repository.
    """
    start = (cwd or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def workspace_key(path: Path | str) -> str:
    return str(Path(path).expanduser().resolve())


def _row(row: sqlite3.Row) -> Task:
    return Task(**{key: row[key] for key in row.keys()})  # noqa: SIM118 (Row has no __iter__ of keys)


def _title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise UsageError("a task needs a non-empty title")
    if len(cleaned) > MAX_TITLE:
        raise UsageError(f"a task title is at most {MAX_TITLE} characters")
    return cleaned


def add(workspace: Path | str, title: str, notes: str = "") -> Task:
    """Create an open task and return it."""
    now = time.time()
    with opened() as conn, db.transaction(conn):
        cursor = conn.execute(
            "INSERT INTO tasks (workspace, title, notes, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (workspace_key(workspace), _title(title), notes, now, now),
        )
        task_id = int(cursor.lastrowid or 0)
    return get(workspace, task_id)


def get(workspace: Path | str, task_id: int) -> Task:
    """One task of this workspace; NotFoundError otherwise."""
    with opened() as conn:
        row = conn.execute(
            "SELECT * FROM tasks WHERE id = ? AND workspace = ?",
            (task_id, workspace_key(workspace)),
        ).fetchone()
    if row is None:
        raise NotFoundError(
            f"no task {task_id} in this workspace", hint="`lynkr tasks list --all` shows the ids."
        )
    return _row(row)


def list_tasks(workspace: Path | str, status: Status | None = "open") -> list[Task]:
    """Tasks of this workspace, oldest first; ``status=None`` means all."""
    sql = "SELECT * FROM tasks WHERE workspace = ?"
    params: list[Any] = [workspace_key(workspace)]
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    with opened() as conn:
        rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [_row(row) for row in rows]


def edit(
    workspace: Path | str,
    task_id: int,
    *,
    title: str | None = None,
    notes: str | None = None,
    status: Status | None = None,
) -> Task:
    """Change a task's title, notes or status; return the updated task."""
    current = get(workspace, task_id)
    new_status = status or current.status
    done_at = current.done_at
    if new_status != current.status:
        done_at = time.time() if new_status == "done" else None
    with opened() as conn, db.transaction(conn):
        conn.execute(
            "UPDATE tasks SET title = ?, notes = ?, status = ?, done_at = ?, updated_at = ? "
            "WHERE id = ?",
            (
                _title(title) if title is not None else current.title,
                notes if notes is not None else current.notes,
                new_status,
                done_at,
                time.time(),
                task_id,
            ),
        )
    return get(workspace, task_id)


def done(workspace: Path | str, task_id: int) -> Task:
    return edit(workspace, task_id, status="done")


def remove(workspace: Path | str, task_id: int) -> Task:
    """Delete a task; return what was deleted."""
    task = get(workspace, task_id)
    with opened() as conn, db.transaction(conn):
        conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
    return task
