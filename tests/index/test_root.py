"""Every index command finds the repository root from a subdirectory, as git does.

Real git repositories and real ``lynkr`` processes (the console script's entry point,
fast path included) run from subdirectories: one index, at the root, and no CLAUDE.md
or ``.lynkr/`` in the subfolder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lynkr_cli.index.root import find_root
from tests.index.helpers import git, make_repo
from tests.index.test_fastpath import lynkr, masked

FILES: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/serve/app.py": "class Repo:\n    def open(self):\n        return 1\n",
    "pkg/serve/deep/more.py": "from pkg.serve.app import Repo\n\n\ndef use():\n"
    "    return Repo().open()\n",
    "top.py": "def repository_root():\n    return '.'\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", dict(FILES))


def test_find_root_in_git_and_by_index_folder(repo: Path, tmp_path: Path) -> None:
    assert find_root(repo / "pkg" / "serve" / "deep") == repo
    assert find_root(repo) == repo
    plain = tmp_path / "plain"
    (plain / "a" / "b").mkdir(parents=True)
    assert find_root(plain / "a" / "b") == plain / "a" / "b"  # nothing found: as given
    (plain / ".lynkr").mkdir()
    assert find_root(plain / "a" / "b") == plain
    assert find_root(tmp_path / "missing") == tmp_path / "missing"  # reported by the caller


def test_a_worktree_is_its_own_root(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "side", str(other))
    assert (other / ".git").is_file()
    assert find_root(other / "pkg" / "serve") == other


def test_git_dir_in_the_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo))
    assert find_root(repo / "pkg" / "serve") == repo


def test_index_from_a_subdirectory_builds_the_root(repo: Path) -> None:
    sub = repo / "pkg" / "serve"
    first = lynkr("index", "--json", cwd=sub)
    assert first.code == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["root"] == str(repo) and doc["files"] == 4
    assert (repo / "CLAUDE.md").is_file() and (repo / ".lynkr" / "index.db").is_file()
    assert not (sub / "CLAUDE.md").exists() and not (sub / ".lynkr").exists()
    # The second run, from deeper still, is the fast path's: same root, nothing to do.
    again = lynkr("index", "--json", cwd=sub / "deep")
    assert again.fast and json.loads(again.stdout)["root"] == str(repo)
    full = lynkr("index", "--json", cwd=sub / "deep", full=True)
    assert masked(full.stdout) == masked(again.stdout)
    dot = lynkr("index", ".", cwd=sub)
    assert dot.code == 0 and "up to date" in dot.stdout
    assert not (sub / "CLAUDE.md").exists()


def test_lookups_from_a_subdirectory(repo: Path) -> None:
    sub = repo / "pkg" / "serve"
    found = lynkr("index", "search", "Repo", "--json", cwd=sub)
    assert found.code == 0, found.stderr
    assert {r["path"] for r in json.loads(found.stdout)} >= {"pkg/serve/app.py"}
    assert not (sub / ".lynkr").exists() and (repo / ".lynkr" / "index.db").is_file()
    for args in (["defs", "Repo"], ["refs", "Repo"], ["map"], ["stats"]):
        run = lynkr("index", *args, "--json", cwd=sub / "deep")
        assert run.code == 0, (args, run.stderr)
    stats = json.loads(lynkr("index", "stats", "--json", cwd=sub).stdout)
    assert stats["files"] == 4 and stats["db"] == str(repo / ".lynkr" / "index.db")
    assert not list(repo.rglob("CLAUDE.md"))  # lookups never write it


def test_root_option_overrides(repo: Path) -> None:
    sub = repo / "pkg" / "serve"
    fast = lynkr("index", "--root", str(sub), "--json", "--no-claude-md", cwd=repo)
    assert fast.code == 0, fast.stderr
    assert json.loads(fast.stdout)["files"] == 2
    assert (sub / ".lynkr" / "index.db").is_file()
    again = lynkr("index", "-C", str(sub), "--json", "--no-claude-md", cwd=repo)
    full = lynkr("index", f"--root={sub}", "--json", "--no-claude-md", cwd=repo, full=True)
    assert again.fast and masked(again.stdout) == masked(full.stdout)
    # Lookups with --root read that index; without, the repository's (built on first use).
    only = lynkr("index", "defs", "repository_root", "-C", str(sub), "--json", cwd=repo)
    assert only.code == 6
    whole = lynkr("index", "defs", "repository_root", "--json", cwd=sub)
    assert whole.code == 0 and json.loads(whole.stdout)[0]["path"] == "top.py"


def test_outside_git_the_nearest_index_folder(tmp_path: Path) -> None:
    tree = make_repo(tmp_path / "tree", dict(FILES), use_git=False)
    built = lynkr("index", "--json", "--no-claude-md", cwd=tree)
    assert built.code == 0 and json.loads(built.stdout)["files"] == 4
    run = lynkr("index", "--json", "--no-claude-md", cwd=tree / "pkg" / "serve")
    assert json.loads(run.stdout)["root"] == str(tree) and run.fast


def test_console_script_from_a_subdirectory(repo: Path) -> None:
    """The installed ``lynkr`` script, as a user runs it."""
    script = Path(sys.executable).with_name("lynkr")
    if not script.is_file():
        pytest.skip(f"no console script beside {sys.executable}")
    proc = subprocess.run(
        [str(script), "index", "refs", "open", "--json"],
        cwd=repo / "pkg" / "serve" / "deep", capture_output=True, text=True, timeout=120,
        env=dict(os.environ), check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r["path"] for r in json.loads(proc.stdout)] == ["pkg/serve/deep/more.py"]
