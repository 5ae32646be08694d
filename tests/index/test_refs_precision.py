"""Reference resolution, measured on 200 hand-labelled references (tests/fixtures/index).

The corpus is a frozen copy of part of lynkr's own source (refs_corpus.json); each of
the 200 references, drawn at random from its index, is labelled with the definition it
really calls there, or none (a builtin, the standard library, a method of a dict...).
Precision is the share of resolved references that point at the right definition;
recall the share of references with a definition in the corpus that resolve to it.

    .venv/bin/python -m tests.index.test_refs_precision   # prints the figures
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.index import api
from lynkr_cli.index.links import Links

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "index"
PRECISION_FLOOR = 0.97
RECALL_FLOOR = 0.8
Resolve = Callable[[dict[str, Any]], str | None]


def make_corpus(dest: Path) -> Path:
    files = json.loads((FIXTURES / "refs_corpus.json").read_text(encoding="utf-8"))["files"]
    for path, text in files.items():
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_text(text, encoding="utf-8")
    api.build(dest)
    return dest


def labelled() -> list[dict[str, Any]]:
    doc = json.loads((FIXTURES / "refs_labels.json").read_text(encoding="utf-8"))
    refs: list[dict[str, Any]] = doc["references"]
    return refs


def linked(root: Path) -> Resolve:
    """What the index resolves each labelled reference to (``path:line`` or None)."""
    conn = sqlite3.connect(api.index_path(root))
    links = Links.load(conn)

    def resolve(item: dict[str, Any]) -> str | None:
        row = conn.execute(
            "SELECT r.file_id, r.receiver, r.scope FROM refs r JOIN files f ON f.id = r.file_id "
            "WHERE f.path = ? AND r.line = ? AND r.col = ? AND r.name = ?",
            (item["path"], item["line"], item["column"], item["name"]),
        ).fetchone()
        assert row is not None, f"labelled reference not in the index: {item}"
        target = links.target(row[0], item["name"], row[1], row[2])
        where = links.where(target) if target is not None else None
        return f"{where[0]}:{where[1]}" if where else None

    return resolve


def by_unique_name(root: Path) -> Resolve:
    """The rule before receivers were read: resolved when one definition has the name."""
    conn = sqlite3.connect(api.index_path(root))

    def resolve(item: dict[str, Any]) -> str | None:
        rows = conn.execute(
            "SELECT f.path, s.line FROM symbols s JOIN files f ON f.id = s.file_id "
            "WHERE s.name = ? LIMIT 2",
            (item["name"],),
        ).fetchall()
        return f"{rows[0][0]}:{rows[0][1]}" if len(rows) == 1 else None

    return resolve


def measure(resolve: Resolve) -> dict[str, Any]:
    items = labelled()
    answers = [(item, resolve(item)) for item in items]
    resolved = [(item, got) for item, got in answers if got is not None]
    right = [item for item, got in resolved if got == item["truth"]]
    wrong = [(item["path"], item["line"], item["name"], got) for item, got in resolved
             if got != item["truth"]]  # fmt: skip
    with_truth = [item for item in items if item["truth"]]
    return {
        "references": len(items),
        "resolved": len(resolved),
        "precision": len(right) / len(resolved) if resolved else 1.0,
        "recall": len(right) / len(with_truth) if with_truth else 1.0,
        "wrong": wrong,
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("refs-corpus"))


def test_the_sample_is_200_labelled_references() -> None:
    items = labelled()
    assert len(items) == 200
    assert len({(i["path"], i["line"], i["column"], i["name"]) for i in items}) == 200


def test_precision_and_recall_hold_their_floor(corpus: Path) -> None:
    found = measure(linked(corpus))
    print(found)
    assert found["precision"] >= PRECISION_FLOOR, found["wrong"]
    assert found["recall"] >= RECALL_FLOOR


def test_better_than_resolving_by_unique_name(corpus: Path) -> None:
    before, after = measure(by_unique_name(corpus)), measure(linked(corpus))
    assert after["precision"] > before["precision"]


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = make_corpus(Path(tmp))
        for label, rule in (
            ("before (unique name)", by_unique_name),
            ("after (receivers)", linked),
        ):
            found = measure(rule(root))
            print(
                f"{label}: {found['resolved']} of {found['references']} resolved, precision "
                f"{found['precision']:.3f}, recall {found['recall']:.3f}; wrong: {found['wrong']}"
            )


if __name__ == "__main__":
    main()


def test_the_repo_map_names_real_hubs(corpus: Path) -> None:
    """Before, `get`, `set`, `update` and `resolve` (dict.get, Path.resolve...) topped the
    map of this corpus; now the definitions the code really calls do."""
    text = api.repo_map(corpus, 400)
    lines = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    for common in ("def get(", "def set(", "def update(", "def resolve(", "def list("):
        assert not any(common in line for line in lines), (common, text)
    for hub in ("class Resolver:", "def get_manager()", "class CheckResult:"):
        assert any(hub in line for line in lines), (hub, text)


def test_str_replace_is_not_sent_to_a_helper(tmp_path: Path) -> None:
    """The issue's example: `replace` calls on strings and on `dataclasses` stay unresolved
    beside a helper named `replace`; the helper's own callers resolve to it."""
    (tmp_path / "text.py").write_text(
        "import dataclasses\n\n\ndef tidy(s, row):\n    def replace(a):\n        return a\n\n"
        "    s.replace('a', 'b')\n    dataclasses.replace(row)\n    return replace(s)\n",
        encoding="utf-8",
    )
    (tmp_path / "other.py").write_text("def use(s):\n    return s.replace('x', 'y')\n")
    api.build(tmp_path)
    found = {(r["path"], r["line"]): r["definition"] for r in api.refs(tmp_path, "replace")}
    assert found == {
        ("other.py", 2): None,
        ("text.py", 8): None,
        ("text.py", 9): None,
        ("text.py", 10): {"path": "text.py", "line": 5},
    }
