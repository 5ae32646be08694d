"""The repo map: definitions ranked by PageRank over the reference graph (after aider).

Files are nodes; a file that references a name defined in another file gets an
edge to it, weighted by how often it uses the name. Rare, descriptive names
weigh more; private names and names defined in many files weigh less (they say
little about structure). A file's rank is then shared among the definitions it
points at, and the best definitions are printed, grouped by file, until the
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
    paths = dict(conn.execute("SELECT id, path FROM files WHERE skip IS NULL"))
    definers: dict[str, set[int]] = defaultdict(set)
    for file_id, name in conn.execute("SELECT DISTINCT file_id, name FROM symbols"):
        definers[name].add(file_id)
    edges: dict[int, list[tuple[int, str, float]]] = defaultdict(list)
    uses = conn.execute("SELECT file_id, name, count(*) FROM refs GROUP BY file_id, name")
    for file_id, name, count in uses:
        targets = definers.get(name)
        if not targets:
            continue
        weight = _name_weight(name, len(targets)) * math.sqrt(count)
        for target in targets:
            if target != file_id and target in paths and file_id in paths:
                edges[file_id].append((target, name, weight))
    if not edges:
        return _fallback(conn)
    rank = pagerank(list(paths), edges)
    scores: dict[tuple[int, str], float] = defaultdict(float)
    for source, out in edges.items():
        total = sum(weight for _, _, weight in out) or 1.0
        for target, name, weight in out:
            scores[(target, name)] += rank[source] * weight / total
    ordered = sorted(scores.items(), key=lambda item: (-item[1], paths[item[0][0]], item[0][1]))
    return [(score, paths[fid], name) for (fid, name), score in ordered]


def pagerank(
    nodes: list[int],
    edges: dict[int, list[tuple[int, str, float]]],
    damping: float = 0.85,
    rounds: int = 100,
    tolerance: float = 1e-9,
) -> dict[int, float]:
    """Weighted PageRank by power iteration; dangling nodes spread their rank evenly.

    Written out (rather than networkx.pagerank) because networkx computes it with
    numpy/scipy, which lynkr does not otherwise need.
    """
    count = len(nodes)
    rank = dict.fromkeys(nodes, 1.0 / count)
    totals = {n: sum(w for _, _, w in out) for n, out in edges.items()}
    for _ in range(rounds):
        dangling = sum(rank[n] for n in nodes if not totals.get(n))
        base = (1.0 - damping) / count + damping * dangling / count
        new = dict.fromkeys(nodes, base)
        for source, out in edges.items():
            share = damping * rank[source] / totals[source] if totals[source] else 0.0
            for target, _, weight in out:
                new[target] += share * weight
        delta = sum(abs(new[n] - rank[n]) for n in nodes)
        rank = new
        if delta < tolerance * count:
            break
    return rank


def _name_weight(name: str, definer_count: int) -> float:
    weight = 1.0
    if len(name) >= 8 and ("_" in name or any(c.isupper() for c in name[1:])):
        weight *= 10  # descriptive identifiers carry meaning
    if name.startswith("_"):
        weight *= 0.1
    if definer_count > 5:
        weight *= 0.1
    return weight


def _fallback(conn: sqlite3.Connection) -> list[tuple[float, str, str]]:
    """No cross-file references (one file, or no references): top-level order."""
    rows = conn.execute(
        "SELECT f.path, s.name FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.scope = '' ORDER BY f.path, s.line"
    )
    return [(0.0, path, name) for path, name in rows]


def _all_signatures(conn: sqlite3.Connection) -> dict[tuple[str, str], list[Any]]:
    """(path, name) -> [(line, signature)] for every stored definition."""
    out: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for path, name, line, signature in conn.execute(
        "SELECT f.path, s.name, s.line, s.signature FROM symbols s JOIN files f ON f.id = s.file_id"
    ):
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

    signatures = _all_signatures(conn)

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
