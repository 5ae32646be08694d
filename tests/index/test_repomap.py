"""The repo map: PageRank over real references, fitted to a token budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr_cli.index import api, repomap
from tests.index.helpers import make_repo


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files: dict[str, str | bytes] = {
        "core.py": "def important_function(x):\n    return x\n\n\ndef rarely_used():\n    pass\n",
        "leaf.py": "def leaf_helper():\n    pass\n",
        "other.py": "from leaf import leaf_helper\n\n\ndef other():\n    leaf_helper()\n",
    }
    for i in range(8):
        files[f"user{i}.py"] = (
            "from core import important_function\n\n\n"
            f"def use{i}():\n    return important_function({i})\n"
        )
    root = make_repo(tmp_path_factory.mktemp("star") / "repo", files)
    api.build(root)
    return root


def test_most_used_definition_ranks_first(star: Path) -> None:
    text = api.repo_map(star, 1024)
    assert text.startswith("core.py:\n  1: def important_function(x):\n")
    assert "leaf_helper" in text
    assert "rarely_used" not in text  # never referenced: not part of the graph


def test_budget_is_respected(star: Path) -> None:
    full = api.repo_map(star, 10_000)
    for tokens in (1, 10, 20, 40):
        text = api.repo_map(star, tokens)
        assert len(text) <= tokens * repomap.CHARS_PER_TOKEN
        assert full.startswith(text.split("\n", 1)[0])
    assert api.repo_map(star, 1) == ""


def test_pagerank_is_a_distribution() -> None:
    links = {1: {2: 1.0}, 2: {3: 2.0, 1: 1.0}, 3: {}}
    rank = repomap.pagerank([1, 2, 3, 4], links)
    assert sum(rank.values()) == pytest.approx(1.0)
    assert rank[3] > rank[4]


def test_single_file_falls_back_to_its_outline(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "one", {"solo.py": "def a():\n    pass\n\n\ndef b():\n    a()\n"})
    api.build(root)
    assert api.repo_map(root, 100) == "solo.py:\n  1: def a():\n  5: def b():\n"
