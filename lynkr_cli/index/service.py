"""What ``lynkr index [PATH]`` does, without the CLI: refresh the index, then CLAUDE.md.

The CLAUDE.md block is cached in the index's ``meta`` table by generation, so a
run that changed nothing does not recompute the repo map.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lynkr_cli.index import api, claude_md, store
from lynkr_cli.index.build import BuildReport, Progress

ClaudeMode = Literal["write", "check", "stdout", "skip"]


@dataclass
class IndexOutcome:
    report: BuildReport
    claude_md: str = "skipped"  # written | unchanged | stale | fresh | preview | skipped
    claude_md_path: str = ""
    preview: str = ""

    def as_dict(self) -> dict[str, Any]:
        doc = self.report.as_dict()
        doc["claude_md"] = {"status": self.claude_md, "path": self.claude_md_path}
        if self.preview:
            doc["claude_md"]["text"] = self.preview
        return doc


def run(
    root: Path | str,
    *,
    full: bool = False,
    claude: ClaudeMode = "write",
    progress: Progress | None = None,
) -> IndexOutcome:
    """Refresh the index of ``root`` and handle CLAUDE.md as ``claude`` says."""
    base = Path(root).resolve()
    report = api.build(base, full=full, progress=progress)
    outcome = IndexOutcome(report)
    if claude == "skip":
        return outcome
    conn = store.open_db(Path(report.db_path))
    try:
        text, differs = _claude_text(conn, base)
    finally:
        conn.close()
    path = base / "CLAUDE.md"
    outcome.claude_md_path = str(path)
    if claude == "check":
        outcome.claude_md = "stale" if differs else "fresh"
    elif claude == "stdout":
        outcome.claude_md, outcome.preview = "preview", text
    elif differs:
        claude_md.write(path, text)
        outcome.claude_md = "written"
    else:
        outcome.claude_md = "unchanged"
    return outcome


def _claude_text(conn: sqlite3.Connection, root: Path) -> tuple[str, bool]:
    """The new CLAUDE.md text and whether it differs from the file on disk."""
    generation = store.get_meta(conn, "generation", "0")
    key = hashlib.blake2b(f"{generation}\0{root}".encode(), digest_size=8).hexdigest()
    block = (
        store.get_meta(conn, "claude_md_block")
        if store.get_meta(conn, "claude_md_key") == key
        else ""
    )
    if not block:
        block = claude_md.render_block(conn, root)
        try:
            with _write_transaction(conn):
                store.set_meta(conn, {"claude_md_key": key, "claude_md_block": block})
        except sqlite3.OperationalError:
            pass  # a busy or read-only index only loses the cache
    current = claude_md.read(root / "CLAUDE.md")
    text = claude_md.merge(current, block)
    return text, text != current


def _write_transaction(conn: sqlite3.Connection) -> Any:
    from lynkr_cli.db import transaction

    return transaction(conn)
