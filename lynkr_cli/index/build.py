"""Build or refresh the index: discover, decide what changed, parse in a pool, write once.

A file is unchanged when its size and ``mtime_ns`` match the stored row; when
they differ the worker hashes the content and, if the hash matches, only the
stat is refreshed. A cold build (no database, an old schema, ``--full``) writes a
fresh file with journaling off and renames it over the old one; an incremental
build is one ``BEGIN IMMEDIATE`` transaction. Either way a reader sees the old
index or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat as stat_mod
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lynkr_cli.db import transaction as _transaction
from lynkr_cli.index import extract, languages, store
from lynkr_cli.index.discover import Discovery, discover
from lynkr_cli.index.linking import index_and_link, relink
from lynkr_cli.index.plan import BuildReport, Plan, Progress, Rows, Run

__all__ = ["BuildReport", "Progress", "build_index", "open_existing", "unchanged_report"]


def build_index(
    root: Path,
    db_path: Path,
    *,
    full: bool = False,
    workers: int = 0,
    max_file_bytes: int = 1_000_000,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> BuildReport:
    """Bring the index at ``db_path`` up to date with the repository at ``root``;
    ``meanwhile`` runs while the files parse (see ``api.build``), and always runs."""
    with _no_cyclic_gc():
        started = time.perf_counter()
        run = _new_run(root, db_path, workers, progress, max_file_bytes)
        run.meanwhile = meanwhile
        conn, rows = open_existing(db_path, root, full)
        run.report.cold = conn is None
        _replan(run, rows)
        if conn is None:
            conn = _write_cold(run)
        else:
            _write_incremental(conn, run)
        if run.meanwhile is not None:  # nothing was parsed: it has not run yet
            run.meanwhile()
        report = run.report
        report.stats = _stats(conn, report.changed)
        conn.close()
        report.seconds = time.perf_counter() - started
        return report


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for the whole build, as in the workers
    (``extract.init_worker``): ingesting and linking allocate hundreds of thousands of
    acyclic tuples and strings (rows, names, link tables), which reference counting
    frees, so collections over a heap growing by tens of thousands of them per second
    cost time for nothing (paused for the ingest alone, the linking still spent a
    tenth of the parent's time in them)."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def unchanged_report(
    root: Path,
    db_path: Path,
    conn: sqlite3.Connection,
    rows: Rows,
    *,
    max_file_bytes: int = 1_000_000,
    started: float | None = None,
) -> BuildReport | None:
    """The report :func:`build_index` would give, when it would write nothing at all.

    ``conn`` and ``rows`` come from :func:`open_existing`. The plan is build_index's own
    (discover, then the stat comparison); None as soon as build_index would write: a file
    new, changed, deleted or unreadable, different skips, or counts not cached. Nothing is
    written and no parser is loaded, so the caller can fall back to build_index.
    """
    begin = time.perf_counter() if started is None else started
    run = _new_run(root, db_path, 0, None, max_file_bytes)
    _replan(run, rows)
    if not _nothing_to_do(run) or _skips_changed(conn, run.found):
        return None
    cached = store.get_meta(conn, "stats")
    if not cached or _problems_changed(conn, run.report):
        return None
    report = run.report
    report.unchanged = len(run.plan.keep)
    report.stats = dict(json.loads(cached))
    report.seconds = time.perf_counter() - begin
    return report


def _new_run(
    root: Path, db_path: Path, workers: int, progress: Progress | None, max_file_bytes: int
) -> Run:
    report = BuildReport(str(root), str(db_path))
    run = Run(root, db_path, discover(root), report, workers, progress, max_file_bytes)
    report.problems.update(run.found.problems)
    return run


def _stats(conn: sqlite3.Connection, changed: bool) -> dict[str, Any]:
    """The index's counts: cached in ``meta`` per generation, as they cost a few scans."""
    cached = store.get_meta(conn, "stats")
    if cached and not changed:
        return dict(json.loads(cached))
    stats = store.stats(conn)
    with _transaction(conn):
        store.set_meta(conn, {"stats": json.dumps(stats)})
    return stats


