"""`lynkr git review`: facts, risk score with reasons, secrets by location only."""

from __future__ import annotations

import json
import os

import pytest

from lynkr_cli.errors import ExitCode

from .conftest import git

TOKEN = "ghp_" + "Zq7xK2mP9vL4tR8wY3nB6cJ1hF5gD0sAabcd"


def _reason(doc, text):
    return [r for r in doc["reasons"] if text in r["reason"]]


def test_sensitive_paths_without_tests(repos, run_json):
    repos.write("src/auth/login.py", "def login():\n    return True\n")
    repos.write("db/migrations/0001_init.sql", "create table t (id int);\n")
    repos.write(".github/workflows/ci.yml", "on: push\n")
    repos.write("package.json", "{}\n")
    repos.write("package-lock.json", "{}\n")
    git(repos.work, "add", "--all")
    doc = run_json("git", "review", "--staged")
    assert doc["source"] == "staged"
    categories = {f["path"]: f["categories"] for f in doc["files"]}
    assert categories["src/auth/login.py"] == ["auth"]
    assert categories["db/migrations/0001_init.sql"] == ["migrations"]
    assert categories[".github/workflows/ci.yml"] == ["CI"]
    assert categories["package.json"] == ["dependency manifest"]
    assert categories["package-lock.json"] == ["lock file"]
    assert _reason(doc, "source changed without tests: src/auth/login.py")
    # auth 15 + migrations 15 + CI 10 + manifest 10 + lock 5 + no tests 15
    assert doc["score"] == 70 and doc["level"] == "high"
    assert sum(r["points"] for r in doc["reasons"]) == 70


def test_source_with_tests_is_not_flagged(repos, run_json):
    repos.write("src/util.py", "def helper():\n    return 1\n")
    repos.write("tests/test_util.py", "def test_helper():\n    assert True\n")
    git(repos.work, "add", "--all")
    doc = run_json("git", "review", "--staged")
    assert not _reason(doc, "without tests")
    assert {f["path"]: f["test"] for f in doc["files"]}["tests/test_util.py"] is True
    assert doc["score"] == 0 and doc["level"] == "low"


def test_secrets_are_located_never_echoed(repos, invoke):
    repos.write("config.py", "DEBUG = True\nGITHUB = '" + TOKEN + "'\n")
    for args in (("git", "review"), ("git", "review", "--json")):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        assert TOKEN not in result.stdout and TOKEN not in result.stderr
        assert "config.py" in result.stdout
    doc = json.loads(invoke("git", "review", "--json").stdout)
    assert doc["secrets"] == [{"path": "config.py", "line": 2, "kind": "GitHub token"}]
    assert _reason(doc, "possible secrets: config.py:2 GitHub token")[0]["points"] == 40
    assert "config.py:2 GitHub token" in invoke("git", "review").stdout


def test_only_added_lines_are_scanned(repos, run_json):
    repos.write("old.py", "KEY = '" + TOKEN + "'\n")
    repos.commit_all("chore: old secret")
    (repos.work / "old.py").write_text("KEY = None\n")
    doc = run_json("git", "review")
    assert doc["secrets"] == []


def test_deleted_public_symbols(repos, run_json):
    repos.write(
        "lib/api.py",
        "def public_api():\n    pass\n\n\ndef _private():\n    pass\n\n\ndef moved():\n    pass\n",
    )
    repos.write("lib/web.ts", "export function render() {}\nexport const VERSION = 1\n")
    repos.commit_all("feat: api")
    (repos.work / "lib/api.py").write_text("")
    (repos.work / "lib/web.ts").write_text("export const VERSION = 2\n")
    repos.write("lib/other.py", "def moved():\n    pass\n")
    git(repos.work, "add", "--all")
    doc = run_json("git", "review", "--staged")
    names = sorted(s["name"] for s in doc["deleted_symbols"])
    assert names == ["public_api", "render"]  # _private is private, moved was re-added
    assert doc["symbols_from"] in ("diff", "index")
    assert _reason(doc, "deleted public symbols")[0]["points"] == 16


def test_binary_and_large_changes(repos, run_json):
    repos.write("big.txt", "".join(f"line {i}\n" for i in range(600)))
    (repos.work / "logo.png").write_bytes(bytes(range(256)) * 4)
    git(repos.work, "add", "--all")
    doc = run_json("git", "review", "--staged")
    files = {f["path"]: f for f in doc["files"]}
    assert files["logo.png"]["binary"] is True and files["logo.png"]["change"] == "added"
    assert _reason(doc, "binary files: logo.png")[0]["points"] == 5
    assert _reason(doc, "large change: 600 lines")[0]["points"] == 20


def test_range_and_single_revision(repos, run_json, invoke):
    start = git(repos.work, "rev-parse", "HEAD").strip()
    repos.write("a.py", "def a():\n    pass\n")
    repos.commit_all("feat: a")
    repos.write("b.py", "def b():\n    pass\n")
    repos.commit_all("feat: b")
    ranged = run_json("git", "review", "HEAD~1..HEAD")
    assert [f["path"] for f in ranged["files"]] == ["b.py"]
    since = run_json("git", "review", start)  # REV means REV..HEAD
    assert sorted(f["path"] for f in since["files"]) == ["a.py", "b.py"]
    empty = invoke("git", "review", "HEAD..HEAD")
    assert empty.exit_code == ExitCode.GIT_EMPTY_RANGE


