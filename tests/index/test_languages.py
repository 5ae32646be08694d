"""Every supported language, parsed from a real git repository with the real grammars."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lynkr_cli.index import api, languages
from tests.index.helpers import make_repo
from tests.index.samples import DEFINITIONS, IMPORTS, REFERENCES, SAMPLES


@pytest.fixture(scope="module")
def polyglot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("polyglot") / "repo", dict(SAMPLES))
    report = api.build(root)
    assert report.problems == {}, report.problems
    return root


def _cases() -> list[tuple[str, str, str, str]]:
    return [(lang, *d) for lang, defs in DEFINITIONS.items() for d in defs]


@pytest.mark.parametrize(("lang", "name", "kind", "path"), _cases())
def test_definition_found(polyglot: Path, lang: str, name: str, kind: str, path: str) -> None:
    found = [(d["kind"], d["path"], d["lang"]) for d in api.defs(polyglot, name)]
    assert (kind, path, lang) in found, found


@pytest.mark.parametrize("lang", sorted(REFERENCES))
def test_reference_found(polyglot: Path, lang: str) -> None:
    name, path = REFERENCES[lang]
    assert path in {r["path"] for r in api.refs(polyglot, name)}


def test_every_language_counted(polyglot: Path) -> None:
    langs = api.stats(polyglot)["languages"]
    for lang in DEFINITIONS:
        assert langs[lang]["files"] >= 1, lang
        assert langs[lang]["bytes"] > 0
    assert langs["markdown"]["files"] == 1


def test_symbol_fields(polyglot: Path) -> None:
    (add,) = [d for d in api.defs(polyglot, "add") if d["lang"] == "python"]
    assert add == {
        "name": "add", "kind": "function", "path": "pkg/util.py", "line": 6, "column": 9,
        "end_line": 7, "scope": "Registry", "signature": "def add(self, item):", "lang": "python",
    }  # fmt: skip


def test_unambiguous_reference_is_resolved(polyglot: Path) -> None:
    refs = api.refs(polyglot, "slugify")
    assert {r["definition"]["path"] for r in refs} == {"pkg/util.py"}


def test_ambiguous_reference_is_not_resolved(polyglot: Path) -> None:
    # `Shop::Cart.new.total`: what `.new` returns is not known, so neither `total`
    # (JavaScript's, Ruby's) is pointed at.
    assert all(r["definition"] is None for r in api.refs(polyglot, "total"))


@pytest.mark.parametrize(("source", "text", "target"), IMPORTS)
def test_import_resolved(polyglot: Path, source: str, text: str, target: str) -> None:
    conn = sqlite3.connect(api.index_path(polyglot))
    rows = conn.execute(
        "SELECT i.module, i.target FROM imports i JOIN files f ON f.id = i.file_id "
        "WHERE f.path = ?",
        (source,),
    ).fetchall()
    conn.close()
    assert (text, target) in rows, rows


def test_external_import_stays_unresolved(polyglot: Path) -> None:
    conn = sqlite3.connect(api.index_path(polyglot))
    row = conn.execute("SELECT target FROM imports WHERE module = '<stdio.h>'").fetchone()
    conn.close()
    assert row == (None,)


@pytest.mark.parametrize("lang", sorted(languages.PARSED))
def test_every_grammar_loads_with_its_query(lang: str) -> None:
    """Each grammar wheel imports (offline) and its tags query compiles against it with
    the installed tree-sitter: a grammar built for another ABI fails here, not in a run."""
    language, query = languages.load(lang)
    assert query.pattern_count > 0
    assert language.abi_version >= 13


def test_new_languages_in_claude_md(polyglot: Path) -> None:
    from lynkr_cli.index import service

    text = service.run(polyglot, claude="stdout").preview
    for name in ("Kotlin", "Swift", "Scala", "Lua"):
        assert f"- {name}: " in text, name


def test_a_python_lambda_bound_at_module_level_is_one_function(polyglot: Path) -> None:
    # the module-constant pattern matches it too; the function wins, once
    assert [d["kind"] for d in api.defs(polyglot, "shout")] == ["function"]
