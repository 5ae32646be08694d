"""Prompt presets: named texts written into the user's ``~/.claude/CLAUDE.md``.

``use NAME`` puts the preset between two marker lines; everything outside them is the
user's and stays byte for byte (as ``lynkr index`` does for a project's CLAUDE.md,
with its own markers, so the two never meet). A file without the markers gets the
block appended after a blank line; ``none`` removes the block and that blank line.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.switch import files, targets
from lynkr_cli.switch.targets import FileEdit

END = "<!-- END lynkr prompt -->"
_BEGIN = re.compile(r'<!-- BEGIN lynkr prompt "(?P<name>[^"\r\n]*)"[^\r\n]*?-->')
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def begin_line(name: str) -> str:
    return (
        f'<!-- BEGIN lynkr prompt "{name}": set by `lynkr switch prompt`; '
        "edit outside these markers -->"
    )


def claude_md_path() -> Path:
    return targets.claude_dir() / "CLAUDE.md"


@dataclass
class Preset:
    name: str
    text: str
    source: str = ""

    def public(self, *, with_text: bool = False) -> dict[str, Any]:
        first = next((line for line in self.text.splitlines() if line.strip()), "")
        out: dict[str, Any] = {
            "name": self.name,
            "lines": len(self.text.splitlines()),
            "first_line": first[:80],
            "source": self.source,
        }
        if with_text:
            out["text"] = self.text
        return out


# --------------------------------------------------------------------------- storage


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid prompt preset name {name!r}",
            hint="Use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
        )
    return name


def validate_text(name: str, text: str) -> str:
    if not text.strip():
        raise UsageError(f"prompt preset '{name}' is empty", hint="Give a file with some text.")
    if END in text or _BEGIN.search(text):
        raise UsageError(
            f"prompt preset '{name}' contains a lynkr prompt marker line",
            hint="Remove the <!-- BEGIN/END lynkr prompt --> lines from the text.",
        )
    return text


def save(conn: sqlite3.Connection, preset: Preset, *, replace_existing: bool = False) -> None:
    validate_name(preset.name)
    validate_text(preset.name, preset.text)
    now = time.time()
    with db.transaction(conn):
        existing = find(conn, preset.name)
        if existing is not None and not replace_existing:
            raise UsageError(
                f"a prompt preset named '{existing.name}' already exists",
                hint="Pass --replace to overwrite it.",
            )
        if existing is not None:
            conn.execute("DELETE FROM switch_prompts WHERE name = ?", (existing.name,))
        conn.execute(
            "INSERT INTO switch_prompts (name, text, source, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (preset.name, preset.text, preset.source, now, now),
        )


def find(conn: sqlite3.Connection, name: str) -> Preset | None:
    row = conn.execute("SELECT * FROM switch_prompts WHERE name = ?", (name,)).fetchone()
    return Preset(row["name"], row["text"], row["source"]) if row else None


def get(conn: sqlite3.Connection, name: str) -> Preset:
    found = find(conn, name)
    if found is None:
        raise NotFoundError(
            f"no prompt preset named '{name}'",
            hint="`lynkr switch prompt list` shows them; `lynkr switch prompt add NAME --file F`.",
        )
    return found


def list_all(conn: sqlite3.Connection) -> list[Preset]:
    rows = conn.execute("SELECT * FROM switch_prompts ORDER BY name COLLATE NOCASE").fetchall()
    return [Preset(r["name"], r["text"], r["source"]) for r in rows]


def delete(conn: sqlite3.Connection, name: str) -> str:
    preset = get(conn, name)
    with db.transaction(conn):
        conn.execute("DELETE FROM switch_prompts WHERE name = ?", (preset.name,))
    return preset.name


# --------------------------------------------------------------------------- CLAUDE.md


@dataclass(frozen=True)
class Block:
    name: str
    start: int  # the BEGIN line's first character
    end: int  # just after END


def find_block(text: str, path: Path) -> Block | None:
    """lynkr's block in ``text``; one marker without the other is refused."""
    begin = _BEGIN.search(text)
    end = text.find(END, begin.end() if begin else 0)
    if begin is None and END not in text:
        return None
    if begin is None or end < 0:
        raise UsageError(
            f"{path} has a lynkr prompt marker without its partner; lynkr will not guess "
            "where your text ends",
            hint=f"Restore or delete both marker lines ('<!-- BEGIN lynkr prompt …' and '{END}').",
        )
    return Block(begin.group("name"), begin.start(), end + len(END))


