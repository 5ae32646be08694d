"""Names that look like options never reach git as options."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr_cli.errors import ExitCode, UsageError
from lynkr_cli.git.api import GitPolicy, open_repo

from .conftest import git

PAYLOADS = ["--upload-pack=touch {marker}", "--exec=touch {marker}", "-o{marker}"]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture
def allow_everything(monkeypatch):
    for name in ("PUSH", "FORCE_PUSH", "PROTECTED_PUSH"):
        monkeypatch.setenv(f"POLICY_GIT_ALLOW_{name}", "true")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_push_branch_named_like_an_option(repos, invoke, marker, allow_everything, payload):
    evil = payload.format(marker=marker)
    # Click refuses it as an unknown option; after "--" it reaches lynkr, which refuses it.
    assert invoke("git", "push", "origin", evil).exit_code == ExitCode.USAGE
    result = invoke("git", "push", "--", "origin", evil)
    assert result.exit_code == ExitCode.USAGE
    assert "could be read as a git option" in result.stderr
    assert not marker.exists()


def test_push_remote_named_like_an_option(repos, invoke, marker, allow_everything):
    result = invoke("git", "push", "--", f"--receive-pack=touch {marker}", "main")
    assert result.exit_code == ExitCode.USAGE
    assert not marker.exists()


def test_push_to_a_url_instead_of_a_remote_is_refused(repos, invoke, marker, allow_everything):
    result = invoke("git", "push", f"ext::sh -c touch% {marker}", "main")
    assert result.exit_code == ExitCode.GIT_NO_UPSTREAM
    assert "not a configured remote" in result.stderr
    assert not marker.exists()


def test_api_push_refuses_option_branch(repos, marker):
    repo = open_repo(repos.work, policy=GitPolicy(allow_push=True, allow_protected_push=True))
    with pytest.raises(UsageError):
        repo.push("origin", f"--upload-pack=touch {marker}")
    assert not marker.exists()


@pytest.mark.parametrize("command", ["log", "review", "release-notes"])
def test_ranges_named_like_options(repos, invoke, marker, command):
    for text in (f"--output={marker}", f"HEAD..--output={marker}", f"--output={marker}..HEAD"):
        result = invoke("git", command, "--", text)
        assert result.exit_code == ExitCode.USAGE, (command, text, result.stderr)
    assert not marker.exists()


def test_path_dash_rf_via_api_and_after_double_dash(repos, run_json, invoke):
    (repos.work / "-rf").write_text("just a file\n")
    (repos.work / "keep.txt").write_text("keep\n")
    doc = run_json("git", "stage", "--", "-rf")
    assert [c["path"] for c in doc["staged"]] == ["-rf"]
    assert (repos.work / "keep.txt").exists()
    diff = run_json("git", "diff", "--staged", "--", "-rf")
    assert [f["path"] for f in diff["files"]] == ["-rf"]
    doc = run_json("git", "unstage", "--", "-rf")
    assert doc["staged"] == []
    repo = open_repo(repos.work)
    status = repo.stage(["-rf"])
    assert [c.path for c in status.staged] == ["-rf"]


def test_pathspec_magic_is_literal(repos, run_json):
    (repos.work / "a.txt").write_text("a\n")
    result = run_json("git", "diff", "--", ":(glob)*.txt")
    assert result["files"] == []  # no file is literally named ":(glob)*.txt"


def test_glob_is_not_expanded_by_git(repos, invoke):
    (repos.work / "a.txt").write_text("a\n")
    result = invoke("git", "stage", "--", "*.txt")
    assert result.exit_code == ExitCode.GIT_FAILED  # no file named "*.txt"
    assert git(repos.work, "diff", "--cached", "--name-only") == ""


@pytest.mark.parametrize("call", ["diff", "log", "review", "release_notes"])
def test_api_ranges_named_like_options(repos, marker, call):
    repo = open_repo(repos.work)
    evil = f"--output={marker}"
    with pytest.raises(UsageError):
        if call == "diff":
            repo.diff(rev_range=evil)
        else:
            getattr(repo, call)(evil)
    assert not marker.exists()


def test_api_paths_named_like_options_are_paths(repos, marker):
    repo = open_repo(repos.work)
    diff = repo.diff(paths=[f"--output={marker}"])
    assert diff.files == [] and not marker.exists()
