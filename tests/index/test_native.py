"""The C accelerator (``index/native.py``, ``native/lynkr_native.c``) against py-tree-sitter.

Both paths index the same real corpus (every language's sample tree, the interpreter's
standard library, lynkr's own source, awkward files) and must write the same rows,
table by table. Under ``CI=true`` the accelerator must have been built.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lynkr_cli.index import api, extract, native
from lynkr_cli.index.languages import PARSED
from tests.conftest import require
from tests.index.helpers import make_repo
from tests.index.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
VOLATILE_META = {"root", "built_at"}

AWKWARD: dict[str, str | bytes] = {
    "odd/latin1.py": b"def caf\xe9(x):\n    return x.m\xe9thode()\n",
    "odd/broken.py": "def f(:\n    return g(\nclass C:\n    def m(self): self.x.y()\n",
    "odd/crlf.py": "class A:\r\n    def b(self):\r\n        return self.c()\r\n",
    "odd/unicode.py": "def größe(ä):\n    return ä.naïve().δ()\n\nλ = lambda: 0\n",
    "odd/long.py": f"def {'n' * 240}():\n    return ({'x' * 90}).call()\n",
    "odd/empty.py": "",
    "odd/deep.py": "x = " + "(" * 300 + "1" + ")" * 300 + "\n",
    "odd/half.go": "package main\n\nfunc main() {\n\tfmt.Println(\n",
    "odd/half.rs": "fn main() { let v = Vec::new(); v.push(\n",
    "odd/half.ts": "export class A { m(): void { this.n(",
    "odd/weird.c": '#include "x.h"\nint main(void) { return f(g(h())); }\n',
    # #match? predicates read these names: not UTF-8, so py-tree-sitter parses the file
    "odd/latin1.js": b"function caf\xe9() { return g\xe9(); }\nh\xff();\nrequire('x');\n",
    "odd/latin1.rb": b"def caf\xe9\n  g\xe9(1)\nend\nrequire 'x'\nload\n",
    "odd/match.js": "require('a');\nrequired();\nconst r = require;\nr('b');\nx.require();\n",
    "odd/match.rb": "require 'a'\nrequire_relative 'b'\nrequired 1\nlambda { }\nloader 2\n",
}


def native_required() -> None:
    require(native.available(), "the C accelerator lynkr_cli.index._native was not built")


@pytest.fixture
def path_choice() -> Iterator[None]:
    yield
    native.set_enabled(True)
    extract._tools.clear()


def use(enabled: bool) -> None:
    native.set_enabled(enabled)
    extract._tools.clear()  # languages load again, on the chosen path


def corpus(dest: Path) -> Path:
    files: dict[str, str | bytes] = {**SAMPLES, **AWKWARD}
    make_repo(dest, files, use_git=False)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        if not SKIP_DIRS & set(rel.parts[:-1]):
            target = dest / "stdlib" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    shutil.copytree(ROOT / "lynkr_cli", dest / "lynkr_cli", ignore=shutil.ignore_patterns("*.so"))
    return dest


def rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted; ``meta`` without the path and the build time."""
    conn = sqlite3.connect(db)
    try:
        tables = [
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        out = {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"'), key=repr) for table in tables
        }
    finally:
        conn.close()
    out["meta"] = [row for row in out["meta"] if row[0] not in VOLATILE_META]
    out["files"] = [row[:4] + row[5:] for row in out["files"]]  # not mtime_ns: two copies
    return out


def test_built_under_ci() -> None:
    native_required()
    from lynkr_cli.index import _native

    assert _native.MIN_COMPATIBLE_LANGUAGE_VERSION <= 14 <= _native.LANGUAGE_VERSION
    assert native.status() == "native"
    if os.environ.get("CI") == "true":  # the profile-guided build is where the speed is
        assert _native.PROFILE_GUIDED, "setup.py's training run failed: see the pip log"


@dataclass(frozen=True)
class Conf:
    workers: int
    db_path: Path | None = None
    max_file_bytes: int = 1_000_000


def test_both_paths_write_the_same_rows(tmp_path: Path, path_choice: None) -> None:
    """In one process (files in a fixed order, so even the row ids must match), then the
    accelerated path in a pool of workers (ids follow the order results come back)."""
    native_required()
    dbs = {}
    for name, enabled, workers in (("python", False, 1), ("native", True, 1), ("pool", True, 2)):
        use(enabled)
        root = corpus(tmp_path / name)
        report = api.build(root, settings=Conf(workers))
        assert report.parsed > 1000 and not report.warnings
        dbs[name] = rows(root / ".lynkr" / "index.db")
    python, accelerated = dbs["python"], dbs["native"]
    assert python.keys() == accelerated.keys()
    for table in python:
        assert python[table] == accelerated[table], table
    assert len(python["symbols"]) > 20_000 and len(python["refs"]) > 60_000
    assert set(PARSED) <= {row[2] for row in python["files"]}

    def without_ids(found: dict[str, list[tuple[object, ...]]]) -> list[object]:
        paths = {row[0]: row[1] for row in found["files"]}
        symbols = sorted((paths[r[1]], *r[2:]) for r in found["symbols"])
        refs = sorted((paths[r[0]], *r[1:]) for r in found["refs"])
        imports = sorted((paths[r[0]], *r[1:]) for r in found["imports"])
        return [symbols, refs, imports, sorted(r[1:] for r in found["files"])]

    assert without_ids(dbs["pool"]) == without_ids(python)


def test_each_language_loads_on_its_path(path_choice: None) -> None:
    native_required()
    use(True)
    for lang in PARSED:
        run = extract._make_tools(lang)
        assert run.__module__ == "lynkr_cli.index.native", lang


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_input_parses_the_same(name: str, path_choice: None) -> None:
    native_required()
    from lynkr_cli.index.languages import language_for

    data = AWKWARD[name]
    source = data if isinstance(data, bytes) else data.encode()
    lang = language_for(name)
    assert lang is not None
    results = []
    for enabled in (False, True):
        use(enabled)
        results.append(extract.parse(lang, source, 7))
    assert results[0] == results[1]


def test_threads_share_nothing(path_choice: None) -> None:
    """The GIL is released while a file parses: extractors in several threads give what
    one gives alone, and one extractor used by two threads at once refuses the second."""
    native_required()
    use(True)
    sources = [p.read_bytes() for p in sorted((ROOT / "lynkr_cli" / "index").glob("*.py"))]
    found: dict[int, list[object]] = {}

    def work(slot: int) -> None:
        from lynkr_cli.index import _native

        extractor = _native.Extractor(*_python_args())
        found[slot] = [extractor.run(source, 3) for source in sources * 2]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    run = extract._make_tools("python")
    expected = [run(source, 3) for source in sources * 2]
    assert all(found[slot] == expected for slot in range(3))


def test_one_extractor_two_threads_never_crashes(path_choice: None) -> None:
    native_required()
    from lynkr_cli.index import _native

    extractor = _native.Extractor(*_python_args())
    big = (ROOT / "lynkr_cli" / "index" / "links.py").read_bytes() * 20
    expected = extractor.run(big, 1)
    outcomes: list[str] = []

    def work() -> None:
        for _ in range(5):
            try:
                assert extractor.run(big, 1) == expected
                outcomes.append("ok")
            except RuntimeError as exc:
                assert "already running" in str(exc)
                outcomes.append("busy")

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 10 and "ok" in outcomes


def _python_args() -> tuple[object, str, object, frozenset[str], bool]:
    import tree_sitter_python

    from lynkr_cli.index.languages import query_text

    query = query_text(PARSED["python"], tree_sitter_python)
    return tree_sitter_python.language(), query, extract._role, extract.MEMBER_NODES, True


def test_bad_arguments_are_python_errors() -> None:
    native_required()
    import tree_sitter_python

    from lynkr_cli.index import _native

    language, query, roles, members, receivers = _python_args()
    with pytest.raises(ValueError, match="invalid query: syntax"):
        _native.Extractor(language, "((identifier) @x", roles, members, receivers)
    with pytest.raises(ValueError, match="node type"):
        _native.Extractor(language, "(no_such_node) @x", roles, members, receivers)
    with pytest.raises(TypeError):
        _native.Extractor(object(), query, roles, members, receivers)
    with pytest.raises(TypeError, match="callable"):
        _native.Extractor(language, query, 3, members, receivers)
    with pytest.raises(TypeError, match="members"):
        _native.Extractor(language, query, roles, ["call"], receivers)
    with pytest.raises(ValueError, match="no role"):
        _native.Extractor(language, query, lambda name: (9, "x", False), members, receivers)
    with pytest.raises(ZeroDivisionError):
        _native.Extractor(language, query, lambda name: 1 / 0, members, receivers)
    with pytest.raises(TypeError, match="tuple"):
        _native.Extractor(language, query, lambda name: [1, "x", False], members, receivers)
    half = _native.Extractor.__new__(_native.Extractor)
    with pytest.raises(ValueError, match="no role"):
        half.__init__(language, query, lambda name: (-1, "x", False), members, receivers)
    with pytest.raises(RuntimeError, match="not initialised"):
        half.run(b"x = 1", 1)  # a failed __init__ leaves nothing half usable
    with pytest.raises(RuntimeError, match="already initialised"):
        half.__init__(language, query, roles, members, receivers)
    with pytest.raises(re.error):
        _native.Extractor(
            language, '((identifier) @x (#match? @x "(unclosed"))', roles, members, receivers
        )
    extractor = _native.Extractor(tree_sitter_python.language(), query, roles, members, True)
    with pytest.raises(TypeError):
        extractor.run("text, not bytes", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        extractor.run(bytearray(b"x = 1"), 1)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not initialised"):
        _native.Extractor.__new__(_native.Extractor).run(b"x = 1", 1)
    assert extractor.run(b"", 1) == ([], [], [], False)
    with pytest.raises(TypeError):
        extractor.run(b"x = 1", "1")  # type: ignore[arg-type]


def test_memory_is_bounded_by_the_largest_file() -> None:
    """The arena of a run is reset after it: indexing many files holds no more than the
    largest one needs."""
    native_required()
    from lynkr_cli.index import _native

    extractor = _native.Extractor(*_python_args())
    small = b"def f(x):\n    return x.y()\n" * 50
    big = small * 400
    extractor.run(big, 1)
    peak = extractor.arena_peak
    for _ in range(200):
        extractor.run(small, 1)
    extractor.run(big, 1)
    assert extractor.arena_peak == peak
    # ~76 bytes per byte of this dense source (41 MB for 540 kB); the whole py-tree-sitter
    # path peaks higher on it (Node objects and all), the accelerated one lower
    assert peak < 128 * len(big)


def test_doctor_says_which_path_parses(tmp_path: Path) -> None:
    """`lynkr doctor` names the path in its grammars check (a real `lynkr` process)."""
    native_required()
    import json
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path), "LYNKR_HOME": str(tmp_path / "lynkr")}
    proc = subprocess.run(
        [sys.executable, "-m", "lynkr_cli", "doctor", "--json", "--only", "grammars"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    check = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}["grammars"]
    assert check["details"]["parser"] == "native"
    assert "parsed by the C accelerator" in check["summary"]
    assert api.parser_path() == "native"


def test_disabled_accelerator_is_the_python_path(path_choice: None) -> None:
    use(False)
    assert api.parser_path() == "python"
    assert native.extractor("python", extract._role, extract.MEMBER_NODES, True, dict) is None
    assert extract._make_tools("python").__module__ == "lynkr_cli.index.extract"


def test_text_a_regex_cannot_read_goes_to_py_tree_sitter(
    path_choice: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """py-tree-sitter hands a #match? predicate its text as a C string: text that is not
    plain UTF-8 fails there in its own way, so such a file is parsed by it, not here."""
    native_required()
    import tree_sitter_javascript
    import tree_sitter_python

    from lynkr_cli.index import _native
    from lynkr_cli.index.languages import query_text

    query = '((string) @name.reference.call (#match? @name.reference.call "a"))'
    args = (extract._role, extract.MEMBER_NODES, True)
    strings = _native.Extractor(tree_sitter_python.language(), query, *args)
    with pytest.raises(_native.Unsupported):
        strings.run(b'x = "a\\xff"\n'.replace(b"\\xff", b"\xff"), 1)
    assert [r[1] for r in strings.run(b'x = "a"\ny = "b"\n', 1)[1]] == ['"a"']

    query = query_text(PARSED["javascript"], tree_sitter_javascript)
    calls = _native.Extractor(tree_sitter_javascript.language(), query, *args[:2], False)
    refs = calls.run(b"require('x');\nrequired();\n", 1)[1]
    assert [r[1] for r in refs] == ["required"]  # #not-match? @name "^(require)$"

    class Refusing:  # an accelerator that hands every file back
        def __init__(self, *args: object) -> None:
            pass

        def run(self, data: bytes, file_id: int) -> object:
            raise _native.Unsupported("not plain UTF-8")

    handed: list[bytes] = []

    def fallback() -> extract.Run:
        def run(data: bytes, file_id: int) -> extract.Rows:
            handed.append(data)
            return [], [], [], False

        return run

    monkeypatch.setattr(_native, "Extractor", Refusing)
    run = native.extractor("javascript", extract._role, extract.MEMBER_NODES, False, fallback)
    assert run is not None and run(b"f();", 1) == ([], [], [], False)
    assert handed == [b"f();"]
