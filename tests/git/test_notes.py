"""`lynkr git release-notes`: golden files for Markdown and JSON, ranges, PRs, authors."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from lynkr_cli.errors import ExitCode

from .conftest import git

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, actual: str) -> None:
    """Compare with golden/NAME; LYNKR_UPDATE_GOLDEN=1 rewrites it. Fails with a diff."""
    path = GOLDEN / name
    if os.environ.get("LYNKR_UPDATE_GOLDEN") == "1":
        path.write_text(actual)
    expected = path.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"golden/{name}",
                "actual",
            )
        )
        pytest.fail(f"{name} differs from its golden file:\n{diff}", pytrace=False)


class History:
    """Commits with fixed dates and authors, so object ids are the same on every run."""

    def __init__(self, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.work = work
        self.monkeypatch = monkeypatch
        self.tick = 0

    def _stamp(self, author: str) -> None:
        self.tick += 1
        date = f"2026-01-{self.tick:02d}T12:00:00+00:00"
        email = author.split(maxsplit=1)[0].lower() + "@example.com"
        for role in ("AUTHOR", "COMMITTER"):
            self.monkeypatch.setenv(f"GIT_{role}_DATE", date)
            self.monkeypatch.setenv(f"GIT_{role}_NAME", author)
            self.monkeypatch.setenv(f"GIT_{role}_EMAIL", email)

    def commit(self, message: str, author: str = "Ada Lovelace") -> None:
        self._stamp(author)
        (self.work / f"file{self.tick}.txt").write_text(f"{self.tick}\n")
        git(self.work, "add", "--all")
        git(self.work, "commit", "-q", "-m", message)

    def merge(self, branch: str, *messages: str, author: str = "Ada Lovelace") -> None:
        self._stamp(author)
        args = [arg for m in messages for arg in ("-m", m)]
        git(self.work, "merge", "-q", "--no-ff", *args, branch)


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> History:
    work = tmp_path / "proj"
    git(tmp_path, "init", "-q", str(work))
    monkeypatch.chdir(work)
    h = History(work, monkeypatch)
    h.commit("chore: initial import")
    git(work, "tag", "v1.0.0")
    h.commit("feat(api): add a streaming endpoint (#12)")
    h.commit("fix: handle an empty request body", author="Grace Hopper")
    git(work, "switch", "-q", "-c", "drop-310")
    h.commit("feat!: require Python 3.11\n\nBREAKING CHANGE: Python 3.10 is no longer supported")
    h.commit("test: cover the new minimum", author="Margaret Hamilton")
    git(work, "switch", "-q", "main")
    h.commit("perf(cache): hash keys once (#15)", author="Grace Hopper")
    h.merge("drop-310", "Merge pull request #20 from ada/drop-310", "feat!: require Python 3.11")
    git(work, "switch", "-q", "-c", "hotfix")
    h.commit("fix(cli): exit 2 on a bad flag", author="Linus Torvalds")
    git(work, "switch", "-q", "main")
    h.merge("hotfix", "Merge branch 'hotfix'")
    h.commit("docs: explain the setup")
    h.commit(
        "refactor(core)!: rename the settings module\n\n"
        "Long body.\n\nBREAKING CHANGE: import lynkr.settings instead",
        author="Grace Hopper",
    )
    h.commit("Update README wording")
    return h


def test_markdown_golden(history, invoke):
    result = invoke("git", "release-notes")
    assert result.exit_code == 0, result.stderr
    assert_golden("release-notes.md", result.stdout)


def test_json_golden(history, invoke):
    result = invoke("git", "release-notes", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["count"] == 8 and doc["base"] == "v1.0.0"
    assert_golden("release-notes.json", result.stdout)


def test_pull_request_merge_stands_for_its_commits(history, run_json):
    doc = run_json("git", "release-notes")
    breaking = doc["sections"]["breaking"]
    pr = next(e for e in breaking if e["pr"] == 20)
    assert pr["description"] == "require Python 3.11"
    subjects = [e["description"] for entries in doc["sections"].values() for e in entries]
    assert "cover the new minimum" not in subjects  # inside PR #20
    assert "exit 2 on a bad flag" in subjects  # brought in by a non-PR merge
    assert pr["author"] == "Margaret Hamilton"  # the PR's author, not who merged it
    assert doc["authors"] == ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Margaret Hamilton"]


def test_explicit_ranges(history, run_json):
    whole = run_json("git", "release-notes", "v1.0.0~0..HEAD~1")
    assert whole["count"] == 7
    since = run_json("git", "release-notes", "v1.0.0")  # FROM means FROM..HEAD
    assert since["count"] == 8


def test_without_tags_covers_all_history(history, run_json, invoke):
    git(history.work, "tag", "-d", "v1.0.0")
    doc = run_json("git", "release-notes")
    assert doc["count"] == 9 and doc["base"] is None
    assert "(all history)" in invoke("git", "release-notes").stdout


def test_head_just_tagged_gives_the_notes_of_that_release(history, run_json):
    git(history.work, "tag", "v2.0.0")
    doc = run_json("git", "release-notes")
    assert doc["range"] == "v1.0.0..v2.0.0" and doc["count"] == 8


def test_empty_range(history, invoke):
    result = invoke("git", "release-notes", "HEAD..HEAD")
    assert result.exit_code == ExitCode.GIT_EMPTY_RANGE
    assert "HEAD..HEAD" in result.stderr


def test_llm_without_provider_prints_the_plain_notes(history, invoke):
    result = invoke("git", "release-notes", "--llm")
    assert result.exit_code == 0
    assert "provider" in result.stderr
    assert result.stdout.startswith("# Release notes: v1.0.0..HEAD")
