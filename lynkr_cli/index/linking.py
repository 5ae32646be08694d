"""Each file's count of resolved references, kept as builds go (see ``links.py``).

A cold build counts every reference from the rows still in memory, while SQLite builds
the indexes in a thread; an incremental build recounts only the files it may have
changed, reading the index lazily.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from lynkr_cli.index import store

if TYPE_CHECKING:
    from lynkr_cli.index.ingest import Writer


def index_and_link(conn: sqlite3.Connection, writer: Writer) -> None:
    """After a cold build: SQLite builds the indexes and the name index in a thread (it
    releases the GIL) while this one links the references from the rows in memory."""
    import threading

    failed: list[BaseException] = []

    def index() -> None:
        try:
            store.create_indexes(conn)
            store.rebuild_fts(conn)
        except BaseException as exc:  # re-raised below, in this thread
            failed.append(exc)

    worker = threading.Thread(target=index, name="lynkr-index-sql")
    worker.start()
    try:  # the cyclic GC is paused for the whole build (build.build_index)
        counts = writer.kept.resolved() if writer.kept is not None else {}
    finally:
        worker.join()
    if failed:
        raise failed[0]
    conn.executemany(
        "UPDATE files SET resolved = ? WHERE id = ?", [(n, f) for f, n in counts.items()]
    )


def relink(conn: sqlite3.Connection, writer: Writer, *, everything: bool) -> None:
    """Recount the resolved references of the files an incremental run may have changed:
    those it parsed, and those using a name whose definitions or import bindings came or
    went (lazily: only what their references ask for is read); every file when files
    appeared or vanished (imports may bind differently)."""
    from lynkr_cli.index.links import Links, resolved_by_file

    if everything:
        ids = {row[0] for row in conn.execute("SELECT id FROM files WHERE skip IS NULL")}
    else:
        ids = set(writer.written) | _files_using(conn, writer.changed_names)
    if not ids:
        return
    links = Links.load(conn) if everything else Links.lazy(conn)
    wanted = sorted(ids)
    refs: list[tuple[int, str, str, str]] = []
    for at in range(0, len(wanted), 500):
        chunk = wanted[at : at + 500]
        refs += conn.execute(
            "SELECT file_id, name, receiver, scope FROM refs "
            f"WHERE file_id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
    counts = resolved_by_file(links, refs)
    conn.executemany(
        "UPDATE files SET resolved = ? WHERE id = ?", [(counts.get(f, 0), f) for f in wanted]
    )


def _files_using(conn: sqlite3.Connection, names: set[str]) -> set[int]:
    """Files with a reference to one of ``names``, or called on one (``Name.method()``)."""
    found: set[int] = set()
    listed = sorted(names)
    for at in range(0, len(listed), 500):
        chunk = listed[at : at + 500]
        marks = ",".join("?" * len(chunk))
        found.update(
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT file_id FROM refs WHERE name IN ({marks}) "
                f"OR receiver IN ({marks})",
                chunk + chunk,
            )
        )
    return found
