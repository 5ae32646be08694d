"""The repo map: definitions ranked by PageRank over the reference graph (after aider).

Files are nodes; a file whose references resolve (``links.py``) to a definition
in another file gets an edge to it, weighted by how often it uses it. Descriptive
names weigh more, private names less; unresolved references (``obj.get()``) add
nothing, so common method names cannot pose as hubs. A file's rank is then shared
among the definitions it points at, and the best definitions are printed, grouped by file, until the
token budget is spent. Tokens are estimated at four characters each.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from typing import Any

CHARS_PER_TOKEN = 4


def ranked_definitions(conn: sqlite3.Connection) -> list[tuple[float, str, str]]:
    """``(rank, path, name)`` for every referenced definition, best first."""
    from lynkr_cli.index.links import Links

    paths = dict(conn.execute("SELECT id, path FROM files WHERE skip IS NULL"))
    links = Links.load(conn)
    uses: dict[tuple[int, int, str], int] = defaultdict(int)
    for file_id, _, target, count in links.grouped(conn):
        if target is None or file_id not in paths:
            continue  # unresolved: the code does not say which definition it means
        owner, _, name = links.owner[target]  # its own name: ``import main as cli_main``
        if owner != file_id and owner in paths:
            uses[(file_id, owner, name)] += count
    edges = [
        (source, target, name, _name_weight(name) * math.sqrt(count))
        for (source, target, name), count in uses.items()
    ]
    if not edges:
        return _fallback(conn)
    links_out: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for source, target, _, weight in edges:
        links_out[source][target] += weight
    rank = pagerank(list(paths), links_out)
    totals = {source: sum(out.values()) for source, out in links_out.items()}
    scores: dict[tuple[int, str], float] = defaultdict(float)
    for source, target, name, weight in edges:
        scores[(target, name)] += rank[source] * weight / totals[source]
    ordered = sorted(scores.items(), key=lambda item: (-item[1], paths[item[0][0]], item[0][1]))
    return [(score, paths[fid], name) for (fid, name), score in ordered]


def pagerank(
    nodes: list[int],
    links: dict[int, dict[int, float]],
    damping: float = 0.85,
    rounds: int = 40,
    tolerance: float = 1e-4,
) -> dict[int, float]:
    """Weighted PageRank by power iteration; dangling nodes spread their rank evenly.

    Written out (rather than networkx.pagerank) because networkx computes it with
    numpy/scipy, which lynkr does not otherwise need. ``links[a][b]`` is the weight
    of the edge a -> b.
    """
    count = len(nodes)
    rank = dict.fromkeys(nodes, 1.0 / count)
    shares = {
        source: [(target, weight / total) for target, weight in out.items()]
        for source, out in links.items()
        if (total := sum(out.values())) > 0
    }
    dangling_nodes = [n for n in nodes if n not in shares]
    for _ in range(rounds):
        dangling = sum(rank[n] for n in dangling_nodes)
        new = dict.fromkeys(nodes, (1.0 - damping + damping * dangling) / count)
        for source, out in shares.items():
            flow = damping * rank[source]
            for target, fraction in out:
                new[target] += flow * fraction
        delta = sum(abs(new[n] - rank[n]) for n in nodes)
        rank = new
        if delta < tolerance:
            break
    return rank


def _name_weight(name: str) -> float:
    weight = 1.0
    if len(name) >= 8 and ("_" in name or any(c.isupper() for c in name[1:])):
        weight *= 10  # descriptive identifiers carry meaning
    if name.startswith("_"):
        weight *= 0.1
    return weight


def _fallback(conn: sqlite3.Connection) -> list[tuple[float, str, str]]:
    """No cross-file references (one file, or no references): top-level order."""
    rows = conn.execute(
        "SELECT f.path, s.name FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.scope = '' ORDER BY f.path, s.line"
    )
    return [(0.0, path, name) for path, name in rows]


def _signatures(
    conn: sqlite3.Connection, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], list[Any]]:
    """(path, name) -> [(line, signature)] for the given pairs."""
    out: dict[tuple[str, str], list[Any]] = defaultdict(list)
    wanted = set(pairs)
    for name in {name for _, name in pairs}:
        rows = conn.execute(
            "SELECT f.path, s.line, s.signature FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE s.name = ?",
            (name,),
        )
        for path, line, signature in rows:
            if (path, name) in wanted:
                out[(path, name)].append((line, signature))
    return out


def _text(by_file: dict[str, list[Any]], order: list[str]) -> str:
    lines: list[str] = []
    for path in order:
        if path not in by_file:
            continue
        lines.append(f"{path}:")
        seen = set()
        for line, signature in sorted(by_file[path]):
            if signature not in seen:
                seen.add(signature)
                lines.append(f"  {line}: {signature}")
    return "\n".join(lines) + ("\n" if lines else "")


def render(conn: sqlite3.Connection, tokens: int) -> str:
    """The largest prefix of the ranking whose outline fits ``tokens`` (binary search)."""
    ranked = ranked_definitions(conn)
    budget = max(tokens, 0) * CHARS_PER_TOKEN
    pairs = [(path, name) for _, path, name in ranked]
    file_order = list(dict.fromkeys(path for path, _ in pairs))

    # Each outline line takes at least ~8 characters: no budget can use more pairs than this.
    pairs = pairs[: budget // 8 + 1]
    signatures = _signatures(conn, pairs)

    def outline(count: int) -> str:
        by_file: dict[str, list[Any]] = defaultdict(list)
        for pair in pairs[:count]:
            by_file[pair[0]] += signatures.get(pair, [])
        return _text(by_file, file_order)

    low, high, best = 0, len(pairs), ""
    while low <= high:
        middle = (low + high) // 2
        text = outline(middle)
        if len(text) <= budget:
            best, low = text, middle + 1
        else:
            high = middle - 1
    return best
