"""``lynkr index search``: symbols ranked by how well their names match what was typed.

A name falls in the first tier it meets:

0. the query exactly, case included;
1. the query exactly, case aside;
2. starts with the query (case aside; with its case first);
3. every word of the query starts a word of the name, as FTS5 finds them
   (``get settings`` and ``get sett`` find ``get_settings``, ``pars req`` finds
   ``parseRequest``);
4. holds the query (case aside);
5. close to it (difflib, for typos: ``HttpSever`` finds ``HTTPServer``).

Within a tier: public names before ``_private`` ones (unless the query starts with
``_``), the query's words in their order, fewer words the query did not ask for, names
holding the query with its case (or both lower case), shorter names, then the name
itself; fuzzy matches by similarity. Among the definitions of one name: top-level ones
first, then classes and functions before constants, then definitions in files that
more files import, then by path and line.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lynkr_cli.index import store

CANDIDATES = 5000  # names considered per tier, before ranking
FUZZY_CUTOFF = 0.75
KIND_RANK = {"class": 0, "interface": 0, "struct": 0, "function": 1, "method": 1, "module": 1}


def search_symbols(
    conn: sqlite3.Connection,
    text: str,
    *,
    kind: str | None,
    lang: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The definitions whose names best match ``text``, best first (see the module doc)."""
    text = text.strip()
    if not text:
        return []
    ranked: dict[str, tuple[float, ...]] = dict(ranked_names(conn, text))
    if len(ranked) < limit:
        for name, similarity, cased in _fuzzy_names(conn, text):
            ranked.setdefault(name, (5, -similarity, -cased))
    order = sorted(ranked, key=lambda n: (ranked[n], n))
    return _definitions(conn, order, kind=kind, lang=lang, limit=limit)


def ranked_names(conn: sqlite3.Connection, text: str) -> dict[str, tuple[int, ...]]:
    """name -> (tier, *closeness) for tiers 0 to 4 (see :func:`_closeness`)."""
    lowered = text.lower()
    out: dict[str, tuple[int, ...]] = {}
    rows = conn.execute(
        "SELECT name FROM names WHERE instr(lower(name), ?) > 0 LIMIT ?", (lowered, CANDIDATES)
    )
    for (name,) in rows:
        low = name.lower()
        if name == text:
            tier = 0
        elif low == lowered:
            tier = 1
        elif low.startswith(lowered):
            tier = 2
        else:
            tier = 4
        out[name] = (tier, *_closeness(name, text))
    rows = conn.execute(
        "SELECT n.name FROM names_fts JOIN names n ON n.id = names_fts.rowid "
        "WHERE names_fts MATCH ? LIMIT ?",
        (store.fts_query(text), CANDIDATES),
    )
    for (name,) in rows:
        if out.get(name, (9,))[0] > 3:
            out[name] = (3, *_closeness(name, text))
    return out


def _closeness(name: str, text: str) -> tuple[int, int, int, int, int]:
    """(private, words out of order, extra words, case miss, length): smaller is closer
    to what was typed. The case matches when the name holds the query as typed, or both
    are lower case (``schema vers``: ``schema_version`` before ``SCHEMA_VERSION``)."""
    private = int(name.startswith("_") and not text.startswith("_"))
    name_words = store.word_list(name) or [name.lower()]
    text_words = store.word_list(text) or [text.lower()]
    extra = max(0, len(name_words) - len(text_words))
    case_miss = int(text not in name and (text == text.lower()) != (name == name.lower()))
    return private, int(not _in_order(text_words, name_words)), extra, case_miss, len(name)


def _in_order(wanted: list[str], words: list[str]) -> bool:
    """Whether each wanted word starts a word of ``words``, in the same order."""
    at = 0
    for word in wanted:
        while at < len(words) and not words[at].startswith(word):
            at += 1
        if at == len(words):
            return False
        at += 1
    return True


def _fuzzy_names(conn: sqlite3.Connection, text: str) -> list[tuple[str, float, float]]:
    """(name, similarity case aside, similarity with case) of the names closest to
    ``text`` (difflib)."""
    import difflib

    lowered: dict[str, list[str]] = {}
    for (name,) in conn.execute("SELECT name FROM names"):
        lowered.setdefault(name.lower(), []).append(name)
    query = text.lower()
    close = difflib.get_close_matches(query, list(lowered), n=20, cutoff=FUZZY_CUTOFF)
    out = []
    for low in close:
        similarity = difflib.SequenceMatcher(None, query, low).ratio()
        for name in lowered[low]:
            out.append((name, similarity, difflib.SequenceMatcher(None, text, name).ratio()))
    return out


def _definitions(
    conn: sqlite3.Connection,
    names: list[str],
    *,
    kind: str | None,
    lang: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    sql = (
        f"SELECT {store.SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.name = ?"
    )
    if kind:
        sql += " AND s.kind = ?"
    if lang:
        sql += " AND f.lang = ?"
    importers = _importers(conn)
    out: list[dict[str, Any]] = []
    for name in names:
        params = [name, *(p for p in (kind, lang) if p)]
        found = [store.symbol_dict(row) for row in conn.execute(sql, params)]
        found.sort(key=lambda s: _definition_rank(s, importers))
        out += found
        if len(out) >= limit:
            break
    return out[:limit]


def _definition_rank(symbol: dict[str, Any], importers: dict[str, int]) -> tuple[Any, ...]:
    return (
        symbol["scope"] != "",
        KIND_RANK.get(symbol["kind"], 2),
        -importers.get(symbol["path"], 0),
        symbol["path"],
        symbol["line"],
    )


def _importers(conn: sqlite3.Connection) -> dict[str, int]:
    """path -> how many files import it (resolved imports)."""
    rows = conn.execute(
        "SELECT target, count(DISTINCT file_id) FROM imports WHERE target IS NOT NULL "
        "GROUP BY target"
    )
    return {target: count for target, count in rows}
