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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli.db import transaction as _transaction
from lynkr_cli.index import extract, languages, store
from lynkr_cli.index.discover import Discovery, discover
from lynkr_cli.index.resolve import Resolver, go_module_path

Progress = Callable[[int, int], None]
IN_PROCESS_MAX = 24  # below this many files a pool costs more than it saves
FLUSH_ROWS = 10_000  # small batches: inserting overlaps the parsing still under way


@dataclass
class BuildReport:
    """What one run did; :meth:`as_dict` is the ``--json`` document."""

    root: str
    db_path: str
    cold: bool = False
    changed: bool = False
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "db": self.db_path,
            "full_rebuild": self.cold,
            "changed": self.changed,
            "parsed": self.parsed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            **self.stats,
            "problems": len(self.problems),
            "problem_files": dict(sorted(self.problems.items())),
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


Rows = dict[str, tuple[int, int, int, str, str]]


@dataclass
class _Plan:
    tasks: list[extract.Task] = field(default_factory=list)
    plain: list[tuple[str, str | None, int, int, str | None]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)
    stale_ids: list[int] = field(default_factory=list)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime)


@dataclass
class _Run:
    """Everything one build needs, so the steps below take one argument."""

    root: Path
    db_path: Path
    found: Discovery
    report: BuildReport
    workers: int
    progress: Progress | None
    max_file_bytes: int = 1_000_000
    rows: Rows = field(default_factory=dict)
    plan: _Plan = field(default_factory=_Plan)
    final: set[str] = field(default_factory=set)


