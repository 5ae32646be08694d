"""Writing a profile's MCP servers into the files Claude Code (and Claude Desktop) read.

| ``--scope`` | file | object |
|---|---|---|
| user | ``~/.claude.json`` (+ Claude Desktop's config, when it exists) | ``mcpServers`` |
| project | ``.mcp.json`` here | ``mcpServers`` |
| local | ``~/.claude.json`` | ``projects["<git top level or cwd>"].mcpServers`` |

Only entries lynkr wrote (``switch_mcp_written``) are ever changed or removed. An entry
of the same name that someone else wrote is left alone: kept when it already says the
same, reported otherwise. Each write is a :class:`~lynkr_cli.switch.targets.FileEdit`
of kind ``members``: restore puts back the old values of those entries only.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli import db
from lynkr_cli.switch import files, jsonedit, mcpstore, targets
from lynkr_cli.switch.targets import FileEdit

_MISSING = object()


@dataclass(frozen=True)
class Target:
    path: Path
    container: tuple[str, ...]
    desktop: bool
    label: str

    @property
    def claude_lock(self) -> bool:
        return self.path == targets.claude_json_path()


def desktop_config_path() -> Path:
    from lynkr_cli.mcp.api import desktop_config_path as where

    return where()


def project_key(cwd: Path) -> str:
    """The key Claude Code files a project under in ``~/.claude.json``: the git top
    level (``claude mcp add --scope local`` in a subfolder writes there), else the folder."""
    here = cwd.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(here)


def targets_for(scope: str, cwd: Path) -> list[Target]:
    claude_json = targets.claude_json_path()
    if scope == "project":
        return [Target(cwd / ".mcp.json", ("mcpServers",), False, "project MCP servers")]
    if scope == "local":
        container = ("projects", project_key(cwd), "mcpServers")
        return [Target(claude_json, container, False, "local MCP servers")]
    out = [Target(claude_json, ("mcpServers",), False, "user MCP servers")]
    desktop = desktop_config_path()
    if desktop.is_file():
        out.append(Target(desktop, ("mcpServers",), True, "Claude Desktop MCP servers"))
    return out


def written(conn: sqlite3.Connection, target: Target) -> dict[str, Any]:
    """The entries lynkr's last write left in ``target`` (name -> value)."""
    rows = conn.execute(
        "SELECT server, value FROM switch_mcp_written"
        " WHERE path = ? AND container = ? AND active = 1",
        (str(target.path), json.dumps(target.container)),
    ).fetchall()
    return {r["server"]: json.loads(r["value"]) for r in rows}


def ever_written(conn: sqlite3.Connection, target: Target) -> dict[str, list[Any]]:
    """Every value lynkr ever wrote there, per name: a program that saves an old copy of
    the file brings such an entry back, and it is still lynkr's to replace or remove."""
    rows = conn.execute(
        "SELECT server, value FROM switch_mcp_written WHERE path = ? AND container = ?",
        (str(target.path), json.dumps(target.container)),
    ).fetchall()
    out: dict[str, list[Any]] = {}
    for row in rows:
        out.setdefault(row["server"], []).append(json.loads(row["value"]))
    return out


def _record(conn: sqlite3.Connection, target: Target, entries: dict[str, Any]) -> None:
    key = (str(target.path), json.dumps(target.container))
    with db.transaction(conn):
        conn.execute(
            "UPDATE switch_mcp_written SET active = 0 WHERE path = ? AND container = ?", key
        )
        conn.executemany(
            "INSERT INTO switch_mcp_written (path, container, server, value, active)"
            " VALUES (?, ?, ?, ?, 1) ON CONFLICT (path, container, server, value)"
            " DO UPDATE SET active = 1",
            [(*key, name, json.dumps(value)) for name, value in entries.items()],
        )


def parsed(path: Path, text: str | None) -> jsonedit.Node | None:
    """The file's tree, once per build (a corrupt file is refused); None when empty."""
    if text is None or not text.strip(" \t\r\n" + jsonedit.BOM):
        return None
    try:
        root = jsonedit.parse(text)
    except jsonedit.JsonError as exc:
        raise targets.refused(path, exc) from None
    if root.kind != "object":
        raise targets.refused(path, jsonedit.NotAnObject((), root.kind))
    return root


def current_entries(
    path: Path, text: str | None, root: jsonedit.Node | None, container: tuple[str, ...]
) -> dict[str, Any]:
    """The entries of ``container`` as the file holds them."""
    if text is None or root is None:
        return {}
    try:
        node = jsonedit.find(text, root, container)
    except (jsonedit.JsonError, jsonedit.NotAnObject) as exc:
        raise targets.refused(path, exc) from None
    if node is None:
        return {}
    if node.kind != "object":
        raise targets.refused(path, jsonedit.NotAnObject(container, node.kind))
    return {m.key: jsonedit.value_of(text, m.value) for m in node.members or []}


