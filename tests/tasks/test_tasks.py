"""``lynkr tasks`` and the lynkr_tasks_* tools share one store in the real lynkr.db."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lynkr_cli import db, paths
from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.serve.tools.toolbox import registry_toolbox
from lynkr_cli.settings import get_settings
from lynkr_cli.tasks import store


def run_json(invoke: Any, *args: str) -> Any:
    result = invoke("tasks", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_add_list_done_edit_rm(invoke: Any, workdir: Path) -> None:
    first = run_json(invoke, "add", "write docs", "--notes", "mcp.md")
    second = run_json(invoke, "add", "ship it")
    assert first["status"] == "open" and first["workspace"] == str(workdir.resolve())
    listed = run_json(invoke, "list")
    assert [t["title"] for t in listed["tasks"]] == ["write docs", "ship it"]
    done = run_json(invoke, "done", str(first["id"]))
    assert done["status"] == "done" and done["done_at"] is not None
    assert [t["id"] for t in run_json(invoke, "list")["tasks"]] == [second["id"]]
    assert len(run_json(invoke, "list", "--all")["tasks"]) == 2
    assert [t["id"] for t in run_json(invoke, "list", "--done")["tasks"]] == [first["id"]]
    edited = run_json(invoke, "edit", str(first["id"]), "--title", "write better docs", "--reopen")
    assert edited["title"] == "write better docs" and edited["status"] == "open"
    assert edited["done_at"] is None
    removed = run_json(invoke, "rm", str(second["id"]))
    assert removed["id"] == second["id"]
    assert len(run_json(invoke, "list", "--all")["tasks"]) == 1


def test_human_output_and_empty(invoke: Any, workdir: Path) -> None:
    empty = invoke("tasks", "list")
    assert empty.exit_code == 0 and empty.stdout == "" and "no tasks" in empty.stderr
    invoke("tasks", "add", "a visible task")
    shown = invoke("tasks", "list")
    assert "a visible task" in shown.stdout


def test_bad_input(invoke: Any, workdir: Path) -> None:
    missing = invoke("tasks", "done", "999")
    assert missing.exit_code == 6 and "no task 999" in missing.stderr
    blank = invoke("tasks", "add", "   ")
    assert blank.exit_code == 2 and "non-empty title" in blank.stderr
    nothing = invoke("tasks", "edit", "1")
    assert nothing.exit_code == 2
    not_int = invoke("tasks", "rm", "abc")
    assert not_int.exit_code == 2


def test_tasks_are_per_workspace(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    task = store.add(a, "only in a")
    assert store.list_tasks(b) == []
    assert [t.id for t in store.list_tasks(a)] == [task.id]
    # another workspace cannot touch it by id
    try:
        store.done(b, task.id)
    except Exception as exc:
        assert "no task" in str(exc)
    else:
        raise AssertionError("done() crossed workspaces")


def test_stored_in_shared_db_with_schema_version(tmp_path: Path) -> None:
    store.add(tmp_path, "x")
    conn = db.connect(paths.app_db_path())
    version = conn.execute("SELECT version FROM lynkr_schema WHERE component='tasks'").fetchone()
    assert version[0] == len(store.MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_tools_share_the_store(invoke: Any, workdir: Path) -> None:
    settings = get_settings({"gateway.workspace_root": str(workdir)})
    box = registry_toolbox(settings, ToolContext(settings, workdir.resolve()))
    text, is_error = await box.run("lynkr_tasks_add", {"title": "from the model"}, 5)
    assert not is_error
    added = json.loads(text)
    listed = run_json(invoke, "list")
    assert [t["title"] for t in listed["tasks"]] == ["from the model"]
    run_json(invoke, "add", "from the user")
    text, _ = await box.run("lynkr_tasks_list", {}, 5)
    assert [t["title"] for t in json.loads(text)] == ["from the model", "from the user"]
    text, is_error = await box.run("lynkr_tasks_done", {"id": added["id"]}, 5)
    assert not is_error and json.loads(text)["status"] == "done"
    text, is_error = await box.run("lynkr_tasks_edit", {"id": 12345, "title": "x"}, 5)
    assert is_error and "no task 12345" in text
    text, is_error = await box.run("lynkr_tasks_list", {"status": "bogus"}, 5)
    assert is_error


def test_subdirectory_of_a_repo_shares_the_list(
    invoke: Any, workdir: Path, monkeypatch: Any
) -> None:
    (workdir / ".git").mkdir()
    (workdir / "src" / "deep").mkdir(parents=True)
    run_json(invoke, "add", "from the root")
    monkeypatch.chdir(workdir / "src" / "deep")
    listed = run_json(invoke, "list")
    assert listed["workspace"] == str(workdir.resolve())
    assert [t["title"] for t in listed["tasks"]] == ["from the root"]
