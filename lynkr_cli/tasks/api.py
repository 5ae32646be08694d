"""The Python API of ``lynkr tasks``: the per-workspace TODO list the CLI and the gateway share.

A task the model adds through the ``lynkr_tasks_*`` tools shows up in ``lynkr tasks``,
and the other way round. Every call takes the workspace (a directory; tasks belong to
its resolved path)::

    add(workspace, title, notes="") -> Task
    get(workspace, task_id) -> Task                        # NotFoundError when unknown
    list_tasks(workspace, status="open") -> list[Task]     # status None: every task
    edit(workspace, task_id, *, title=None, notes=None, status=None) -> Task
    done(workspace, task_id) -> Task
    remove(workspace, task_id) -> Task                     # what was removed

A bad title or id raises UsageError (exit 2). ``Task.as_dict()`` is JSON-ready.
"""

from __future__ import annotations

from lynkr_cli.tasks.store import (
    MAX_TITLE,
    Status,
    Task,
    add,
    default_workspace,
    done,
    edit,
    get,
    list_tasks,
    remove,
    workspace_key,
)

__all__ = [
    "MAX_TITLE",
    "Status",
    "Task",
    "add",
    "default_workspace",
    "done",
    "edit",
    "get",
    "list_tasks",
    "remove",
    "workspace_key",
]
