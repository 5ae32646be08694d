"""Parsing and writing: the process pool, and the rows it returns going into SQLite.

:func:`consume` takes a plan (what to parse, what to store unparsed) and a
writer bound to an open transaction; ``build.py`` decides the plan and owns the
transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lynkr_cli.index import extract, languages, store
from lynkr_cli.index.plan import BuildReport, Plan, Progress, Rows, Run
from lynkr_cli.index.resolve import Resolver, go_module_path

__all__ = ["BuildReport", "Plan", "Progress", "Rows", "Run", "Writer", "consume"]
SYNTAX_PROBLEM = "syntax error (kept what the parser recovered)"
IN_PROCESS_MAX = 24  # below this many files a pool costs more than it saves
FLUSH_ROWS = 10_000  # small batches: inserting overlaps the parsing still under way


def load_grammars(plan: Plan, report: BuildReport) -> None:
    """Load the grammars the tasks need, and compile their queries, before any fork, so
    workers inherit them (``extract.prepare``: the C accelerator's, or py-tree-sitter's).

    Only when something is to be parsed: a run with nothing to do never imports
    tree-sitter. A grammar that fails to load turns its files into unparsed ones.
    """
    failed: set[str] = set()
    for lang in sorted({task[1] for task in plan.tasks}):
        try:
            extract.prepare(lang)
        except Exception as exc:  # MissingGrammar, or a wheel built for another ABI
            failed.add(lang)
            report.warnings.append(f"{languages.missing_message(lang)} ({exc})")
    for path, lang, _, _ in [t for t in plan.tasks if t[1] in failed]:
        size, mtime = plan.stats[path]
        plan.plain.append((path, lang, size, mtime, None))
    plan.tasks = [t for t in plan.tasks if t[1] not in failed]


@contextmanager
def results(
    root: Path,
    tasks: list[extract.Task],
    workers: int,
    progress: Progress | None,
    sizes: dict[str, tuple[int, int]],
) -> Iterator[Iterator[extract.Result]]:
    """Parse ``tasks``: in this process when few, else in a pool; the results come as they
    finish. The pool ends with the ``with`` block, however it is left (Ctrl-C included)."""
    total = len(tasks)
    if total <= IN_PROCESS_MAX or workers == 1:
        yield _in_process(str(root), tasks, progress)
        return
    count = workers or os.cpu_count() or 1
    # Biggest files first, in small batches: the last batch to finish is a short one.
    ordered = sorted(tasks, key=lambda t: -sizes.get(t[0], (0, 0))[0])
    batch = max(1, min(16, total // (count * 8)))
    chunks = [ordered[i : i + batch] for i in range(0, total, batch)]
    pool = _pool(root, count)
    try:
        yield _pooled(pool.imap_unordered(extract.extract_many, chunks), total, progress)
    finally:
        pool.terminate()
        pool.join()


def _in_process(
    root: str, tasks: list[extract.Task], progress: Progress | None
) -> Iterator[extract.Result]:
    for done, task in enumerate(tasks, 1):
        yield extract.extract_file(root, *task)
        if progress:
            progress(done, len(tasks))


def _pooled(
    batches: Iterator[list[extract.Result]], total: int, progress: Progress | None
) -> Iterator[extract.Result]:
    done = 0
    for batch in batches:
        yield from batch
        done += len(batch)
        if progress:
            progress(done, total)


def _pool(root: Path, count: int) -> Any:
    """A pool of ``count`` workers whose SIGINT is ignored from their first instruction.

    SIGINT is blocked while the workers fork (and while the pool starts its threads),
    so a Ctrl-C in that window waits for the parent, instead of hitting a worker before
    its initializer ignores it (``Exception ignored in: <function _after_fork>``).
    """
    import multiprocessing
    import signal

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return context.Pool(count, initializer=extract.init_worker, initargs=(str(root),))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _shape(conn: sqlite3.Connection, file_id: int) -> set[tuple[str, ...]]:
    """What links depend on in a stored file: its definitions and its imports."""
    shape: set[tuple[str, ...]] = {
        (name, scope, kind)  # plain tuples: the connection may hand out sqlite3.Row
        for name, scope, kind in conn.execute(
            "SELECT name, scope, kind FROM symbols WHERE file_id = ?", (file_id,)
        )
    }
    shape.update(
        ("import", module, names)
        for module, names in conn.execute(
            "SELECT module, names FROM imports WHERE file_id = ?", (file_id,)
        )
    )
    return shape


def _names_of(shape: set[tuple[str, ...]]) -> set[str]:
    """The names in a shape: definitions' own, and what changed imports bind locally."""
    names = set()
    for entry in shape:
        if entry[0] == "import":
            module, names_text = entry[1], entry[2]
            names.add(module)
            names.update(e.partition("=")[0] for e in names_text.split())
        else:
            names.add(entry[0])
    return names


class Kept:
    """Every parsed file's rows, in memory: what :class:`~lynkr_cli.index.links.Links` needs."""

    def __init__(self) -> None:
        self.files: list[tuple[int, str, str]] = []
        self.symbols: list[tuple[Any, ...]] = []
        self.refs: list[tuple[Any, ...]] = []
        self.imports: list[tuple[Any, ...]] = []

    def add(
        self,
        file_id: int,
        where: tuple[str, str],
        symbols: list[extract.Symbol],
        refs: list[extract.Reference],
        imports: list[tuple[Any, ...]],
    ) -> None:
        self.files.append((file_id, *where))
        self.symbols += symbols
        self.refs += refs
        self.imports += imports

    def resolved(self) -> dict[int, int]:
        """file id -> resolved references (symbol ids as SQLite gives them: in order)."""
        from lynkr_cli.index.links import Links, resolved_by_file

        links = Links(
            self.files,
            ((i, s[0], s[1], s[6], s[2], s[3]) for i, s in enumerate(self.symbols, 1)),
            ((i[0], i[1], i[3], i[4]) for i in self.imports),
        )
        return resolved_by_file(links, ((r[0], r[1], r[5], r[6]) for r in self.refs))