def test_rename_is_reported_once(repos, run_json):
    git(repos.work, "mv", "README.md", "GUIDE.md")
    doc = run_json("git", "review", "--staged")
    assert doc["files"] == [
        {
            "path": "GUIDE.md",
            "change": "renamed",
            "added": 0,
            "deleted": 0,
            "binary": False,
            "test": False,
            "categories": [],
            "orig_path": "README.md",
        }
    ]


def test_no_changes(repos, invoke, run_json):
    assert "no changes to review" in invoke("git", "review").stdout
    assert run_json("git", "review")["files"] == []


def test_llm_without_provider_still_prints_the_report(repos, invoke):
    repos.write("config.py", "GITHUB = '" + TOKEN + "'\n")
    result = invoke("git", "review", "--llm")
    assert result.exit_code == 0
    assert "no" in result.stderr and "provider" in result.stderr
    assert "LYNKR_PROVIDER" in result.stderr
    assert "risk 55/100" in result.stdout
    as_json = invoke("git", "review", "--llm", "--json")
    doc = json.loads(as_json.stdout)
    assert doc["llm"]["error"].startswith("--llm needs a model provider")
    assert doc["score"] == 55


def test_uncommitted_review_includes_untracked_files_without_touching_the_index(repos, run_json):
    repos.write("README.md", "hello\nchanged\n")
    repos.write("staged.py", "x = 1\n")
    git(repos.work, "add", "staged.py")
    repos.write("untracked.py", "y = 2\n")
    index = repos.work / ".git" / "index"
    before = index.read_bytes(), git(repos.work, "status", "--porcelain")
    doc = run_json("git", "review")
    assert sorted(f["path"] for f in doc["files"]) == ["README.md", "staged.py", "untracked.py"]
    assert (index.read_bytes(), git(repos.work, "status", "--porcelain")) == before


def test_deleted_symbols_checked_against_the_index(repos, run_json):
    from lynkr_cli.index import api as index_api

    repos.write("lib/a.py", "def shared():\n    pass\n\n\ndef only_here():\n    pass\n")
    repos.write("lib/b.py", "def shared():\n    pass\n")
    repos.commit_all("feat: lib")
    (repos.work / "lib/a.py").write_text("")
    git(repos.work, "add", "--all")
    without = run_json("git", "review", "--staged")
    assert without["symbols_from"] == "diff"
    assert sorted(s["name"] for s in without["deleted_symbols"]) == ["only_here", "shared"]
    index_api.ensure_index(repos.work)
    with_index = run_json("git", "review", "--staged")
    assert with_index["symbols_from"] == "index"
    # lib/b.py still defines shared(): only only_here() is really gone.
    assert [s["name"] for s in with_index["deleted_symbols"]] == ["only_here"]


def test_range_and_staged_together_is_a_usage_error(repos, invoke):
    result = invoke("git", "review", "HEAD~0..HEAD", "--staged")
    assert result.exit_code == ExitCode.USAGE


def test_same_size_edit_right_after_a_commit_is_seen(repos, run_json):
    # Same size, same second as the index write: only git's racy-clean check catches it,
    # which needs the scratch index to keep the real index's mtime.
    for n in range(3):
        repos.write(f"f{n}.txt", "aaaa\n")
        repos.commit_all(f"chore: f{n}")
        repos.write(f"f{n}.txt", "bbbb\n")
        doc = run_json("git", "review")
        assert [f["path"] for f in doc["files"]] == [f"f{n}.txt"]
        git(repos.work, "checkout", "--", f"f{n}.txt")


def test_unusual_file_names(repos, run_json):
    names = ["ünï côde.py", "tab\there.py", 'quote"d.py']
    for name in names:
        (repos.work / name).write_text("GITHUB = '" + TOKEN + "'\n")
    doc = run_json("git", "review")
    assert sorted(f["path"] for f in doc["files"]) == sorted(names)
    assert sorted(s["path"] for s in doc["secrets"]) == sorted(names)
    status = run_json("git", "status")
    assert sorted(status["untracked"]) == sorted(names)


def test_unusual_file_names_deleted(repos, run_json):
    names = ["ünï côde.py", "tab\there.py", 'quote"d.py']
    for name in names:
        (repos.work / name).write_text("def api():\n    pass\n")
    repos.commit_all("feat: files")
    for name in names:
        (repos.work / name).unlink()
    doc = run_json("git", "review")
    assert {f["path"]: f["change"] for f in doc["files"]} == dict.fromkeys(names, "deleted")
    assert sorted(s["path"] for s in doc["deleted_symbols"]) == sorted(names)


@pytest.mark.parametrize("prefix", ["noprefix", "mnemonicPrefix"])
def test_a_users_git_config_cannot_change_what_lynkr_parses(repos, run_json, prefix):
    config = os.environ["GIT_CONFIG_GLOBAL"]
    with open(config, "a") as fh:
        fh.write(
            f"[diff]\n\t{prefix} = true\n\texternal = false\n"
            "[color]\n\tui = always\n[core]\n\tpager = false\n"
            "[status]\n\tshowUntrackedFiles = no\n[log]\n\tshowSignature = true\n"
        )
    repos.write("README.md", "hello\nmore\n")
    repos.write("new.py", "GITHUB = '" + TOKEN + "'\n")
    doc = run_json("git", "review")
    assert sorted(f["path"] for f in doc["files"]) == ["README.md", "new.py"]
    assert [s["path"] for s in doc["secrets"]] == ["new.py"]
    assert run_json("git", "status")["untracked"] == ["new.py"]
    assert run_json("git", "log")[0]["subject"] == "chore: start"
    assert "+more" in run_json("git", "diff")["patch"]