def active(path: Path | None = None) -> str | None:
    """The name of the preset in CLAUDE.md now, if any."""
    where = path or claude_md_path()
    text = files.read_text(where)
    block = find_block(text, where) if text else None
    return block.name if block else None


def render_block(preset: Preset, eol: str = "\n") -> str:
    body = preset.text.replace("\r\n", "\n").rstrip("\n").replace("\n", eol)
    return begin_line(preset.name) + eol + body + eol + END


def put(text: str | None, block: str, path: Path) -> str:
    """``text`` with lynkr's block replaced by ``block``, or appended after a blank line."""
    if not text:
        return block + "\n"
    eol = "\r\n" if "\r\n" in text else "\n"
    found = find_block(text, path)
    if found is not None:
        return text[: found.start] + block + text[found.end :]
    separator = eol if text.endswith("\n") else eol + eol
    return text + separator + block + eol


def take_out(text: str | None, path: Path) -> str | None:
    """``text`` without lynkr's block (and the blank line put before it)."""
    if not text:
        return text
    found = find_block(text, path)
    if found is None:
        return text
    before, after = text[: found.start], text[found.end :]
    for eol in ("\r\n", "\n"):
        if after.startswith(eol) and (before.endswith(eol + eol) or not before):
            after = after[len(eol) :]
            before = before[: -len(eol)] if before else before
            break
    return before + after


def edit_use(preset: Preset | None) -> FileEdit:
    """The CLAUDE.md edit for ``use`` (``preset``) or ``none`` (None)."""
    path = claude_md_path()

    def build(text: str | None) -> str:
        if preset is None:
            return take_out(text, path) or ""
        eol = "\r\n" if text and "\r\n" in text else "\n"
        return put(text, render_block(preset, eol), path)

    def undo(text: str | None) -> dict[str, Any]:
        found = find_block(text, path) if text else None
        block = text[found.start : found.end] if text and found else None
        return {"block": block, "created": text is None}

    edit = FileEdit(path, "prompt preset (CLAUDE.md)", build, "block", undo)
    return edit.plan()


def undo(path: Path, info: dict[str, Any]) -> None:
    block = info.get("block")

    def build(text: str | None) -> str:
        if block is None:
            return take_out(text, path) or ""
        return put(text, block, path)

    files.commit(path, build)
    if info.get("created") and files.read_text(path) == "":
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- cc-switch


def import_ccswitch(
    conn: sqlite3.Connection, path: Path
) -> tuple[list[Preset], list[dict[str, str]]]:
    """cc-switch's Claude prompts (``prompts`` table, ``app_type = 'claude'``), read-only."""
    from lynkr_cli.switch import mcpimport

    rows = mcpimport.ccswitch_rows(path, "SELECT * FROM prompts WHERE app_type = 'claude'")
    saved: list[Preset] = []
    skipped: list[dict[str, str]] = []
    for row in rows:
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", str(row["name"] or row["id"])).strip("-.")[:64]
        preset = Preset(name or "prompt", str(row["content"] or ""), f"cc-switch {path}")
        if find(conn, preset.name) is not None:
            skipped.append({"name": preset.name, "reason": "a preset has this name"})
            continue
        try:
            save(conn, preset)
        except UsageError as exc:
            skipped.append({"name": preset.name, "reason": exc.message})
            continue
        saved.append(preset)
    return saved, skipped
