"""stage, unstage, commit, push and pull, with every guard allowed and refused."""

from __future__ import annotations

import json

import pytest

from lynkr_cli.errors import ExitCode

from .conftest import git


@pytest.fixture
def allow_push(monkeypatch):
    monkeypatch.setenv("POLICY_GIT_ALLOW_PUSH", "true")


def _feature(repos, name="feature"):
    git(repos.work, "switch", "-q", "-c", name)
    repos.write(f"{name}.txt", "work\n")
    repos.commit_all(f"feat: {name}")


def remote_head(repos, branch):
    return git(repos.remote, "rev-parse", "--verify", "--quiet", branch, check=False).strip()


# ------------------------------------------------------------------ stage / unstage


def test_stage_paths_and_all_then_unstage(repos, run_json, invoke):
    repos.write("a.txt", "a\n")
    repos.write("b.txt", "b\n")
    doc = run_json("git", "stage", "a.txt")
    assert [c["path"] for c in doc["staged"]] == ["a.txt"]
    doc = run_json("git", "stage", "--all")
    assert [c["path"] for c in doc["staged"]] == ["a.txt", "b.txt"]
    doc = run_json("git", "unstage", "a.txt")
    assert [c["path"] for c in doc["staged"]] == ["b.txt"]
    doc = run_json("git", "unstage")
    assert doc["staged"] == [] and sorted(doc["untracked"]) == ["a.txt", "b.txt"]
    assert invoke("git", "stage").exit_code == ExitCode.GIT_FAILED


def test_stage_missing_path_fails_with_gits_reason(repos, invoke):
    result = invoke("git", "stage", "nope.txt")
    assert result.exit_code == ExitCode.GIT_FAILED
    assert "did not match any files" in result.stderr


# ------------------------------------------------------------------ commit


def test_commit_and_amend(repos, run_json, invoke):
    repos.write("a.txt", "a\n")
    run_json("git", "stage", "a.txt")
    doc = run_json("git", "commit", "-m", "feat: add a")
    assert doc["subject"] == "feat: add a" and doc["branch"] == "main"
    assert doc["files"] == [
        {"path": "a.txt", "added": 1, "deleted": 0, "binary": False, "orig_path": None}
    ]
    assert git(repos.work, "log", "-1", "--format=%s").strip() == "feat: add a"
    doc = run_json("git", "commit", "-m", "feat: add the letter a", "--amend")
    assert doc["amend"] is True
    assert git(repos.work, "rev-list", "--count", "HEAD").strip() == "2"
    human = invoke("git", "commit", "-m", "feat: again", "--amend")
    assert human.exit_code == 0 and "[main " in human.stdout


def test_commit_message_is_kept_verbatim(repos, run_json):
    repos.write("a.txt", "a\n")
    run_json("git", "stage", "a.txt")
    message = "--not-an-option: #1 keeps lines\n\n# this line stays"
    run_json("git", "commit", "-m", message)
    assert git(repos.work, "log", "-1", "--format=%B").strip() == message


def test_nothing_to_commit(repos, invoke):
    result = invoke("git", "commit", "-m", "feat: nothing")
    assert result.exit_code == ExitCode.GIT_NOTHING_TO_COMMIT
    assert "lynkr git stage" in result.stderr