def open_existing(
    db_path: Path, root: Path, full: bool = False
) -> tuple[sqlite3.Connection | None, Rows]:
    """The current index and its file rows, or (None, {}) when it must be rebuilt.

    Rebuilt: an old schema, a corrupt file, or an index of another directory (one
    ``index.db_path`` shared by several checkouts).
    """
    if full or not db_path.is_file():
        return None, {}
    try:
        conn = store.open_db(db_path)
        if store.schema_version(conn) != store.SCHEMA_VERSION or store.get_meta(
            conn, "root", str(root)
        ) != str(root):
            conn.close()
            return None, {}
        return conn, store.file_rows(conn)
    except sqlite3.DatabaseError:
        return None, {}  # corrupt or not a database: start over


def _replan(run: Run, rows: Rows) -> None:
    """Decide what to parse against ``rows``, the stored state."""
    run.rows = rows
    run.plan = plan = _plan(run, run.max_file_bytes)
    run.final = plan.keep | {t[0] for t in plan.tasks} | {p[0] for p in plan.plain}


def _plan(run: Run, max_file_bytes: int) -> Plan:
    plan = Plan()
    root, found, rows, report = run.root, run.found, run.rows, run.report
    usable = _usable_languages(found.files, report)
    base = os.path.join(root, "")  # paths joined as strings: pathlib would double the loop
    for path in found.files:
        try:
            info = os.stat(base + path)
        except FileNotFoundError:
            if os.path.islink(base + path):
                report.problems[path] = "dangling symlink"
            continue  # listed by git but deleted in the work tree: simply gone
        except OSError as exc:
            report.problems[path] = extract._os_problem(exc)
            continue
        if not stat_mod.S_ISREG(info.st_mode):
            continue  # submodules, sockets, directory symlinks
        old = rows.get(path)
        plan.stats[path] = (info.st_size, info.st_mtime_ns)
        if old is not None and old[1] == info.st_size and old[2] == info.st_mtime_ns:
            plan.keep.add(path)
            continue
        if old is not None:
            plan.stale_ids.append(old[0])
        lang = languages.language_for(path)
        if info.st_size > max_file_bytes:
            plan.plain.append((path, lang, info.st_size, info.st_mtime_ns, "too large"))
        elif lang in usable:
            plan.tasks.append((path, lang, old[3] if old else "", 0))
        else:
            plan.plain.append((path, lang, info.st_size, info.st_mtime_ns, _sniff(root / path)))
    return plan


def _usable_languages(paths: list[str], report: BuildReport) -> set[str]:
    """Parsed languages present whose grammar wheel is installed (found, not imported)."""
    present = {languages.language_for(p) for p in paths} & set(languages.PARSED)
    usable = set()
    for lang in sorted(name for name in present if name):
        if languages.installed(lang):
            usable.add(lang)
        elif languages.missing_message(lang) not in report.warnings:  # planned again
            report.warnings.append(languages.missing_message(lang))
    return usable


def _sniff(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(extract.SNIFF_BYTES)
    except OSError:
        return None
    return "binary" if b"\0" in head else None


def _write_cold(run: Run) -> sqlite3.Connection:
    db_path = run.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _ignore_index_dir(run.root, db_path)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    # Shared with the thread that builds the indexes while references are linked.
    conn = sqlite3.connect(str(tmp), isolation_level=None, check_same_thread=False)
    try:
        # A half-built temporary file is simply deleted, so durability buys nothing here.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        store.create_schema(conn)
        conn.execute("BEGIN")
        from lynkr_cli.index.ingest import Writer, consume, resolver

        writer = Writer(conn, resolver(run.root, run.final), {}, keep=True)
        consume(writer, run)
        index_and_link(conn, writer)
        _finish(conn, run, changed=True)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        _replace(tmp, db_path)
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    return store.open_db(db_path)


def _ignore_index_dir(root: Path, db_path: Path) -> None:
    """Keep ``<repo>/.lynkr/`` out of ``git status``: it is a cache, not source."""
    if db_path.parent != root / ".lynkr":
        return
    marker = db_path.parent / ".gitignore"
    if not marker.exists():
        try:
            marker.write_text("# lynkr's index: a cache, rebuilt by `lynkr index`\n*\n")
        except OSError:
            pass  # a read-only checkout still gets its index


def _replace(tmp: Path, db_path: Path) -> None:
    """Swap the new file in; an old WAL must not be replayed onto it."""
    if db_path.exists():
        try:
            old = sqlite3.connect(str(db_path), isolation_level=None)
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            old.close()
        except sqlite3.DatabaseError:
            pass
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, db_path)