def build_index(
    root: Path,
    db_path: Path,
    *,
    full: bool = False,
    workers: int = 0,
    max_file_bytes: int = 1_000_000,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring the index at ``db_path`` up to date with the repository at ``root``."""
    started = time.perf_counter()
    report = BuildReport(str(root), str(db_path))
    run = _Run(root, db_path, discover(root), report, workers, progress, max_file_bytes)
    report.problems.update(run.found.problems)
    conn, rows = _open_existing(db_path, root, full)
    report.cold = conn is None
    _replan(run, rows)
    if conn is None:
        conn = _write_cold(run)
    else:
        _write_incremental(conn, run)
    report.stats = _stats(conn, report.changed)
    conn.close()
    report.seconds = time.perf_counter() - started
    return report


def _stats(conn: sqlite3.Connection, changed: bool) -> dict[str, Any]:
    """The index's counts: cached in ``meta`` per generation, as they cost a few scans."""
    cached = store.get_meta(conn, "stats")
    if cached and not changed:
        return dict(json.loads(cached))
    stats = store.stats(conn)
    with _transaction(conn):
        store.set_meta(conn, {"stats": json.dumps(stats)})
    return stats


def _open_existing(db_path: Path, root: Path, full: bool) -> tuple[sqlite3.Connection | None, Rows]:
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


def _replan(run: _Run, rows: Rows) -> None:
    """Decide what to parse against ``rows``, the stored state."""
    run.rows = rows
    run.plan = plan = _plan(run, run.max_file_bytes)
    run.final = plan.keep | {t[0] for t in plan.tasks} | {p[0] for p in plan.plain}


def _plan(run: _Run, max_file_bytes: int) -> _Plan:
    plan = _Plan()
    root, found, rows, report = run.root, run.found, run.rows, run.report
    usable = _usable_languages(found.files, report)
    for path in found.files:
        try:
            info = os.stat(root / path)
        except FileNotFoundError:
            if os.path.islink(root / path):
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
        else:
            report.warnings.append(languages.missing_message(lang))
    return usable


def _load_grammars(plan: _Plan, report: BuildReport) -> None:
    """Load the grammars the tasks need, before any fork, so workers inherit them.

    Only when something is to be parsed: a run with nothing to do never imports
    tree-sitter. A grammar that fails to load turns its files into unparsed ones.
    """
    failed: set[str] = set()
    for lang in sorted({task[1] for task in plan.tasks}):
        try:
            languages.load(lang)
        except Exception as exc:  # MissingGrammar, or a wheel built for another ABI
            failed.add(lang)
            report.warnings.append(f"{languages.missing_message(lang)} ({exc})")
    for path, lang, _, _ in [t for t in plan.tasks if t[1] in failed]:
        size, mtime = plan.stats[path]
        plan.plain.append((path, lang, size, mtime, None))
    plan.tasks = [t for t in plan.tasks if t[1] not in failed]


def _sniff(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(extract.SNIFF_BYTES)
    except OSError:
        return None
    return "binary" if b"\0" in head else None


def _results(
    root: Path,
    tasks: list[extract.Task],
    workers: int,
    progress: Progress | None,
    sizes: dict[str, tuple[int, int]],
) -> Iterator[extract.Result]:
    """Parse ``tasks``: in this process when few, else in a pool; yields as they finish."""
    total = len(tasks)
    if total <= IN_PROCESS_MAX or workers == 1:
        for done, task in enumerate(tasks, 1):
            yield extract.extract_file(str(root), *task)
            if progress:
                progress(done, total)
        return
    import multiprocessing

    count = workers or os.cpu_count() or 1
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    # Biggest files first, in small batches: the last batch to finish is a short one.
    ordered = sorted(tasks, key=lambda t: -sizes.get(t[0], (0, 0))[0])
    batch = max(1, min(16, total // (count * 8)))
    chunks = [ordered[i : i + batch] for i in range(0, total, batch)]
    done = 0
    with context.Pool(count, initializer=extract.init_worker, initargs=(str(root),)) as pool:
        for results in pool.imap_unordered(extract.extract_many, chunks):
            yield from results
            done += len(results)
            if progress:
                progress(done, total)


class _Writer:
    """Accumulates rows and inserts them with executemany in large batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        resolver: Resolver,
        rows: Rows,
    ) -> None:
        self.conn = conn
        self.resolver = resolver
        self.rows = rows
        self.dropped = 0
        self.touched: set[str] = set()  # names whose definitions were added or removed
        self.symbols: list[tuple[Any, ...]] = []
        self.refs: list[tuple[Any, ...]] = []
        self.imports: list[tuple[Any, ...]] = []

    def next_id(self) -> int:
        row = self.conn.execute("SELECT max(id) FROM files").fetchone()
        return int(row[0] or 0) + 1

    def file(
        self,
        row: tuple[str, str | None, int, int, str | None, str | None, str | None],
        file_id: int | None = None,
    ) -> None:
        """Insert ``(path, lang, size, mtime_ns, hash, skip, problem)`` (id: given or next)."""
        self.drop(row[0])
        self.conn.execute(
            "INSERT INTO files (id, path, lang, size, mtime_ns, hash, skip, problem) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (file_id, *row),
        )

    def drop(self, path: str) -> None:
        """Delete the stored version of ``path``, if any, before writing the new one."""
        old = self.rows.pop(path, None)
        if old is not None:
            self.touched |= store.delete_files(self.conn, [old[0]])
            self.dropped += 1

    def parsed(self, result: extract.Result, lang: str, file_id: int) -> None:
        """Store a parsed file; the worker already put ``file_id`` in its rows."""
        path, _, size, mtime, digest, symbols, refs, imports, note = result
        problem = "syntax error" if note == "syntax" else None
        self.file((path, lang, size, mtime, digest, None, problem), file_id)
        self.symbols += symbols
        self.touched.update(s[1] for s in symbols)
        self.refs += refs
        self.imports += [
            (file_id, text, line, self.resolver.resolve(lang, path, text)) for text, line in imports
        ]
        if len(self.refs) + len(self.symbols) > FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany(
            "INSERT INTO symbols (file_id, name, kind, line, col, end_line, scope, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.symbols,
        )
        self.conn.executemany(
            "INSERT INTO refs (file_id, name, kind, line, col) VALUES (?, ?, ?, ?, ?)", self.refs
        )
        self.conn.executemany(
            "INSERT INTO imports (file_id, module, line, target) VALUES (?, ?, ?, ?)", self.imports
        )
        self.symbols, self.refs, self.imports = [], [], []


def _resolver(root: Path, final: set[str]) -> Resolver:
    module = ""
    if "go.mod" in final:
        try:
            module = go_module_path((root / "go.mod").read_text(encoding="utf-8", errors="replace"))
        except OSError:
            module = ""
    return Resolver(final, module)


def _consume(writer: _Writer, run: _Run) -> None:
    plan, report = run.plan, run.report
    _load_grammars(plan, report)
    for path, lang, size, mtime, skip in plan.plain:
        writer.file((path, lang, size, mtime, None, skip, None))
    # Ids are handed out up front so workers return rows ready to insert.
    first = writer.next_id()
    tasks = [(p, lang, old, first + i) for i, (p, lang, old, _) in enumerate(plan.tasks)]
    langs = {t[0]: (t[1], t[3]) for t in tasks}
    for result in _results(run.root, tasks, run.workers, run.progress, plan.stats):
        path, status, size, mtime, digest, _, _, _, note = result
        if status == "ok":
            report.parsed += 1
            writer.parsed(result, *langs[path])
            if note == "syntax":
                report.problems[path] = "syntax error (kept what the parser recovered)"
        elif status == "skip":
            writer.file((path, langs[path][0], size, mtime, digest, note, None), langs[path][1])
        elif status == "same":
            old_id = writer.rows.pop(path)[0]
            writer.conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime, old_id)
            )
        else:
            writer.drop(path)
            report.problems[path] = note
    writer.flush()


def _write_cold(run: _Run) -> sqlite3.Connection:
    db_path = run.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _ignore_index_dir(run.root, db_path)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        # A half-built temporary file is simply deleted, so durability buys nothing here.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        store.create_schema(conn)
        _consume(_Writer(conn, _resolver(run.root, run.final), {}), run)
        _finish(conn, run, changed=True)
        conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION}")
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


def _write_incremental(conn: sqlite3.Connection, run: _Run) -> None:
    found = run.found
    if _nothing_to_do(run):
        old_skips = {r[0]: r[1] for r in conn.execute("SELECT path, reason FROM skips")}
        run.report.unchanged = len(run.plan.keep)
        if old_skips != found.skipped:
            with _transaction(conn):
                _write_skips(conn, found)
                store.set_meta(conn, {"stats": ""})  # skip counts changed
        return
    with _transaction(conn):
        # Another `lynkr index` may have written since we looked: plan again under the lock.
        fresh = store.file_rows(conn)
        if fresh != run.rows:
            _replan(run, fresh)
        _apply_changes(conn, run)


def _nothing_to_do(run: _Run) -> bool:
    plan = run.plan
    return not (plan.tasks or plan.plain or plan.stale_ids or set(run.rows) - run.final)


def _apply_changes(conn: sqlite3.Connection, run: _Run) -> None:
    plan, rows, final, report = run.plan, run.rows, run.final, run.report
    files_changed = final != set(rows)
    report.unchanged = len(plan.keep)
    gone = [rows[p][0] for p in rows if p not in final]
    report.removed = len(gone)
    # Only the rows of changed files are handed over: the writer drops each as it goes.
    changed_rows = {p: r for p, r in rows.items() if p not in plan.keep}
    writer = _Writer(conn, _resolver(run.root, final), changed_rows)
    _consume(writer, run)
    writer.touched |= store.delete_files(conn, gone)
    changed = bool(report.parsed or gone or plan.plain or writer.dropped)
    if files_changed:
        _reresolve_imports(conn, writer.resolver)
    _finish(conn, run, changed=changed)
    store.update_fts(conn, writer.touched)


def _reresolve_imports(conn: sqlite3.Connection, resolver: Resolver) -> None:
    """A file appeared or vanished: imports elsewhere may now resolve differently."""
    rows = conn.execute(
        "SELECT i.rowid, f.lang, f.path, i.module, i.target FROM imports i "
        "JOIN files f ON f.id = i.file_id"
    ).fetchall()
    updates = []
    for rowid, lang, path, module, target in rows:
        new = resolver.resolve(lang or "", path, module)
        if new != target:
            updates.append((new, rowid))
    conn.executemany("UPDATE imports SET target = ? WHERE rowid = ?", updates)


def _write_skips(conn: sqlite3.Connection, found: Discovery) -> None:
    conn.execute("DELETE FROM skips")
    conn.executemany(
        "INSERT INTO skips (path, reason) VALUES (?, ?)", sorted(found.skipped.items())
    )


def _finish(conn: sqlite3.Connection, run: _Run, *, changed: bool) -> None:
    from lynkr_cli.index import hints

    root, found, final, report = run.root, run.found, run.final, run.report
    _write_skips(conn, found)
    store.create_indexes(conn)
    if report.cold:
        store.rebuild_fts(conn)
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
