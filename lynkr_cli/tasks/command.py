"""``lynkr tasks``: the per-workspace TODO list the gateway's model shares with you."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lynkr_cli import console, hookimpl

tasks_app = typer.Typer(
    help="A small TODO list per workspace, shared with the gateway's lynkr_tasks_* tools.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="The workspace the tasks belong to [default: the enclosing git repo, else cwd].",
    ),
]
IdArg = Annotated[int, typer.Argument(help="The task id (see `lynkr tasks list`).")]


def _ws(workspace: Path | None) -> Path:
    from lynkr_cli.tasks.store import default_workspace

    return workspace if workspace is not None else default_workspace()


def _show(task: Any, verb: str, json_output: bool) -> None:
    if json_output:
        console.print_json(task.as_dict())
        return
    console.say(f"{verb} task {task.id}: {task.title}")


@tasks_app.command("add")
def add(
    title: Annotated[str, typer.Argument(help="What needs doing.")],
    notes: Annotated[str, typer.Option("--notes", "-n", help="Longer notes.")] = "",
    workspace: WorkspaceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Add an open task to this workspace.

    Example: lynkr tasks add "migrate the users table" --notes "after the release"
    """
    from lynkr_cli.tasks import store

    _show(store.add(_ws(workspace), title, notes), "added", json_output)


@tasks_app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include done tasks.")] = False,
    done_only: Annotated[bool, typer.Option("--done", help="Only done tasks.")] = False,
    workspace: WorkspaceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """List this workspace's open tasks (or all, or done)."""
    from lynkr_cli.tasks import store

    status: Any = None if all_ else ("done" if done_only else "open")
    tasks = store.list_tasks(_ws(workspace), status)
    if json_output:
        console.print_json({"workspace": store.workspace_key(_ws(workspace)),
                            "tasks": [t.as_dict() for t in tasks]})  # fmt: skip
        return
    if not tasks:
        console.info('no tasks; add one with `lynkr tasks add "..."`')
        return
    rows: list[list[console.Cell]] = [
        [task.id, console.Styled(task.status, "green" if task.status == "done" else ""),
         task.title, task.notes]
        for task in tasks
    ]  # fmt: skip
    console.table(["id", "status", "title", "notes"], rows)


@tasks_app.command("done")
def done(task_id: IdArg, workspace: WorkspaceOpt = None, json_output: JsonOpt = False) -> None:
    """Mark a task done."""
    from lynkr_cli.tasks import store

    _show(store.done(_ws(workspace), task_id), "done:", json_output)


@tasks_app.command("edit")
def edit(  # noqa: PLR0917 (Typer parameters)
    task_id: IdArg,
    title: Annotated[str | None, typer.Option("--title", "-t", help="New title.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", "-n", help="New notes.")] = None,
    reopen: Annotated[bool, typer.Option("--reopen", help="Mark a done task open again.")] = False,
    workspace: WorkspaceOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Change a task's title or notes, or reopen it."""
    from lynkr_cli.errors import UsageError
    from lynkr_cli.tasks import store

    if title is None and notes is None and not reopen:
        raise UsageError("nothing to change", hint="Pass --title, --notes or --reopen.")
    status: Any = "open" if reopen else None
    task = store.edit(_ws(workspace), task_id, title=title, notes=notes, status=status)
    _show(task, "edited", json_output)


@tasks_app.command("rm")
def rm(task_id: IdArg, workspace: WorkspaceOpt = None, json_output: JsonOpt = False) -> None:
    """Delete a task."""
    from lynkr_cli.tasks import store

    _show(store.remove(_ws(workspace), task_id), "removed", json_output)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")