def _write_incremental(conn: sqlite3.Connection, run: Run) -> None:
    found = run.found
    if _nothing_to_do(run):
        run.report.unchanged = len(run.plan.keep)
        skips, problems = _skips_changed(conn, found), _problems_changed(conn, run.report)
        if skips or problems:
            with _transaction(conn):
                _write_skips(conn, found)
                _write_problems(conn, run.report)
                store.set_meta(conn, {"stats": ""})  # skip or problem counts changed
        return
    with _transaction(conn):
        # Another `lynkr index` may have written since we looked: plan again under the lock.
        fresh = store.file_rows(conn)
        if fresh != run.rows:
            _replan(run, fresh)
        _apply_changes(conn, run)


def _problems_changed(conn: sqlite3.Connection, report: BuildReport) -> bool:
    """Whether the problems found now (with the stored files' own, as syntax errors,
    added to ``report``) differ from those the last build stored."""
    report.problems = {**stored_file_problems(conn), **report.problems}
    return store.problems(conn) != report.problems


def stored_file_problems(conn: sqlite3.Connection) -> dict[str, str]:
    """The problems stored with the files (what their parse found)."""
    rows = conn.execute("SELECT path, problem FROM files WHERE problem IS NOT NULL")
    return {path: problem for path, problem in rows}


def _write_problems(conn: sqlite3.Connection, report: BuildReport) -> None:
    """Store every problem of the run, so `stats` reports what the build reported."""
    report.problems = dict(sorted({**stored_file_problems(conn), **report.problems}.items()))
    conn.execute("DELETE FROM problems")
    conn.executemany("INSERT INTO problems (path, reason) VALUES (?, ?)", report.problems.items())


def _skips_changed(conn: sqlite3.Connection, found: Discovery) -> bool:
    return {r[0]: r[1] for r in conn.execute("SELECT path, reason FROM skips")} != found.skipped


def _nothing_to_do(run: Run) -> bool:
    plan = run.plan
    return not (plan.tasks or plan.plain or plan.stale_ids or set(run.rows) - run.final)


def _apply_changes(conn: sqlite3.Connection, run: Run) -> None:
    plan, rows, final, report = run.plan, run.rows, run.final, run.report
    files_changed = final != set(rows)
    report.unchanged = len(plan.keep)
    gone = [rows[p][0] for p in rows if p not in final]
    report.removed = len(gone)
    # Only the rows of changed files are handed over: the writer drops each as it goes.
    changed_rows = {p: r for p, r in rows.items() if p not in plan.keep}
    from lynkr_cli.index.ingest import Writer, consume, reresolve_imports, resolver

    writer = Writer(conn, resolver(run.root, final), changed_rows)
    consume(writer, run)
    writer.touched |= store.delete_files(conn, gone)
    changed = bool(report.parsed or gone or plan.plain or writer.dropped)
    if files_changed:
        reresolve_imports(conn, writer.resolver)
    writer.settle()
    if changed:
        relink(conn, writer, everything=files_changed)
    _finish(conn, run, changed=changed)
    store.update_fts(conn, writer.touched)


def _write_skips(conn: sqlite3.Connection, found: Discovery) -> None:
    conn.execute("DELETE FROM skips")
    conn.executemany(
        "INSERT INTO skips (path, reason) VALUES (?, ?)", sorted(found.skipped.items())
    )


def _finish(conn: sqlite3.Connection, run: Run, *, changed: bool) -> None:
    from lynkr_cli.index import hints

    root, found, final, report = run.root, run.found, run.final, run.report
    _write_skips(conn, found)
    _write_problems(conn, report)
    store.create_indexes(conn)  # already there after a cold build: linking.index_and_link
    generation = int(store.get_meta(conn, "generation", "0")) + (1 if changed else 0)
    report.changed = changed
    store.set_meta(
        conn,
        {
            "root": str(root),
            "generation": str(generation),
            "built_at": str(time.time()),
            "git": "1" if found.git else "0",
            "hints": json.dumps(hints.analyze(root, sorted(final), sorted(found.skipped))),
            "warnings": json.dumps(report.warnings),
        },
    )
