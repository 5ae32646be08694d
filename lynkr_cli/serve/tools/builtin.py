"""The gateway's built-in ``lynkr_*`` tools, registered through ``register_tools``.

This module is a built-in plugin (listed in ``BUILTIN_PLUGINS``). It imports nothing
heavy: each tool imports what it needs when it runs. The git, index and test tools
live in :mod:`lynkr_cli.serve.tools.devtools` and call the ``lynkr git`` /
``lynkr index`` Python APIs, so the model gets the same code and policy as the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lynkr_cli import hookimpl
from lynkr_cli.registry import ToolSpec
from lynkr_cli.serve.tools.base import (
    BOOL,
    INT,
    ToolContext,
    arg_int,
    arg_str,
    spec,
)
from lynkr_cli.serve.tools.base import described as _d  # short: the spec tables below

# --------------------------------------------------------------------------- files


async def _read_file(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.serve.tools import files

    return await files.read_file(args, ctx)


async def _list_files(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.serve.tools import files

    return await files.list_files(args, ctx)


async def _search(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.serve.tools import files

    return await files.search(args, ctx)


def file_tools() -> list[ToolSpec]:
    path = _d("A path relative to the workspace root.")
    return [
        spec("lynkr_read_file", "Read a text file of the workspace, with line numbers. Reads 400 "
             "lines from start_line unless end_line is given.",
             {"path": path, "start_line": _d("First line, 1-based.", INT),
              "end_line": _d("Last line, inclusive.", INT)}, ["path"], "read", _read_file),
        spec("lynkr_list_files", "List files under a workspace directory, optionally filtered by "
             "a glob such as '*.py' or 'src/**/*.ts'.",
             {"path": _d("Directory relative to the workspace root; default '.'."),
              "pattern": _d("Glob matched against the file name or relative path."),
              "max_results": _d("At most this many (default 500).", INT)},
             [], "read", _list_files),
        spec("lynkr_search", "Search the workspace's text files for a regular expression (or a "
             "fixed string). Returns path:line: text for each match.",
             {"pattern": _d("The regular expression or text to find."),
              "path": _d("Limit to this file or directory."),
              "glob": _d("Only files whose name matches this glob, e.g. '*.py'."),
              "regex": _d("False to match the pattern literally (default true).", BOOL),
              "case_sensitive": _d("Default true.", BOOL),
              "max_results": _d("At most this many matches (default 100).", INT)},
             ["pattern"], "read", _search),
    ]  # fmt: skip


# --------------------------------------------------------------------------- tasks


def _task_id(args: dict[str, Any]) -> int:
    value = arg_int(args, "id", None, lo=1, hi=2**62)
    if value is None:
        from lynkr_cli.errors import UsageError

        raise UsageError("missing required argument 'id'")
    return value


async def _tasks_list(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.tasks import api as tasks

    status = arg_str(args, "status", "open")
    chosen: Any = None if status == "all" else status
    if chosen not in (None, "open", "done"):
        from lynkr_cli.errors import UsageError

        raise UsageError("status must be 'open', 'done' or 'all'")
    return [_brief(t) for t in tasks.list_tasks(ctx.root, chosen)]


async def _tasks_add(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.tasks import api as tasks

    return _brief(tasks.add(ctx.root, arg_str(args, "title"), arg_str(args, "notes", "")))


async def _tasks_done(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.tasks import api as tasks

    return _brief(tasks.done(ctx.root, _task_id(args)))


async def _tasks_edit(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.tasks import api as tasks

    title = args.get("title")
    notes = args.get("notes")
    task = tasks.edit(ctx.root, _task_id(args), title=None if title is None else str(title),
                      notes=None if notes is None else str(notes))  # fmt: skip
    return _brief(task)


def _brief(task: Any) -> dict[str, Any]:
    return {"id": task.id, "title": task.title, "notes": task.notes, "status": task.status}


def task_tools() -> list[ToolSpec]:
    # The task store is lynkr's own database, not the workspace: these are "read" class so
    # the shared TODO list works without enabling workspace writes.
    task_id = _d("The task id.", INT)
    return [
        spec("lynkr_tasks_list", "List the workspace's tasks (the user's TODO list).",
             {"status": _d("'open' (default), 'done' or 'all'.")}, [], "read", _tasks_list),
        spec("lynkr_tasks_add", "Add a task to the workspace's TODO list.",
             {"title": _d("What needs doing."), "notes": _d("Optional details.")},
             ["title"], "read", _tasks_add),
        spec("lynkr_tasks_done", "Mark a task done.", {"id": task_id}, ["id"], "read",
             _tasks_done),
        spec("lynkr_tasks_edit", "Change a task's title or notes.",
             {"id": task_id, "title": _d("New title."), "notes": _d("New notes.")},
             ["id"], "read", _tasks_edit),
    ]  # fmt: skip


def builtin_tools() -> list[ToolSpec]:
    """Every built-in tool, in the order they are offered."""
    from lynkr_cli.serve.tools.devtools import dev_tools

    return [*file_tools(), *dev_tools(), *task_tools()]


@hookimpl
def register_tools(register: Callable[[ToolSpec], None]) -> None:
    for tool in builtin_tools():
        register(tool)
