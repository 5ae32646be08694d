"""status, diff, log, branches on real repositories, and the read-side errors."""

from __future__ import annotations

import json
from pathlib import Path

from lynkr_cli.errors import ExitCode
from lynkr_cli.git.api import open_repo

from .conftest import git


def test_status_lists_every_kind_of_change(repos, run_json):
    repos.write("README.md", "changed\n")
    repos.write("new.txt", "new\n")
    repos.write("staged.py", "x = 1\n")
    git(repos.work, "add", "staged.py")
    doc = run_json("git", "status")
    assert doc["branch"] == "main"
    assert doc["upstream"] == "origin/main"
    assert doc["staged"] == [{"path": "staged.py", "kind": "A", "orig_path": None}]
    assert doc["unstaged"] == [{"path": "README.md", "kind": "M", "orig_path": None}]
    assert doc["untracked"] == ["new.txt"]
    assert doc["clean"] is False and doc["detached"] is False


def test_status_human_output(repos, invoke):
    repos.write("new.txt", "x\n")
    result = invoke("git", "status")
    assert result.exit_code == 0
    assert "On branch main" in result.stdout
    assert "new.txt" in result.stdout


def test_status_reports_renames_and_ahead(repos, run_json):
    git(repos.work, "mv", "README.md", "DOCS.md")
    git(repos.work, "commit", "-q", "-m", "docs: rename")
    doc = run_json("git", "status")
    assert doc["ahead"] == 1 and doc["behind"] == 0
    assert doc["clean"] is True


def test_diff_unstaged_staged_and_paths(repos, run_json):
    repos.write("README.md", "hello\nworld\n")
    repos.write("b.txt", "b\n")
    git(repos.work, "add", "b.txt")
    unstaged = run_json("git", "diff")
    assert [f["path"] for f in unstaged["files"]] == ["README.md"]
    assert "+world" in unstaged["patch"]
    staged = run_json("git", "diff", "--staged")
    assert [f["path"] for f in staged["files"]] == ["b.txt"]
    assert staged["added"] == 1
    limited = run_json("git", "diff", "--staged", "README.md")
    assert limited["files"] == []


def test_diff_human_output_goes_to_stdout(repos, invoke):
    repos.write("README.md", "hello\nworld\n")
    result = invoke("git", "diff")
    assert result.exit_code == 0
    assert "+world" in result.stdout
    assert "1 file, +1 -0" in result.stderr


def test_log_and_range(repos, run_json):
    first = git(repos.work, "rev-parse", "HEAD").strip()
    repos.write("a.txt", "a\n")
    repos.commit_all("feat: a")
    commits = run_json("git", "log")
    assert [c["subject"] for c in commits] == ["feat: a", "chore: start"]
    assert commits[0]["author"] == "Ada Lovelace"
    ranged = run_json("git", "log", f"{first}..HEAD")
    assert [c["subject"] for c in ranged] == ["feat: a"]
    assert len(run_json("git", "log", "-n", "1")) == 1


def test_log_empty_range_has_its_own_exit_code(repos, invoke):
    result = invoke("git", "log", "HEAD..HEAD")
    assert result.exit_code == ExitCode.GIT_EMPTY_RANGE
    assert "contains no commits" in result.stderr


def test_log_unknown_revision_is_a_usage_error(repos, invoke):
    result = invoke("git", "log", "no-such-ref..HEAD")
    assert result.exit_code == ExitCode.USAGE
    assert "does not name a commit" in result.stderr


def test_branches(repos, run_json, invoke):
    git(repos.work, "branch", "feature")
    doc = run_json("git", "branches")
    names = {b["name"]: b for b in doc}
    assert names["main"]["current"] is True and names["main"]["upstream"] == "origin/main"
    assert names["feature"]["current"] is False
    assert names["origin/main"]["remote"] is True
    assert "feature" in invoke("git", "branches").stdout


def test_not_a_repo(tmp_path: Path, monkeypatch, invoke):
    monkeypatch.chdir(tmp_path)
    result = invoke("git", "status")
    assert result.exit_code == ExitCode.GIT_NOT_A_REPO
    assert "not inside a git working tree" in result.stderr
    assert "git init" in result.stderr  # the fix
    assert result.stdout == ""


def test_not_a_repo_with_json_prints_the_error_document(tmp_path: Path, monkeypatch, invoke):
    monkeypatch.chdir(tmp_path)
    result = invoke("git", "log", "--json")
    assert result.exit_code == ExitCode.GIT_NOT_A_REPO
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["exit"]) == ("git_not_a_repo", 10)


def test_repo_option_runs_elsewhere(repos, tmp_path, monkeypatch, invoke):
    monkeypatch.chdir(tmp_path)
    result = invoke("git", "-C", str(repos.work), "status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["branch"] == "main"


def test_detached_head(repos, run_json, invoke):
    git(repos.work, "checkout", "-q", "--detach")
    assert run_json("git", "status")["detached"] is True
    repos.write("x.txt", "x\n")
    git(repos.work, "add", "x.txt")
    result = invoke("git", "commit", "-m", "feat: x")
    assert result.exit_code == ExitCode.GIT_DETACHED_HEAD
    assert "git switch -c" in result.stderr


def test_fresh_repository_without_commits(tmp_path: Path, monkeypatch, run_json, invoke):
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("a\n")
    doc = run_json("git", "status")
    assert doc["head"] is None and doc["untracked"] == ["a.txt"]
    assert invoke("git", "log").exit_code == ExitCode.GIT_EMPTY_RANGE
    run_json("git", "stage", "a.txt")
    doc = run_json("git", "unstage", "a.txt")
    assert doc["staged"] == [] and doc["untracked"] == ["a.txt"]


def test_api_returns_dataclasses(repos):
    repo = open_repo(repos.work)
    status = repo.status()
    assert status.branch == "main" and status.clean
    assert repo.log()[0].subject == "chore: start"
    assert repo.status().to_dict()["clean"] is True


def test_paths_are_relative_to_where_the_repo_was_opened(repos, monkeypatch, run_json, invoke):
    repos.write("src/pkg/mod.py", "x = 1\n")
    repos.write("mod.py", "top\n")
    monkeypatch.chdir(repos.work / "src")
    doc = run_json("git", "stage", "pkg/mod.py")
    assert [c["path"] for c in doc["staged"]] == ["src/pkg/mod.py"]
    diff = run_json("git", "diff", "--staged", "pkg")
    assert [f["path"] for f in diff["files"]] == ["src/pkg/mod.py"]
    assert run_json("git", "unstage", "pkg/mod.py")["staged"] == []
    outside = invoke("git", "stage", "../../elsewhere.txt")
    assert outside.exit_code == ExitCode.USAGE
    assert "outside the repository" in outside.stderr


def test_human_output_treats_subjects_and_names_as_text(repos, invoke):
    repos.write("[b]x[/b].txt", "x\n")
    repos.commit_all("[/] [WIP] fix [bold]x")
    log = invoke("git", "log")
    assert log.exit_code == 0, log.stderr
    assert "[/] [WIP] fix [bold]x" in log.stdout
    assert "[/] [WIP]" in invoke("git", "branches").stdout  # the subject column
    repos.write("[b]x[/b].txt", "y\n")
    review = invoke("git", "review")
    assert review.exit_code == 0 and "[b]x[/b].txt" in review.stdout
    assert invoke("git", "status").exit_code == 0
