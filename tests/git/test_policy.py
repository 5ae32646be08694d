"""`lynkr git policy` and the GitPolicy object every path goes through."""

from __future__ import annotations

import json

import pytest

from lynkr_cli.errors import ConfigError, PolicyError
from lynkr_cli.git.api import GitPolicy
from lynkr_cli.git.policy import discovered_test_command
from lynkr_cli.settings import PolicySettings


def test_policy_json_shows_values_and_sources(workdir, invoke, monkeypatch):
    (workdir / "lynkr.toml").write_text('[policy]\ngit_commit_regex = "^feat"\n')
    monkeypatch.setenv("POLICY_GIT_ALLOW_PUSH", "true")
    result = invoke("git", "policy", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {row["setting"]: row for row in json.loads(result.stdout)}
    push = rows["policy.git_allow_push"]
    assert push == {
        "setting": "policy.git_allow_push",
        "env": "POLICY_GIT_ALLOW_PUSH",
        "value": True,
        "source": "env POLICY_GIT_ALLOW_PUSH",
    }
    assert rows["policy.git_commit_regex"]["value"] == "^feat"
    assert rows["policy.git_commit_regex"]["source"].startswith("file ")
    assert rows["policy.git_protected_branches"] == {
        "setting": "policy.git_protected_branches",
        "env": "POLICY_GIT_PROTECTED_BRANCHES",
        "value": ["main", "master"],
        "source": "default",
    }
    assert len(rows) == 11


def test_policy_human_table(workdir, invoke):
    result = invoke("git", "policy")
    assert result.exit_code == 0
    assert "POLICY_GIT_ALLOW_PUSH" in result.stdout and "default" in result.stdout


def test_policy_from_settings_defaults():
    policy = GitPolicy.from_settings(PolicySettings())
    assert policy == GitPolicy()
    with pytest.raises(PolicyError, match="push is disabled"):
        policy.check_push("feature", force=False)
    policy.check_commit("anything")
    policy.check_pull()


def test_each_push_guard():
    allowed = GitPolicy(allow_push=True)
    allowed.check_push("feature", force=False)
    with pytest.raises(PolicyError, match="force push"):
        allowed.check_push("feature", force=True)
    with pytest.raises(PolicyError, match="protected"):
        allowed.check_push("master", force=False)
    everything = GitPolicy(allow_push=True, allow_force_push=True, allow_protected_push=True)
    everything.check_push("main", force=True)


def test_commit_guards():
    with pytest.raises(PolicyError, match="empty"):
        GitPolicy().check_commit("   ")
    with pytest.raises(ConfigError):
        GitPolicy(commit_regex="[").check_commit("x")
    GitPolicy(commit_regex=r"^\w+: ").check_commit("feat: ok")


def test_test_command_resolution(tmp_path):
    assert GitPolicy(test_command="pytest -q").tests_command(tmp_path) is None  # not required
    cmd = GitPolicy(require_tests=True, test_command="pytest -q 'a b'").tests_command(tmp_path)
    assert cmd is not None and cmd.argv == ["pytest", "-q", "a b"]
    with pytest.raises(ConfigError):
        GitPolicy(require_tests=True, test_command="pytest 'unclosed").tests_command(tmp_path)


def test_discovery_never_raises(tmp_path):
    command, why = discovered_test_command(tmp_path)
    assert command is None or isinstance(command, list)
    assert why


def test_git_policy_reads_the_settings_section_it_wraps():
    """One declaration: GitPolicy holds a PolicySettings, POLICY_FIELDS are its git_* fields."""
    from lynkr_cli.git.policy import POLICY_FIELDS

    settings = PolicySettings(git_allow_push=True, git_protected_branches="main,release/*")
    policy = GitPolicy(settings)
    assert policy.settings is settings
    assert policy.is_protected("release/1.0")
    policy.check_push("feature", force=False)
    assert (
        *(f for f in PolicySettings.model_fields if f.startswith("git_")),
        "test_timeout",
    ) == POLICY_FIELDS


def test_git_policy_keywords_are_validated_settings():
    assert GitPolicy(allow_push=True) == GitPolicy(git_allow_push=True)
    assert GitPolicy(allow_push=True).replace(allow_push=False) == GitPolicy()
    assert GitPolicy(protected_branches="a, b").settings.git_protected_branches == ["a", "b"]
    with pytest.raises(TypeError, match="no setting 'allow_everything'"):
        GitPolicy(allow_everything=True)
    with pytest.raises(ValueError, match="test_timeout"):
        GitPolicy(test_timeout=0)
