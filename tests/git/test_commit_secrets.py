"""`lynkr git commit` refuses a staged secret (exit 5), naming file:line and kind, never the
value; POLICY_GIT_BLOCK_SECRETS turns the check off and `--allow-secret FILE:LINE` lifts
one finding. Real git repositories; the index and the history are untouched on refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lynkr_cli.errors import ExitCode, PolicyError
from lynkr_cli.git.api import GitPolicy, open_repo

from .conftest import Repos, git

AWS = "AKIA" + "Q3EGRSPW7JZ2XK4N"  # split so this file holds no detectable key
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


@pytest.fixture
def staged_secret(repos: Repos) -> Repos:
    repos.write("app/settings.py", f"DEBUG = True\nAWS_KEY = '{AWS}'\n")
    repos.write("notes.md", "nothing to see\n")
    git(repos.work, "add", "--all")
    return repos


def _head(repos: Repos) -> str:
    return git(repos.work, "rev-parse", "HEAD").strip()


def test_a_staged_secret_refuses_the_commit(staged_secret: Repos, invoke: Any) -> None:
    before = _head(staged_secret)
    staged = git(staged_secret.work, "diff", "--cached", "--name-only")
    result = invoke("git", "commit", "-m", "feat: settings")
    assert result.exit_code == ExitCode.POLICY
    assert "app/settings.py:2 (AWS access key id)" in result.stderr
    assert "--allow-secret app/settings.py:2" in result.stderr  # the fix
    assert AWS not in result.stdout + result.stderr  # never the value
    assert _head(staged_secret) == before
    assert git(staged_secret.work, "diff", "--cached", "--name-only") == staged


def test_json_names_the_finding_not_the_value(staged_secret: Repos, invoke: Any) -> None:
    result = invoke("git", "commit", "-m", "feat: settings", "--json")
    assert result.exit_code == ExitCode.POLICY
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "policy" and "app/settings.py:2" in error["message"]
    assert AWS not in result.stdout


def test_allow_secret_lifts_exactly_that_finding(staged_secret: Repos, invoke: Any) -> None:
    staged_secret.write("deploy.env", f"GITHUB_TOKEN={GITHUB}\n")
    git(staged_secret.work, "add", "deploy.env")
    partly = invoke("git", "commit", "-m", "feat: x", "--allow-secret", "app/settings.py:2")
    assert partly.exit_code == ExitCode.POLICY
    assert "deploy.env:1 (GitHub token)" in partly.stderr
    assert "app/settings.py" not in partly.stderr.split("hint:")[0]
    result = invoke(
        "git", "commit", "-m", "feat: x",
        "--allow-secret", "app/settings.py:2", "--allow-secret", "./deploy.env:1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["subject"] == "feat: x"


def test_policy_off_commits(
    staged_secret: Repos, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICY_GIT_BLOCK_SECRETS", "false")
    result = invoke("git", "commit", "-m", "feat: settings")
    assert result.exit_code == 0, result.stderr
    assert "1 file changed" not in result.stdout  # two files: the plural is right
    assert "2 files changed" in result.stdout


def test_git_policy_shows_the_guard(invoke: Any, repos: Repos) -> None:
    rows = {r["setting"]: r for r in json.loads(invoke("git", "policy", "--json").stdout)}
    guard = rows["policy.git_block_secrets"]
    assert (guard["env"], guard["value"], guard["source"]) == (
        "POLICY_GIT_BLOCK_SECRETS",
        True,
        "default",
    )


def test_only_staged_lines_count(repos: Repos, invoke: Any) -> None:
    """A secret in an unstaged edit is not part of the commit, so it does not block it."""
    repos.write("a.py", "x = 1\n")
    git(repos.work, "add", "a.py")
    repos.write("b.py", f"KEY = '{AWS}'\n")  # untracked, not staged
    result = invoke("git", "commit", "-m", "feat: a")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("bad", ["settings.py", "settings.py:x", ":3"])
def test_a_malformed_allow_secret_is_a_usage_error(
    staged_secret: Repos, invoke: Any, bad: str
) -> None:
    result = invoke("git", "commit", "-m", "feat: x", "--allow-secret", bad)
    assert result.exit_code == ExitCode.USAGE
    assert "FILE:LINE" in result.stderr


def test_the_api_and_gateway_path_refuse_too(staged_secret: Repos) -> None:
    repo = open_repo(staged_secret.work, policy=GitPolicy())
    with pytest.raises(PolicyError) as caught:
        repo.commit("feat: settings")
    assert caught.value.exit_code == ExitCode.POLICY
    allowed = repo.commit("feat: settings", allow_secrets=["app/settings.py:2"])
    assert allowed.subject == "feat: settings"
