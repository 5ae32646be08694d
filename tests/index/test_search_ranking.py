"""Search ranking, measured on a labelled query set (tests/fixtures/index/search_queries.json).

The corpora are real code, each copied and indexed once: the running interpreter's
standard library (found at run time, ``sysconfig``; no test packages) and this
repository's ``lynkr_cli``. Every query has its expected definition; the test reports precision@1
and the mean reciprocal rank over the first 50 results, and holds them to a floor.

    .venv/bin/python -m tests.index.test_search_ranking   # prints the figures per query
"""

from __future__ import annotations

import json
import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.index import api

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "tests" / "fixtures" / "index" / "search_queries.json"
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
PRECISION_FLOOR = 0.95
MRR_FLOOR = 0.96


def make_corpora(dest: Path) -> dict[str, Path]:
    """Indexed copies: ``stdlib`` (the interpreter's, ``*.py`` without tests) and ``lynkr``."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        if SKIP_DIRS & set(rel.parts[:-1]):
            continue
        target = dest / "stdlib" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "lynkr_cli", dest / "lynkr" / "lynkr_cli", ignore=skip)
    corpora = {"stdlib": dest / "stdlib", "lynkr": dest / "lynkr"}
    for root in corpora.values():
        api.build(root)
    return corpora


def labelled() -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]
    return queries


def rank_of(item: dict[str, Any], results: list[dict[str, Any]]) -> int | None:
    """1-based rank of the first right result, or None."""
    for rank, row in enumerate(results, 1):
        if row["name"] in item["names"] and item.get("path", row["path"]) == row["path"]:
            return rank
    return None


Ranks = list[tuple[dict[str, Any], int | None]]


def evaluate(search: Callable[[str, str], list[dict[str, Any]]]) -> tuple[float, float, Ranks]:
    """(precision@1, MRR, per-query ranks) of ``search`` over the labelled set."""
    ranks = [(item, rank_of(item, search(item["corpus"], item["query"]))) for item in labelled()]
    precision = sum(rank == 1 for _, rank in ranks) / len(ranks)
    mrr = sum(1 / rank for _, rank in ranks if rank) / len(ranks)
    return precision, mrr, ranks


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_corpora(tmp_path_factory.mktemp("search-corpus"))


def test_the_labelled_set_is_large_and_covers_every_tier() -> None:
    queries = labelled()
    assert len(queries) >= 50
    assert {q["kind"] for q in queries} == {
        "exact", "case", "prefix", "word-prefix", "substring", "fuzzy"
    }  # fmt: skip


def test_held_out_queries_are_there() -> None:
    held_out = [q for q in labelled() if q.get("held_out")]
    assert len(held_out) >= 15


def test_precision_and_mrr_hold_their_floor(corpora: dict[str, Path]) -> None:
    precision, mrr, ranks = evaluate(lambda c, q: api.search(corpora[c], q, limit=50))
    missed = [(item["query"], rank) for item, rank in ranks if rank != 1]
    print(f"precision@1 {precision:.3f}, MRR {mrr:.3f}; not first: {missed}")
    assert precision >= PRECISION_FLOOR, missed
    assert mrr >= MRR_FLOOR, missed


def test_the_issue_examples(corpora: dict[str, Path]) -> None:
    """`get_sett` lists get_settings first; `g` shows the function g first."""
    lynkr, stdlib = corpora["lynkr"], corpora["stdlib"]
    assert api.search(lynkr, "get_sett")[0]["name"] == "get_settings"
    assert api.search(stdlib, "g")[0]["name"] == "g"
    words = [r["name"] for r in api.search(lynkr, "get settings", limit=5)]
    assert words[0] == "get_settings"


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        corpora = make_corpora(Path(tmp))
        precision, mrr, ranks = evaluate(lambda c, q: api.search(corpora[c], q, limit=50))
        for item, rank in ranks:
            print(f"{item['kind']:12} {item['query']!r:24} rank {rank}")
        print(f"precision@1 {precision:.3f}  MRR {mrr:.3f}  ({len(ranks)} queries)")


if __name__ == "__main__":
    main()
