"""POLICY_GIT_REQUIRE_TESTS: the test command gates the commit and never touches the index."""

from __future__ import annotations

import json
import shlex
import shutil
import sys

import pytest

from lynkr_cli.errors import ExitCode
from lynkr_cli.git.api import GitPolicy, TestsFailed, open_repo
from tests.conftest import require

from .conftest import git

PY = shlex.quote(sys.executable)


def _command(code: str) -> str:
    return f"{PY} -c {shlex.quote(code)}"


FAILING = _command("import sys; print('collected 3 items'); print('FAILED test_x'); sys.exit(1)")
PASSING = _command("print('3 passed')")


def _snapshot(work):
    return (
        git(work, "diff", "--cached"),
        git(work, "ls-files", "-s"),
        (work / ".git" / "index").read_bytes(),
        git(work, "rev-parse", "HEAD"),
    )


@pytest.fixture
def staged(repos):
    repos.write("README.md", "hello\nstaged line\n")
    repos.write("new.py", "x = 1\n")
    git(repos.work, "add", "README.md", "new.py")
    repos.write("README.md", "hello\nstaged line\nunstaged line\n")  # partly staged file
    return repos


def test_failing_tests_refuse_the_commit_and_leave_the_index(staged, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_REQUIRE_TESTS", "true")
    monkeypatch.setenv("POLICY_GIT_TEST_COMMAND", FAILING)
    before = _snapshot(staged.work)
    result = invoke("git", "commit", "-m", "feat: x")
    assert result.exit_code == ExitCode.POLICY
    assert "tests failed" in result.stderr and "untouched" in result.stderr
    # The output was streamed to stderr, and stdout stays empty.
    assert "FAILED test_x" in result.stderr and result.stdout == ""
    assert _snapshot(staged.work) == before
    assert (staged.work / "README.md").read_text().endswith("unstaged line\n")


def test_failing_tests_with_json_keep_stdout_clean(staged, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_REQUIRE_TESTS", "true")
    monkeypatch.setenv("POLICY_GIT_TEST_COMMAND", FAILING)
    result = invoke("git", "commit", "-m", "feat: x", "--json")
    assert result.exit_code == ExitCode.POLICY
    assert json.loads(result.stdout)["error"]["code"] == "policy"  # test output: stderr only


def test_passing_tests_allow_the_commit(staged, run_json, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_REQUIRE_TESTS", "true")
    monkeypatch.setenv("POLICY_GIT_TEST_COMMAND", PASSING)
    doc = run_json("git", "commit", "-m", "feat: x")
    assert doc["tests"]["passed"] is True
    assert doc["tests"]["source"] == "POLICY_GIT_TEST_COMMAND"
    assert "3 passed" in doc["tests"]["output_tail"]
    assert git(staged.work, "log", "-1", "--format=%s").strip() == "feat: x"


def test_api_streams_output_to_a_callback(staged):
    policy = GitPolicy(require_tests=True, test_command=FAILING)
    repo = open_repo(staged.work, policy=policy)
    lines: list[str] = []
    with pytest.raises(TestsFailed) as caught:
        repo.commit("feat: x", on_output=lines.append)
    assert lines[0].startswith("running tests (POLICY_GIT_TEST_COMMAND)")
    assert lines[1:] == ["collected 3 items", "FAILED test_x"]
    assert caught.value.run.returncode == 1 and caught.value.exit_code == ExitCode.POLICY


def test_timeout_refuses_the_commit(staged, monkeypatch):
    slow = _command("import time; print('started', flush=True); time.sleep(60)")
    repo = open_repo(
        staged.work, policy=GitPolicy(require_tests=True, test_command=slow, test_timeout=0.5)
    )
    before = _snapshot(staged.work)
    with pytest.raises(TestsFailed) as caught:
        repo.commit("feat: x")
    assert caught.value.run.timed_out is True
    assert "timed out" in caught.value.message
    assert _snapshot(staged.work) == before


def test_missing_program_refuses_the_commit(staged):
    repo = open_repo(
        staged.work, policy=GitPolicy(require_tests=True, test_command="no-such-test-runner-xyz")
    )
    with pytest.raises(TestsFailed) as caught:
        repo.commit("feat: x")
    assert "cannot run" in caught.value.run.output_tail


def test_no_test_command_falls_back_to_the_index_or_says_why(staged, invoke, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_REQUIRE_TESTS", "true")
    before = _snapshot(staged.work)
    result = invoke("git", "commit", "-m", "feat: x")
    assert result.exit_code == ExitCode.POLICY
    assert "no test command is known" in result.stderr
    assert "POLICY_GIT_TEST_COMMAND" in result.stderr
    assert _snapshot(staged.work) == before


def test_tests_are_not_run_when_not_required(staged, run_json, monkeypatch):
    monkeypatch.setenv("POLICY_GIT_TEST_COMMAND", FAILING)
    doc = run_json("git", "commit", "-m", "feat: x")
    assert doc["tests"] is None


def test_uses_the_command_lynkr_index_discovered(staged, invoke, monkeypatch):
    require(shutil.which("make") is not None, "make is not installed")
    monkeypatch.setenv("POLICY_GIT_REQUIRE_TESTS", "true")
    staged.write("Makefile", "test:\n\t@echo make-test-ran\n\t@exit 3\n")
    git(staged.work, "add", "Makefile")
    before = _snapshot(staged.work)
    result = invoke("git", "commit", "-m", "feat: x")
    assert result.exit_code == ExitCode.POLICY
    assert "running tests (lynkr index): make test" in result.stderr  # says where it came from
    assert "make-test-ran" in result.stderr
    assert _snapshot(staged.work) == before
    staged.write("Makefile", "test:\n\t@echo make-test-ran\n")
    git(staged.work, "add", "Makefile")
    assert invoke("git", "commit", "-m", "feat: x").exit_code == 0
