"""Incremental runs: only changed files are parsed; edits, deletes, renames leave no stale rows."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from lynkr_cli.index import api, store
from tests.index.helpers import bump_mtime, git, make_repo

FILES = {
    "a.py": "def alpha():\n    return 1\n",
    "b.py": "from a import alpha\n\n\ndef beta():\n    return alpha()\n",
    "c.py": "def gamma():\n    return 3\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", dict(FILES))
    api.build(root)
    return root


def _rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(api.index_path(root))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_no_change_parses_nothing(repo: Path) -> None:
    report = api.build(repo)
    assert (report.parsed, report.unchanged, report.removed, report.changed) == (0, 3, 0, False)
    assert api.index_status(repo) == "fresh"


def test_edit_reparses_only_that_file(repo: Path) -> None:
    (repo / "c.py").write_text("def gamma2():\n    return 3\n")
    bump_mtime(repo / "c.py")
    assert api.index_status(repo) == "stale"
    report = api.build(repo)
    assert (report.parsed, report.unchanged) == (1, 2)
    assert api.defs(repo, "gamma") == []
    assert [d["path"] for d in api.defs(repo, "gamma2")] == ["c.py"]
    # The name index follows: the old name is gone from search, the new one is found.
    assert [s["name"] for s in api.search(repo, "gamm")] == ["gamma2"]
    assert api.index_status(repo) == "fresh"


def test_touch_without_change_is_settled_by_hash(repo: Path) -> None:
    bump_mtime(repo / "a.py")
    report = api.build(repo)
    assert report.parsed == 0
    assert report.changed is False
    assert api.index_status(repo) == "fresh"
    assert len(api.defs(repo, "alpha")) == 1


def test_delete_leaves_no_rows(repo: Path) -> None:
    (repo / "a.py").unlink()
    report = api.build(repo)
    assert report.removed == 1
    assert api.defs(repo, "alpha") == []
    assert api.search(repo, "alpha") == []
    assert _rows(repo, "SELECT count(*) FROM files WHERE path = 'a.py'") == [(0,)]
    orphans = "SELECT count(*) FROM {} WHERE file_id NOT IN (SELECT id FROM files)"
    for table in ("symbols", "refs", "imports"):
        assert _rows(repo, orphans.format(table)) == [(0,)]
    # b.py's import of `a` no longer resolves.
    assert _rows(repo, "SELECT module, target FROM imports") == [("a", None)]


def test_rename_moves_symbols_and_reresolves_imports(repo: Path) -> None:
    git(repo, "mv", "a.py", "renamed.py")
    (repo / "b.py").write_text("from renamed import alpha\n\n\ndef beta():\n    return alpha()\n")
    bump_mtime(repo / "b.py")
    report = api.build(repo)
    assert report.removed == 1
    assert [d["path"] for d in api.defs(repo, "alpha")] == ["renamed.py"]
    assert _rows(repo, "SELECT module, target FROM imports") == [("renamed", "renamed.py")]
    assert {r["definition"]["path"] for r in api.refs(repo, "alpha")} == {"renamed.py"}


def test_new_untracked_file_is_indexed(repo: Path) -> None:
    (repo / "d.py").write_text("def delta():\n    pass\n")
    report = api.build(repo)
    assert report.parsed == 1
    assert api.defs(repo, "delta")[0]["path"] == "d.py"


def test_ignored_file_is_not_indexed(repo: Path) -> None:
    (repo / ".gitignore").write_text("secret_*.py\n")
    (repo / "secret_x.py").write_text("def hidden():\n    pass\n")
    api.build(repo)
    assert api.defs(repo, "hidden") == []


def test_full_rebuild_gives_the_same_index(repo: Path) -> None:
    before = api.stats(repo)
    report = api.build(repo, full=True)
    assert report.cold and report.parsed == 3
    after = api.stats(repo)
    for key in ("files", "symbols", "references", "imports", "resolved_imports"):
        assert before[key] == after[key]


def test_old_schema_rebuilds_by_itself(repo: Path) -> None:
    conn = sqlite3.connect(api.index_path(repo))
    conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 7}")
    conn.close()
    with pytest.raises(Exception, match="old schema"):
        api.defs(repo, "alpha")
    report = api.build(repo)
    assert report.cold
    assert len(api.defs(repo, "alpha")) == 1


def test_corrupt_database_rebuilds(repo: Path) -> None:
    path = api.index_path(repo)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    report = api.build(repo)
    assert report.cold
    assert len(api.defs(repo, "beta")) == 1


def test_configured_db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "repo", {"x.py": "def x():\n    pass\n"})
    target = tmp_path / "elsewhere" / "idx.db"
    monkeypatch.setenv("LYNKR_INDEX_DB", str(target))
    assert api.ensure_index(root) == target
    assert target.is_file()
    assert not (root / ".lynkr").exists()


def test_missing_index_status_and_lookup_error(tmp_path: Path) -> None:
    from lynkr_cli.errors import NotFoundError

    root = make_repo(tmp_path / "repo", {"x.py": "x = 1\n"}, use_git=False)
    assert api.index_status(root) == "missing"
    with pytest.raises(NotFoundError):
        api.search(root, "x")


def test_pool_and_in_process_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        f"m{i}.py": f"from m{(i + 1) % 40} import f{(i + 1) % 40}\n\n\ndef f{i}():\n"
        f"    return f{(i + 1) % 40}()\n"
        for i in range(40)
    }
    root = make_repo(tmp_path / "repo", files, use_git=False)
    monkeypatch.setenv("LYNKR_INDEX_WORKERS", "2")
    pooled = api.build(root, full=True).stats
    monkeypatch.setenv("LYNKR_INDEX_WORKERS", "1")
    single = api.build(root, full=True).stats
    assert pooled == single
    assert pooled["symbols"] == 40 and pooled["resolved_references"] == 40


def test_readers_see_old_or_new_index_during_rebuild(repo: Path) -> None:
    # A reader holding the old database keeps a consistent view across a --full swap.
    reader = sqlite3.connect(api.index_path(repo))
    before = reader.execute("SELECT count(*) FROM symbols").fetchone()
    api.build(repo, full=True)
    assert reader.execute("SELECT count(*) FROM symbols").fetchone() == before
    reader.close()
    assert os.path.exists(api.index_path(repo))


def test_tracked_file_deleted_in_work_tree_is_not_a_problem(repo: Path) -> None:
    (repo / "c.py").unlink()  # still in git's index, gone from disk
    report = api.build(repo)
    assert report.problems == {} and report.removed == 1


def test_concurrent_runs_leave_one_consistent_index(repo: Path) -> None:
    import subprocess
    import sys

    for i in range(30):
        (repo / f"extra{i}.py").write_text(f"def extra{i}():\n    return alpha()\n")
    command = [sys.executable, "-m", "lynkr_cli", "index", str(repo), "--json", "--no-claude-md"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]  # fmt: skip
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in results]
    assert len(api.defs(repo, "extra7")) == 1
    assert _rows(repo, "SELECT count(*), count(DISTINCT path) FROM files") == [(33, 33)]
    assert api.index_status(repo) == "fresh"


def test_index_directory_is_ignored_by_git(repo: Path) -> None:
    assert (repo / ".lynkr" / ".gitignore").read_text().endswith("*\n")
    assert git(repo, "status", "--porcelain") == ""


def test_missing_grammar_is_a_warning_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lynkr_cli.index import languages

    # A language whose grammar wheel is not installed (no such wheel exists).
    spec = languages.LangSpec("zig", "tree_sitter_zig_not_installed", "tree-sitter-zig")
    monkeypatch.setitem(languages.PARSED, "zig", spec)
    monkeypatch.setitem(languages.EXTENSIONS, ".zig", "zig")
    root = make_repo(tmp_path / "r", {"main.zig": "pub fn main() void {}\n", "a.py": "x = 1\n"})
    report = api.build(root)
    assert report.warnings == [
        "no grammar for zig: install the tree-sitter-zig package (pip install tree-sitter-zig); "
        "its files are counted but not parsed"
    ]
    assert report.stats["languages"]["zig"]["files"] == 1
    assert report.problems == {}


def test_run_with_nothing_to_do_never_imports_tree_sitter(repo: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from lynkr_cli.index import service; "
        f"service.run({str(repo)!r}, claude='skip'); "
        "assert 'tree_sitter' not in sys.modules, 'tree_sitter was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)


def test_index_of_another_directory_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared.db"
    monkeypatch.setenv("LYNKR_INDEX_DB", str(shared))
    one = make_repo(tmp_path / "one", {"one.py": "def first():\n    pass\n"})
    two = make_repo(tmp_path / "two", {"two.py": "def second():\n    pass\n"})
    api.build(one)
    report = api.build(two)
    assert report.cold
    assert api.defs(two, "first") == [] and len(api.defs(two, "second")) == 1


def test_unwritable_index_location_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invoke: object
) -> None:
    root = make_repo(tmp_path / "repo", {"x.py": "def x():\n    pass\n"})
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where a directory should be")
    monkeypatch.setenv("LYNKR_INDEX_DB", str(blocker / "index.db"))
    result = invoke("index", str(root), "--no-claude-md")  # type: ignore[operator]
    assert result.exit_code == 3  # a configuration problem: the index location
    assert "cannot write the index" in result.stderr and "LYNKR_INDEX_DB" in result.stderr


def _recount(root: Path) -> int:
    """Every reference linked afresh from the whole index (what `refs` would show)."""
    from lynkr_cli.index.links import Links, resolved_by_file

    conn = sqlite3.connect(api.index_path(root))
    links = Links.load(conn)
    rows = conn.execute("SELECT file_id, name, receiver, scope FROM refs").fetchall()
    conn.close()
    return sum(resolved_by_file(links, rows).values())


def test_resolved_counts_stay_true_through_edits(tmp_path: Path) -> None:
    """The per-file counts kept by cold and incremental runs equal a full recount."""
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "class Store:\n    def put(self):\n        return self.get()\n\n"
        "    def get(self):\n        return 1\n",
        "pkg/b.py": "from pkg.a import Store\n\n\ndef use():\n    return Store().put()\n",
        "pkg/c.py": "from pkg import a\n\n\ndef other():\n    return a.Store.get(None)\n",
    }
    root = make_repo(tmp_path / "repo", files)
    first = api.build(root).stats["resolved_references"]
    assert first == _recount(root) == 2  # self.get(), and Store() through its import
    # The class loses `get`: the reference naming it stops resolving.
    (root / "pkg/a.py").write_text("class Store:\n    def put(self):\n        return self.get()\n")
    bump_mtime(root / "pkg/a.py")
    assert api.build(root).stats["resolved_references"] == _recount(root) == 1
    (root / "pkg/b.py").unlink()  # a file gone: everything is recounted
    assert api.build(root).stats["resolved_references"] == _recount(root) == 0
    full = api.build(root, full=True).stats["resolved_references"]
    assert full == _recount(root)


def test_a_changed_import_recounts_the_files_using_its_name(tmp_path: Path) -> None:
    """Only a package's re-export changes: the file using the name elsewhere is recounted."""
    files = {
        "pkg/__init__.py": "from pkg.impl import run\n",
        "pkg/impl.py": "def run():\n    return 1\n",
        "app.py": "from pkg import run\n\n\ndef main():\n    return run()\n",
    }
    root = make_repo(tmp_path / "repo", files)
    assert api.build(root).stats["resolved_references"] == _recount(root) == 1
    (root / "pkg/__init__.py").write_text("")  # the re-export is gone
    bump_mtime(root / "pkg/__init__.py")
    report = api.build(root)
    assert report.parsed == 1
    assert report.stats["resolved_references"] == _recount(root) == 0
