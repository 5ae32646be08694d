"""What ``lynkr index [PATH]`` does, without the CLI: refresh the index, then CLAUDE.md.

The CLAUDE.md block is cached in the index's ``meta`` table by generation, so a
run that changed nothing does not recompute the repo map.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lynkr_cli.console import plural
from lynkr_cli.index import api, claude_md, store
from lynkr_cli.index.build import BuildReport, Progress

if TYPE_CHECKING:
    from lynkr_cli.index.api import IndexConf

ClaudeMode = Literal["write", "check", "stdout", "skip"]


@dataclass
class IndexOutcome:
    report: BuildReport
    claude_md: str = "skipped"  # written | unchanged | stale | fresh | preview | skipped
    claude_md_path: str = ""
    preview: str = ""
    announced: int = 0  # the first warnings of report.warnings, already printed

    def later_warnings(self) -> list[str]:
        """The warnings not printed yet (the CLI prints them after the run)."""
        return self.report.warnings[self.announced :]

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
    settings: IndexConf | None = None,
    warn: Callable[[str], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> IndexOutcome:
    """Refresh the index of ``root`` and handle CLAUDE.md as ``claude`` says.

    ``warn`` is told, before anything is written, when ``root`` looks like no project
    at all (see :func:`not_a_project`); the warning also leads ``report.warnings``.
    """
    base = Path(root).resolve()
    early = not_a_project(base, api.index_path(base, settings), claude == "write")
    if early and warn is not None:
        warn(early)
    report = api.build(base, full=full, progress=progress, settings=settings, meanwhile=meanwhile)
    outcome = IndexOutcome(report)
    if early:
        report.warnings.insert(0, early)
        outcome.announced = 1 if warn is not None else 0
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


def not_a_project(base: Path, db_path: Path, claude_md: bool) -> str:
    """A warning when indexing ``base`` would litter a folder that is no project: not
    in a git work tree, no index there yet, and not one file in it; else ""."""
    import os

    from lynkr_cli.index.root import git_toplevel

    if db_path.exists() or not base.is_dir() or git_toplevel(base) is not None:
        return ""
    for _, _, files in os.walk(base):
        if files:
            return ""
    wrote = ".lynkr/ and CLAUDE.md" if claude_md else ".lynkr/"
    return (
        f"{base} is empty and not a project (no git repository, no files): indexing it "
        f"writes {wrote} there. Run `lynkr index` inside a project, or pass --root."
    )


def _claude_text(conn: sqlite3.Connection, root: Path) -> tuple[str, bool]:
    """The new CLAUDE.md text and whether it differs from the file on disk."""
    block = cached_block(conn, root)
    if not block:
        block = claude_md.render_block(conn, root)
        try:
            with _write_transaction(conn):
                store.set_meta(
                    conn, {"claude_md_key": _block_key(conn, root), "claude_md_block": block}
                )
        except sqlite3.OperationalError:
            pass  # a busy or read-only index only loses the cache
    return merged(root, block)


def _block_key(conn: sqlite3.Connection, root: Path) -> str:
    import hashlib

    generation = store.get_meta(conn, "generation", "0")
    return hashlib.blake2b(f"{generation}\0{root}".encode(), digest_size=8).hexdigest()


def cached_block(conn: sqlite3.Connection, root: Path) -> str:
    """The generated block cached for the index's current generation, or ""."""
    if store.get_meta(conn, "claude_md_key") != _block_key(conn, root):
        return ""
    return store.get_meta(conn, "claude_md_block")


def merged(root: Path, block: str) -> tuple[str, bool]:
    """CLAUDE.md with ``block`` in place, and whether that differs from the file on disk."""
    current = claude_md.read(root / "CLAUDE.md")
    text = claude_md.merge(current, block)
    return text, text != current


def summary_lines(doc: dict[str, Any]) -> list[tuple[str, bool]]:
    """The human summary of ``lynkr index`` as (line, Rich markup on) pairs."""
    kind = "rebuilt" if doc["full_rebuild"] else "updated" if doc["changed"] else "up to date"
    lines = [
        (
            f"index {kind}: {plural(doc['files'], 'file')}, {plural(doc['symbols'], 'symbol')}, "
            f"{plural(doc['references'], 'reference')} ({doc['resolved_references']} resolved), "
            f"{plural(doc['imports'], 'import')} ({doc['resolved_imports']} resolved) "
            f"in {doc['seconds']:.2f}s",
            True,
        ),
        (f"parsed {doc['parsed']}, unchanged {doc['unchanged']}, removed {doc['removed']}", True),
    ]
    langs = ", ".join(f"{k} {v['files']}" for k, v in doc["languages"].items())
    lines.append((f"languages: {langs or 'none'}", True))
    if doc["skipped"]:
        lines.append(("skipped: " + ", ".join(f"{k} {v}" for k, v in doc["skipped"].items()), True))
    if doc["problems"]:
        lines.append((f"problems: {doc['problems']}", True))
        for path, why in list(doc["problem_files"].items())[:10]:
            lines.append((f"  {path}: {why}", False))
    status = doc["claude_md"]["status"]
    if status != "skipped":
        lines.append((f"CLAUDE.md: {status}", True))
    lines.append((f"database: {doc['db']}", False))
    return lines


def print_summary(doc: dict[str, Any]) -> None:
    """Print :func:`summary_lines` on stdout as the Rich console does.

    A line that is printable ASCII without ``[``, ``]``, ``\\`` and with at most one
    colon holds no markup, escape or ``:emoji:`` code, and the console (no highlighting,
    soft wrap) prints it unchanged, so such lines are written directly, sparing the
    import of Rich.
    """
    lines = summary_lines(doc)
    if all(_plain(line) for line, _ in lines):
        sys.stdout.write("".join(f"{line}\n" for line, _ in lines))
        sys.stdout.flush()
        return
    from lynkr_cli import console

    out = console.out()
    out.soft_wrap = True
    for line, markup in lines:
        out.print(line, markup=markup)


def _plain(line: str) -> bool:
    return (
        line.isascii()
        and line.isprintable()
        and line.count(":") <= 1
        and not any(c in line for c in "[]\\")
    )


def _write_transaction(conn: sqlite3.Connection) -> Any:
    from lynkr_cli.db import transaction

    return transaction(conn)
