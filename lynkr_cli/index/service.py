"""What ``lynkr index [PATH]`` does: refresh the index, then CLAUDE.md, then report.

:func:`build_command` is the command itself, Typer-free: the ``build`` command of
``command.py`` runs it (``@entry.runs``), and so does the ``lynkr`` script before
Typer loads (``entry.py``), so both print the same bytes.

The CLAUDE.md block is cached in the index's ``meta`` table by generation, so a
run that changed nothing does not recompute the repo map; when nothing changed at
all, :func:`run` answers from the index alone, loading no parser and writing nothing.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lynkr_cli import console
from lynkr_cli.console import plural
from lynkr_cli.index import api, build, claude_md, store
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


def build_command(
    *,
    path: str = ".",
    full: bool = False,
    json_output: bool = False,
    no_claude_md: bool = False,
    check: bool = False,
    stdout: bool = False,
    root: str | None = None,
) -> int:
    """``lynkr index [PATH]``: refresh the index of the repository holding PATH, then
    CLAUDE.md; print the summary, the JSON document or the CLAUDE.md preview."""
    from lynkr_cli.index.progress import ProgressBar
    from lynkr_cli.index.root import repo_root

    base = repo_root(root, path)
    conf = api.index_settings()
    mode: ClaudeMode = "write"
    if check:
        mode = "check"
    elif stdout:
        mode = "stdout"
    elif no_claude_md or not conf.claude_md:
        mode = "skip"
    with ProgressBar(enabled=not json_output) as progress:
        outcome = run(
            base, full=full, claude=mode, progress=progress.update, settings=conf, warn=console.warn
        )
    for warning in outcome.later_warnings():
        console.warn(warning)
    if json_output:
        console.print_json(outcome.as_dict())
    elif mode == "stdout":
        sys.stdout.write(outcome.preview)
    else:
        print_summary(outcome.as_dict())
    if mode == "check" and outcome.claude_md == "stale":
        if not json_output:
            hint = f"Run `lynkr index {base}` and commit the updated CLAUDE.md."
            console.error("CLAUDE.md is stale", hint)
        return 1
    return 0


def run(
    root: Path | str,
    *,
    full: bool = False,
    claude: ClaudeMode = "write",
    progress: Progress | None = None,
    settings: IndexConf | None = None,
    warn: Callable[[str], None] | None = None,
) -> IndexOutcome:
    """Refresh the index of ``root`` and handle CLAUDE.md as ``claude`` says.

    ``warn`` is told, before anything is written, when ``root`` looks like no project
    at all (see :func:`not_a_project`); the warning also leads ``report.warnings``.
    """
    base = Path(root).resolve()
    conf = settings or api.index_settings()
    if not full and claude in ("write", "skip"):
        answered = unchanged(base, conf, claude)
        if answered is not None:
            return answered
    early = not_a_project(base, api.index_path(base, conf), claude == "write")
    if early and warn is not None:
        warn(early)
    report = api.build(base, full=full, progress=progress, settings=conf)
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


def unchanged(base: Path, conf: IndexConf, claude: ClaudeMode) -> IndexOutcome | None:
    """What :func:`run` would report when the build would write nothing (its own plan:
    :func:`build.unchanged_report`) and CLAUDE.md, unless skipped, is byte-identical to
    what the block cached for this generation gives; None otherwise. Nothing is written
    and no parser is loaded."""
    started = time.perf_counter()
    db_path = api.index_path(base, conf)
    if not base.is_dir() or not db_path.is_file():
        return None
    conn, rows = build.open_existing(db_path, base)
    if conn is None:
        return None  # to be rebuilt
    try:
        max_bytes = conf.max_file_bytes
        report = build.unchanged_report(
            base, db_path, conn, rows, max_file_bytes=max_bytes, started=started
        )
        if report is None:
            return None
        outcome = IndexOutcome(report)
        if claude == "write":
            block = cached_block(conn, base)
            if not block or merged(base, block)[1]:
                return None
            outcome.claude_md, outcome.claude_md_path = "unchanged", str(base / "CLAUDE.md")
        return outcome
    finally:
        conn.close()


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


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The human summary of ``lynkr index``, line by line."""
    kind = "rebuilt" if doc["full_rebuild"] else "updated" if doc["changed"] else "up to date"
    lines = [
        f"index {kind}: {plural(doc['files'], 'file')}, {plural(doc['symbols'], 'symbol')}, "
        f"{plural(doc['references'], 'reference')} ({doc['resolved_references']} resolved), "
        f"{plural(doc['imports'], 'import')} ({doc['resolved_imports']} resolved) "
        f"in {doc['seconds']:.2f}s",
        f"parsed {doc['parsed']}, unchanged {doc['unchanged']}, removed {doc['removed']}",
    ]
    langs = ", ".join(f"{k} {v['files']}" for k, v in doc["languages"].items())
    lines.append(f"languages: {langs or 'none'}")
    if doc["skipped"]:
        lines.append("skipped: " + ", ".join(f"{k} {v}" for k, v in doc["skipped"].items()))
    if doc["problems"]:
        lines.append(f"problems: {doc['problems']}")
        lines += [f"  {path}: {why}" for path, why in list(doc["problem_files"].items())[:10]]
    status = doc["claude_md"]["status"]
    if status != "skipped":
        lines.append(f"CLAUDE.md: {status}")
    lines.append(f"database: {doc['db']}")
    return lines


def print_summary(doc: dict[str, Any]) -> None:
    """Print :func:`summary_lines` on stdout, as plain text (never read as markup)."""
    for line in summary_lines(doc):
        console.say(line)


def _write_transaction(conn: sqlite3.Connection) -> Any:
    from lynkr_cli.db import transaction

    return transaction(conn)
