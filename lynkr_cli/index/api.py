"""The index as a library: what the gateway tools, ``lynkr git`` and ``lynkr doctor`` call.

Every function takes the repository root (any directory; the index lives at
``<root>/.lynkr/index.db`` unless ``index.db_path`` / ``LYNKR_INDEX_DB`` says
otherwise) and returns plain JSON-ready data. Nothing here prints.

- :func:`ensure_index` ``(root, full=False) -> Path``: build or refresh, return the db path.
- :func:`build` ``(root, ...) -> BuildReport``: the same, with the full report.
- :func:`index_status` ``(root) -> "fresh" | "stale" | "missing"``: cheap (stat only).
- :func:`search` ``(root, query, kind=None, lang=None, limit=50)``: ranked name matches.
- :func:`defs` / :func:`refs` ``(root, name, limit=100)``: definitions; references with
  ``definition`` set when the name has exactly one definition.
- :func:`repo_map` ``(root, tokens=1024) -> str``: PageRank-ranked outline fitted to a budget.
- :func:`discovered_commands` ``(root) -> {"test": [...], "lint": [...], "format": [...],
  "build": [...], "ci": [...]}``: read from config files, needs no index.
- :func:`hints` ``(root)``: dependencies, frameworks, commands, conventions.
- :func:`stats` ``(root)``: counts, language mix, skips, problems.
- :func:`public_symbols` ``(root, path)``: the stored top-level definitions of one file.
- :func:`grammar_modules` ``() -> {distribution: module}``: the tree-sitter grammar wheels
  the parsed languages need (``lynkr doctor`` checks they are installed).
- :func:`index_settings` ``()``: the ``index`` settings (from the settings snapshot when
  an earlier command validated the same inputs).

Lookups raise :class:`~lynkr_cli.errors.NotFoundError` when there is no index yet
(call :func:`ensure_index` first); symbols are dicts with ``name, kind, path, line,
column, end_line, scope, signature, lang``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from lynkr_cli.errors import ConfigError, LynkrError, NotFoundError

if TYPE_CHECKING:
    from lynkr_cli.index.build import BuildReport, Progress
    from lynkr_cli.settings import IndexSettings

Status = Literal["fresh", "stale", "missing"]


class IndexConf(Protocol):
    """What building reads of the ``index`` settings (``settings.IndexSettings`` is one)."""

    @property
    def db_path(self) -> Path | None: ...
    @property
    def workers(self) -> int: ...
    @property
    def max_file_bytes(self) -> int: ...


def index_settings() -> IndexSettings:
    """The ``index`` settings: as an earlier command validated them (``snapshot.py``, no
    pydantic), else loaded and validated now."""
    from lynkr_cli import snapshot

    recorded: IndexSettings | None = snapshot.section("index")
    if recorded is not None:
        return recorded
    from lynkr_cli.settings import get_settings

    return get_settings().index


def index_path(root: Path | str, settings: IndexConf | None = None) -> Path:
    """Where the index of ``root`` lives (``index.db_path`` may be relative to ``root``)."""
    return db_location(Path(root).resolve(), (settings or index_settings()).db_path)


def db_location(base: Path, configured: Path | None) -> Path:
    """The index of the resolved root ``base``, given the ``index.db_path`` setting."""
    if configured is None:
        return base / ".lynkr" / "index.db"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else base / path


def build(
    root: Path | str,
    *,
    full: bool = False,
    progress: Progress | None = None,
    settings: IndexConf | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> BuildReport:
    """Build or refresh the index of ``root`` and report what happened.

    ``meanwhile`` is called once the parsing has started (in the pool, when there is
    one), before anything lasting is written; what it raises ends the build.
    """
    from lynkr_cli.index.build import build_index

    conf = settings or index_settings()
    base = Path(root).resolve()
    if not base.is_dir():
        raise NotFoundError(f"{root} is not a directory", hint="Pass the repository root.")
    try:
        return build_index(
            base,
            index_path(base, conf),
            full=full,
            workers=conf.workers,
            max_file_bytes=conf.max_file_bytes,
            progress=progress,
            meanwhile=meanwhile,
        )
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise LynkrError(
                f"the index of {base} is being written by another process",
                hint="Wait for the other `lynkr index` to finish, then run it again.",
            ) from exc
        raise _unwritable(index_path(base, conf), exc) from exc
    except OSError as exc:
        raise _unwritable(index_path(base, conf), exc) from exc


def _unwritable(path: Path, exc: Exception) -> LynkrError:
    return ConfigError(
        f"cannot write the index at {path}: {exc}",
        hint="Point index.db_path (LYNKR_INDEX_DB) at a writable location.",
    )


def ensure_index(root: Path | str, *, full: bool = False) -> Path:
    """Make the index of ``root`` current and return its path."""
    return Path(build(root, full=full).db_path)


def _connect(root: Path | str) -> sqlite3.Connection:
    from lynkr_cli.index import store

    path = index_path(root)
    if not path.is_file():
        raise NotFoundError(
            f"no index for {Path(root).resolve()}", hint=f"Run `lynkr index {root}` first."
        )
    try:
        conn = store.open_db(path, readonly=True)
        if store.schema_version(conn) != store.SCHEMA_VERSION:
            raise NotFoundError(
                f"the index at {path} has an old schema", hint=f"Run `lynkr index {root}`."
            )
    except sqlite3.DatabaseError as exc:
        raise NotFoundError(
            f"the index at {path} is unreadable: {exc}", hint=f"Run `lynkr index --full {root}`."
        ) from exc
    return conn


def index_status(root: Path | str) -> Status:
    """``missing`` without an index, ``stale`` when a file changed since, else ``fresh``."""
    from lynkr_cli.index import store
    from lynkr_cli.index.discover import discover

    try:
        conn = _connect(root)
    except NotFoundError:
        return "missing"
    with _closing(conn):
        rows = store.file_rows(conn)
    base = Path(root).resolve()
    seen = set()
    for path in discover(base).files:
        try:
            info = os.stat(base / path)
        except OSError:
            continue  # symlink loops, vanished files: never stored, so not a change
        if not stat.S_ISREG(info.st_mode):
            continue
        row = rows.get(path)
        if row is None or row[1] != info.st_size or row[2] != info.st_mtime_ns:
            return "stale"
        seen.add(path)
    return "fresh" if len(seen) == len(rows) else "stale"


def search(
    root: Path | str,
    query: str,
    *,
    kind: str | None = None,
    lang: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Symbols whose names match ``query``: exact, then prefix, word prefix, substring and
    fuzzy matches (ranked as ``index/search.py`` says)."""
    from lynkr_cli.index.search import search_symbols

    with _closing(_connect(root)) as conn:
        return search_symbols(conn, query, kind=kind, lang=lang, limit=limit)