class Writer:
    """Accumulates rows and inserts them with executemany in large batches."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        resolver: Resolver,
        rows: Rows,
        *,
        keep: bool = False,
    ) -> None:
        self.conn = conn
        self.resolver = resolver
        self.rows = rows
        self.dropped = 0
        self.touched: set[str] = set()  # names whose definitions were added or removed
        self.written: set[int] = set()  # ids of the files parsed in this run
        # Names whose definitions (name, scope, kind) or import bindings a run changed:
        # only references to them can resolve differently elsewhere.
        self.changed_names: set[str] = set()
        self._before: dict[str, set[tuple[str, ...]]] = {}  # path -> its old definitions
        self.symbols: list[tuple[Any, ...]] = []
        self.refs: list[tuple[Any, ...]] = []
        self.imports: list[tuple[Any, ...]] = []
        # keep: every row also stays in memory, so a cold build links references
        # without reading them back (see :meth:`resolved`).
        self.kept: Kept | None = Kept() if keep else None

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
            self._before[path] = _shape(self.conn, old[0])
            self.touched |= store.delete_files(self.conn, [old[0]])
            self.dropped += 1

    def parsed(self, result: extract.Result, lang: str, file_id: int) -> None:
        """Store a parsed file; the worker already put ``file_id`` in its rows."""
        path, _, size, mtime, digest, symbols, refs, imports, note = result
        problem = SYNTAX_PROBLEM if note == "syntax" else None
        self.file((path, lang, size, mtime, digest, None, problem), file_id)
        self.written.add(file_id)
        self.symbols += symbols
        if self.kept is None:  # a cold build fills the name index from scratch
            self.touched.update(s[1] for s in symbols)
        self.refs += refs
        rows = [
            (file_id, text, line, self.resolver.resolve(lang, path, text), names)
            for text, line, names in imports
        ]
        self.imports += rows
        if self.kept is not None:
            self.kept.add(file_id, (path, lang), symbols, refs, rows)
        elif path in self._before:
            now = {(s[1], s[6], s[2]) for s in symbols}
            now |= {("import", text, names) for text, _, names in imports}
            self.changed_names |= _names_of(self._before.pop(path) ^ now)

    def settle(self) -> None:
        """Files dropped and not parsed again (now skipped, or unreadable): every name they
        defined or bound changed."""
        for shape in self._before.values():
            self.changed_names |= _names_of(shape)
        self._before.clear()
        if len(self.refs) + len(self.symbols) > FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany(
            "INSERT INTO symbols (file_id, name, kind, line, col, end_line, scope, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.symbols,
        )
        self.conn.executemany(
            "INSERT INTO refs (file_id, name, kind, line, col, receiver, scope) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.refs,
        )
        self.conn.executemany(
            "INSERT INTO imports (file_id, module, line, target, names) VALUES (?, ?, ?, ?, ?)",
            self.imports,
        )
        self.symbols, self.refs, self.imports = [], [], []


def resolver(root: Path, final: set[str]) -> Resolver:
    module = ""
    if "go.mod" in final:
        try:
            module = go_module_path((root / "go.mod").read_text(encoding="utf-8", errors="replace"))
        except OSError:
            module = ""
    return Resolver(final, module)


def consume(writer: Writer, run: Run) -> None:
    """Parse the plan's tasks and hand every result to ``writer`` (the cyclic garbage
    collector is paused meanwhile: ``build.build_index``)."""
    plan, report = run.plan, run.report
    load_grammars(plan, report)
    for path, lang, size, mtime, skip in plan.plain:
        writer.file((path, lang, size, mtime, None, skip, None))
    # Ids are handed out up front so workers return rows ready to insert.
    first = writer.next_id()
    tasks = [(p, lang, old, first + i) for i, (p, lang, old, _) in enumerate(plan.tasks)]
    langs = {t[0]: (t[1], t[3]) for t in tasks}
    with results(run.root, tasks, run.workers, run.progress, plan.stats) as parsed:
        if run.meanwhile is not None:  # the workers are parsing already
            meanwhile, run.meanwhile = run.meanwhile, None
            meanwhile()
        for result in parsed:
            _store(writer, run, result, langs)
            if len(writer.refs) + len(writer.symbols) > FLUSH_ROWS:
                writer.flush()  # while the workers parse: the last batch is all that is left
    writer.flush()


def _store(
    writer: Writer, run: Run, result: extract.Result, langs: dict[str, tuple[str, int]]
) -> None:
    """Hand one parsed file to ``writer`` (or count its problem)."""
    report = run.report
    path, status, size, mtime, digest, _, _, _, note = result
    if status == "ok":
        report.parsed += 1
        writer.parsed(result, *langs[path])
        if note == "syntax":
            report.problems[path] = SYNTAX_PROBLEM
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


def reresolve_imports(conn: sqlite3.Connection, resolver: Resolver) -> None:
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