def test_commit_disabled_by_policy(repos, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_ALLOW_COMMIT", "false")
    repos.write("a.txt", "a\n")
    git(repos.work, "add", "a.txt")
    result = invoke("git", "commit", "-m", "feat: a")
    assert result.exit_code == ExitCode.POLICY
    assert "POLICY_GIT_ALLOW_COMMIT" in result.stderr
    assert git(repos.work, "rev-list", "--count", "HEAD").strip() == "1"


def test_commit_regex_refuses_and_allows(repos, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_COMMIT_REGEX", r"^(feat|fix)(\(\w+\))?: .+")
    repos.write("a.txt", "a\n")
    git(repos.work, "add", "a.txt")
    refused = invoke("git", "commit", "-m", "added stuff")
    assert refused.exit_code == ExitCode.POLICY
    assert r"^(feat|fix)(\\(\\w+\\))?: .+" in refused.stderr or "(feat|fix)" in refused.stderr
    allowed = invoke("git", "commit", "-m", "fix(core): a")
    assert allowed.exit_code == 0, allowed.stderr


def test_invalid_commit_regex_is_a_config_error(repos, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_COMMIT_REGEX", "(unclosed")
    repos.write("a.txt", "a\n")
    git(repos.work, "add", "a.txt")
    result = invoke("git", "commit", "-m", "feat: a")
    assert result.exit_code == ExitCode.CONFIG


def test_commit_with_unresolved_conflict(repos, invoke):
    _make_conflict(repos)
    result = invoke("git", "commit", "-m", "fix: merge")
    assert result.exit_code == ExitCode.GIT_CONFLICT
    assert "README.md" in result.stderr


def _make_conflict(repos):
    git(repos.work, "switch", "-q", "-c", "other")
    repos.write("README.md", "other side\n")
    repos.commit_all("feat: other")
    git(repos.work, "switch", "-q", "main")
    repos.write("README.md", "main side\n")
    repos.commit_all("feat: main")
    git(repos.work, "merge", "other", check=False)


# ------------------------------------------------------------------ push


def test_push_refused_by_default(repos, invoke):
    _feature(repos)
    result = invoke("git", "push", "origin", "feature")
    assert result.exit_code == ExitCode.POLICY
    assert "POLICY_GIT_ALLOW_PUSH" in result.stderr
    assert remote_head(repos, "feature") == ""


def test_push_new_branch_sets_upstream(repos, run_json, allow_push):
    _feature(repos)
    doc = run_json("git", "push", "origin", "feature")
    head = git(repos.work, "rev-parse", "HEAD").strip()
    assert doc["set_upstream"] is True and doc["old"] is None and doc["new"] == head
    assert remote_head(repos, "feature") == head
    repos.write("more.txt", "more\n")
    repos.commit_all("feat: more")
    doc = run_json("git", "push")  # now to the recorded upstream
    assert doc["target"] == "feature" and doc["set_upstream"] is False
    assert remote_head(repos, "feature") == git(repos.work, "rev-parse", "HEAD").strip()
    assert run_json("git", "push")["up_to_date"] is True


def test_push_to_protected_branch(repos, invoke, allow_push, monkeypatch):
    repos.write("a.txt", "a\n")
    repos.commit_all("feat: a")
    refused = invoke("git", "push")
    assert refused.exit_code == ExitCode.POLICY
    assert "protected" in refused.stderr and "POLICY_GIT_ALLOW_PROTECTED_PUSH" in refused.stderr
    monkeypatch.setenv("POLICY_GIT_ALLOW_PROTECTED_PUSH", "true")
    allowed = invoke("git", "push")
    assert allowed.exit_code == 0, allowed.stderr
    assert "pushed main to origin/main" in allowed.stdout


def test_protected_branches_are_configurable_with_globs(repos, invoke, allow_push, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_PROTECTED_BRANCHES", "release/*")
    _feature(repos, "release/1.0")
    assert invoke("git", "push", "origin", "release/1.0").exit_code == ExitCode.POLICY
    git(repos.work, "switch", "-q", "main")
    repos.write("a.txt", "a\n")
    repos.commit_all("feat: a")
    assert invoke("git", "push").exit_code == 0  # main is no longer protected


def test_force_push_needs_its_own_permission(repos, invoke, run_json, allow_push, monkeypatch):
    _feature(repos)
    run_json("git", "push", "origin", "feature")
    git(repos.work, "commit", "-q", "--amend", "-m", "feat: rewritten")
    rejected = invoke("git", "push")
    assert rejected.exit_code == ExitCode.GIT_PUSH_REJECTED
    assert "pull --rebase" in rejected.stderr
    refused = invoke("git", "push", "--force-with-lease")
    assert refused.exit_code == ExitCode.POLICY
    assert "POLICY_GIT_ALLOW_FORCE_PUSH" in refused.stderr
    monkeypatch.setenv("POLICY_GIT_ALLOW_FORCE_PUSH", "true")
    doc = run_json("git", "push", "--force-with-lease")
    assert doc["force"] is True
    assert remote_head(repos, "feature") == git(repos.work, "rev-parse", "HEAD").strip()


def test_push_rejected_when_remote_moved(repos, invoke, allow_push, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_ALLOW_PROTECTED_PUSH", "true")
    other = repos.clone("other")
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "commit", "-q", "-m", "feat: theirs")
    git(other, "push", "-q", "origin", "main")
    repos.write("mine.txt", "mine\n")
    repos.commit_all("feat: mine")
    result = invoke("git", "push")
    assert result.exit_code == ExitCode.GIT_PUSH_REJECTED
    assert "rejected" in result.stderr


def test_push_without_upstream(repos, invoke, allow_push):
    _feature(repos)
    result = invoke("git", "push")
    assert result.exit_code == ExitCode.GIT_NO_UPSTREAM
    assert "lynkr git push origin feature" in result.stderr


def test_push_to_unknown_remote(repos, invoke, allow_push):
    _feature(repos)
    result = invoke("git", "push", "upstream", "feature")
    assert result.exit_code == ExitCode.GIT_NO_UPSTREAM
    assert "not a configured remote" in result.stderr


def test_push_unknown_local_branch(repos, invoke, allow_push):
    result = invoke("git", "push", "origin", "nope")
    assert result.exit_code == ExitCode.USAGE


# ------------------------------------------------------------------ pull


def _remote_commit(repos, name="theirs.txt"):
    other = repos.clone(f"other-{name}")
    (other / name).write_text("theirs\n")
    git(other, "add", name)
    git(other, "commit", "-q", "-m", f"feat: {name}")
    git(other, "push", "-q", "origin", "main")


def test_pull_fast_forward(repos, run_json, invoke):
    _remote_commit(repos)
    doc = run_json("git", "pull")
    assert doc["up_to_date"] is False and doc["upstream"] == "origin/main"
    assert [f["path"] for f in doc["files"]] == ["theirs.txt"]
    assert (repos.work / "theirs.txt").exists()
    assert "already up to date" in invoke("git", "pull").stdout


def test_pull_rebase_keeps_local_commit_on_top(repos, run_json):
    _remote_commit(repos)
    repos.write("mine.txt", "mine\n")
    repos.commit_all("feat: mine")
    doc = run_json("git", "pull", "--rebase")
    assert doc["rebase"] is True
    subjects = git(repos.work, "log", "--format=%s").split("\n")
    assert subjects[:2] == ["feat: mine", "feat: theirs.txt"]


def test_pull_disabled_by_policy(repos, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_ALLOW_PULL", "false")
    result = invoke("git", "pull")
    assert result.exit_code == ExitCode.POLICY
    assert "POLICY_GIT_ALLOW_PULL" in result.stderr


def test_pull_without_upstream(repos, invoke):
    git(repos.work, "switch", "-q", "-c", "lonely")
    result = invoke("git", "pull")
    assert result.exit_code == ExitCode.GIT_NO_UPSTREAM
    assert "--set-upstream-to" in result.stderr


def test_pull_conflict(repos, invoke):
    other = repos.clone("other")
    (other / "README.md").write_text("theirs\n")
    git(other, "commit", "-q", "-am", "feat: theirs")
    git(other, "push", "-q", "origin", "main")
    repos.write("README.md", "mine\n")
    repos.commit_all("feat: mine")
    result = invoke("git", "pull")
    assert result.exit_code == ExitCode.GIT_CONFLICT
    assert "README.md" in result.stderr and "merge --abort" in result.stderr
    again = invoke("git", "pull")
    assert again.exit_code == ExitCode.GIT_CONFLICT
    status = json.loads(invoke("git", "status", "--json").stdout)
    assert status["operation"] == "merge" and status["conflicted"] == ["README.md"]
    assert "merge in progress" in invoke("git", "status").stdout


def test_pull_detached(repos, invoke):
    git(repos.work, "checkout", "-q", "--detach")
    assert invoke("git", "pull").exit_code == ExitCode.GIT_DETACHED_HEAD


def test_first_commit_in_a_fresh_repository(tmp_path, monkeypatch, run_json):
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("a\n")
    run_json("git", "stage", "--all")
    doc = run_json("git", "commit", "-m", "feat: first")
    assert doc["branch"] == "main" and [f["path"] for f in doc["files"]] == ["a.txt"]


def test_api_policy_object_is_the_only_authority(repos, monkeypatch):
    from lynkr_cli.errors import PolicyError
    from lynkr_cli.git.api import GitPolicy, open_repo

    # The environment allows pushing, but the policy handed to the API does not.
    monkeypatch.setenv("POLICY_GIT_ALLOW_PUSH", "true")
    repo = open_repo(repos.work, policy=GitPolicy())
    with pytest.raises(PolicyError, match="push is disabled"):
        repo.push("origin", "main")
    assert not hasattr(repo, "git")  # no public raw-git escape hatch


def test_commit_refused_by_a_hook(repos, invoke):
    hook = repos.work / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: trailing whitespace' >&2\nexit 1\n")
    hook.chmod(0o755)
    repos.write("a.txt", "a\n")
    git(repos.work, "add", "a.txt")
    result = invoke("git", "commit", "-m", "feat: a")
    assert result.exit_code == ExitCode.GIT_FAILED
    assert "lint failed: trailing whitespace" in result.stderr
    assert "hook" in result.stderr


def test_push_refused_by_the_remotes_hook(repos, invoke, allow_push):
    hook = repos.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    _feature(repos)
    result = invoke("git", "push", "origin", "feature")
    assert result.exit_code == ExitCode.GIT_PUSH_REJECTED
    assert "remote rejected" in result.stderr and "hooks" in result.stderr


def test_pull_rebase_conflict(repos, invoke):
    other = repos.clone("other")
    (other / "README.md").write_text("theirs\n")
    git(other, "commit", "-q", "-am", "feat: theirs")
    git(other, "push", "-q", "origin", "main")
    repos.write("README.md", "mine\n")
    repos.commit_all("feat: mine")
    result = invoke("git", "pull", "--rebase")
    assert result.exit_code == ExitCode.GIT_CONFLICT
    assert "rebase --continue" in result.stderr
    assert json.loads(invoke("git", "status", "--json").stdout)["operation"] == "rebase"