@dataclass
class _State:
    """What the last build decided, for the record and the undo."""

    changes: dict[str, Any] = field(default_factory=dict)
    remove: set[str] = field(default_factory=set)
    before: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        """The entries whose text actually changes."""
        return sorted(n for n, v in self.changes.items() if self.before.get(n) != v)


def edit_for(
    conn: sqlite3.Connection, target: Target, servers: list[mcpstore.McpServer]
) -> FileEdit | None:
    """The edit making ``target`` hold exactly lynkr's enabled ``servers``; None if none."""
    desired: dict[str, Any] = {}
    skipped: list[str] = []
    for server in servers:
        entry = server.desktop_entry() if target.desktop else server.entry()
        if entry is None:
            skipped.append(server.name)
        else:
            desired[server.name] = entry
    previous = written(conn, target)
    history = ever_written(conn, target)
    if not desired and not previous:
        return None
    state = _State()

    def build(text: str | None) -> str:
        nonlocal state
        root = parsed(target.path, text)
        current = current_entries(target.path, text, root, target.container)
        state = _decide(target, current, desired, previous, history)
        return targets.edit_json(
            target.path, text, target.container, state.changes, state.remove, root=root
        )

    def undo(text: str | None) -> dict[str, Any]:
        return {
            "container": list(target.container),
            "before": state.before,
            "written": previous,
            "created": text is None,
        }

    def after_commit(conn: sqlite3.Connection) -> None:
        _record(conn, target, state.changes)

    secrets = [s for server in servers for s in server.secrets()]
    edit = FileEdit(target.path, target.label, build, "members", undo, secrets)
    edit.claude_lock, edit.after_commit = target.claude_lock, after_commit
    edit.private = bool(secrets)
    edit.plan()
    edit.notes = state.notes + [
        f"'{name}' is a remote server; Claude Desktop's config file holds only local ones"
        for name in skipped
    ]
    edit.set_keys = state.written
    edit.removed_keys = sorted(state.remove)
    return edit


def _decide(
    target: Target,
    current: dict[str, Any],
    desired: dict[str, Any],
    previous: dict[str, Any],
    history: dict[str, list[Any]],
) -> _State:
    state = _State()
    where = f"{target.path}" + (f" {'.'.join(target.container)}" if target.container else "")

    def ours(name: str) -> bool:
        return name in previous or current.get(name, _MISSING) in history.get(name, [])

    for name, value in desired.items():
        now = current.get(name, _MISSING)
        if ours(name) or now is _MISSING:
            known = [value, *history.get(name, [])]
            if name in previous and now is not _MISSING and now not in known:
                state.notes.append(
                    f"'{name}' in {where} was edited since lynkr wrote it; replaced "
                    "(`lynkr switch restore` brings the edit back)"
                )
            state.changes[name] = value
        elif now != value:
            state.notes.append(
                f"{where} already has a server '{name}' that lynkr did not write; left as it is "
                f"(rename lynkr's with `lynkr switch mcp rename`, or remove that entry)"
            )
    state.remove = {n for n in current if n not in desired and ours(n)}
    for name in set(state.changes) | state.remove:
        state.before[name] = current.get(name)
    return state


def undo(
    conn: sqlite3.Connection, path: Path, info: dict[str, Any], *, only_records: bool = False
) -> None:
    """Put back the entries a switch changed in ``path``, leaving every other byte
    (``only_records``: the file itself is already back; restore lynkr's records)."""
    container = tuple(info.get("container") or ("mcpServers",))
    target = Target(path, container, False, "")
    if only_records:
        _record(conn, target, info.get("written") or {})
        return
    before: dict[str, Any] = info.get("before") or {}
    changes = {k: v for k, v in before.items() if v is not None}
    remove = {k for k, v in before.items() if v is None}

    def build(text: str | None) -> str:
        return targets.edit_json(path, text, container, changes, remove)

    if path == targets.claude_json_path():
        with files.claude_json_lock(path):
            files.commit(path, build)
    else:
        files.commit(path, build)
    if info.get("created") and _empty(path, container):
        path.unlink(missing_ok=True)  # the switch created this file: remove it again
    _record(conn, target, info.get("written") or {})


def _empty(path: Path, container: tuple[str, ...]) -> bool:
    text = files.read_text(path)
    if text is None:
        return False
    value: Any = json.loads(text.removeprefix(jsonedit.BOM))
    for key in container:
        if not isinstance(value, dict) or set(value) != {key}:
            return False
        value = value[key]
    return bool(value == {})


def scope_edits(conn: sqlite3.Connection, profile: str, scope: str, cwd: Path) -> list[FileEdit]:
    """The MCP edits a switch to ``profile`` at ``scope`` makes (none if nothing to do)."""
    servers = mcpstore.enabled_for(conn, profile)
    edits = [edit_for(conn, target, servers) for target in targets_for(scope, cwd)]
    return [e for e in edits if e is not None]