def defs(root: Path | str, name: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Every definition named exactly ``name``."""
    from lynkr_cli.index import store

    with _closing(_connect(root)) as conn:
        return store.find_defs(conn, name, limit)


def refs(root: Path | str, name: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """Every reference to ``name``, each with its definition when unambiguous."""
    from lynkr_cli.index import store

    with _closing(_connect(root)) as conn:
        return store.find_refs(conn, name, limit)


def public_symbols(root: Path | str, path: str) -> list[dict[str, Any]]:
    """Top-level definitions of ``path`` whose names do not start with ``_``."""
    from lynkr_cli.index import store

    with _closing(_connect(root)) as conn:
        rows = conn.execute(
            f"SELECT {store.SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE f.path = ? AND s.scope = '' AND s.name NOT LIKE '\\_%' ESCAPE '\\' "
            "ORDER BY s.line",
            (path,),
        )
        return [store.symbol_dict(r) for r in rows]


def repo_map(root: Path | str, tokens: int = 1024) -> str:
    """The most referenced definitions, by PageRank, as an outline within ``tokens``."""
    from lynkr_cli.index import repomap

    with _closing(_connect(root)) as conn:
        return repomap.render(conn, tokens)


def stats(root: Path | str) -> dict[str, Any]:
    """Counts, language mix, skips and problems of the stored index."""
    from lynkr_cli.index import store

    with _closing(_connect(root)) as conn:
        doc = store.stats(conn)
        doc["generation"] = int(store.get_meta(conn, "generation", "0"))
        doc["built_at"] = float(store.get_meta(conn, "built_at", "0") or 0)
        doc["db"] = str(index_path(root))
        return doc


def hints(root: Path | str) -> dict[str, Any]:
    """Manifests and dependencies, frameworks, commands and conventions (from the index)."""
    from lynkr_cli.index import store

    with _closing(_connect(root)) as conn:
        return dict(json.loads(store.get_meta(conn, "hints", "{}")))


def discovered_commands(root: Path | str) -> dict[str, list[str]]:
    """The test/lint/format/build/ci commands the configuration files call for."""
    from lynkr_cli.index.discover import discover
    from lynkr_cli.index.tooling import discover_commands

    base = Path(root).resolve()
    found = discover(base)
    return discover_commands(base, [*found.files, *found.skipped])


def grammar_modules() -> dict[str, str]:
    """The grammar wheels parsing needs, ``{distribution: import name}`` (none is imported)."""
    from lynkr_cli.index.languages import PARSED

    return {spec.package: spec.module for spec in PARSED.values()}


def parser_path() -> str:
    """``native`` when the C accelerator parses (``index/native.py``), else ``python``
    (py-tree-sitter): the rows are the same, the time is not. Imports no grammar."""
    from lynkr_cli.index import native

    return native.status()


class _closing:
    """``with`` for a connection that closes it (sqlite3's own ``with`` only commits)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()
