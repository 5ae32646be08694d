"""Tool subprocesses get an allow-listed environment, never the gateway's credentials.

Wrappers named ``git``, ``rg`` and ``fake-tests`` sit first on PATH and record the
environment each run received before running the real program. The gateway's own
environment holds upstream keys, ``AWS_*``, ``LYNKR_API_KEY``, and variables that would
redirect or reprogram a tool (``GIT_DIR``, ``GIT_CONFIG_*``, ``PYTHONPATH``). A scripted
model calls the tools through the real gateway loop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.procenv import allowed_environment, child_env, confined
from tests.gitrepo import make_repo
from tests.security.toolkit import (
    CREDENTIAL_NAMES,
    add_env_dump_server,
    credential_env,
    install_wrappers,
    real_program,
    recorded,
    run_tools,
)
from tests.tools.conftest import isolated_home  # noqa: F401 - autouse: HOME in tmp

pytestmark = pytest.mark.timeout(120)

# Must never reach a tool: they would point git at another repository or run code.
REDIRECTS = {
    "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.pager", "GIT_CONFIG_VALUE_0": "false",
    "GIT_CONFIG_PARAMETERS": "'core.fsmonitor'='false'", "GIT_EXTERNAL_DIFF": "false",
    "GIT_SSH_COMMAND": "false", "PYTHONPATH": "/nonexistent-lynkr-canary",
    "NODE_OPTIONS": "--require=/nonexistent-lynkr-canary", "BASH_ENV": "/nonexistent",
}  # fmt: skip
NEVER = {*CREDENTIAL_NAMES, *REDIRECTS, "GIT_DIR", "GIT_WORK_TREE"}


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A repository, the PATH wrappers, and a gateway environment full of canaries."""
    repo = make_repo(tmp_path / "repo", {"calc.py": "def add(a, b):\n    return a + b\n"})
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b  # changed\n")
    decoy = make_repo(tmp_path / "decoy", {"decoy.txt": "the decoy repository\n"})
    bin_dir, log_dir = tmp_path / "bin", tmp_path / "envlog"
    install_wrappers(bin_dir, log_dir, {"git": real_program("git"), "rg": real_program("rg"),
                                        "fake-tests": None})  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    creds = credential_env()
    for name, value in {**creds, **REDIRECTS}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_DIR", str(decoy / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(decoy))
    monkeypatch.setenv("GIT_INDEX_FILE", str(decoy / ".git" / "index"))
    monkeypatch.setenv("PROJECT_DB_HOST", "db.internal")  # allowed by LYNKR_TOOL_ENV_PASS
    monkeypatch.setenv("PYTEST_ADDOPTS", "-q")  # allowed by the PYTEST_* pattern
    monkeypatch.setenv("LC_TIME", "C")
    return {"repo": repo, "log": log_dir, "creds": creds, "decoy": decoy, "tmp": tmp_path}


TOOL_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("lynkr_git_status", {}),
    ("lynkr_git_diff", {}),
    ("lynkr_git_log", {"limit": 3}),
    ("lynkr_git_show", {"rev": "HEAD"}),
    ("lynkr_git_review", {}),
    ("lynkr_search", {"pattern": "return"}),
    ("lynkr_run_tests", {}),
    ("lynkr_symbols", {"query": "add"}),
]


async def test_no_credential_reaches_a_tool_subprocess(planted: dict[str, Any]) -> None:
    _, results, _ = await run_tools(
        planted["repo"], TOOL_CALLS, **{
            "policy.tools_allow_exec": True, "policy.git_test_command": "fake-tests",
            "gateway.tool_env_pass": ["PROJECT_DB_HOST", "PYTEST_*"]},
    )  # fmt: skip
    for (tool, _), result in zip(TOOL_CALLS, results, strict=True):
        assert not result.get("is_error"), (tool, result)
    runs = recorded(planted["log"])
    assert {"git", "rg", "fake-tests"} <= set(runs), sorted(runs)
    for program, envs in runs.items():
        for env in envs:
            assert not NEVER & set(env), (program, sorted(NEVER & set(env)))
            seen = "\0".join(env.values())
            assert not [n for n, v in planted["creds"].items() if v in seen], program
            assert env["PATH"] == os.environ["PATH"] and env["HOME"] == os.environ["HOME"]
            assert env["PROJECT_DB_HOST"] == "db.internal" and env["PYTEST_ADDOPTS"] == "-q"
            assert env["LC_TIME"] == "C"
            # Only lynkr's own scratch index (the review of uncommitted changes), never the
            # gateway's GIT_INDEX_FILE.
            assert "lynkr-index-" in env.get("GIT_INDEX_FILE", "lynkr-index-"), env
    # The tools worked on the workspace, not on the GIT_DIR of the gateway's environment.
    status, diff = results[0]["content"], results[1]["content"]
    assert "calc.py" in status and "decoy.txt" not in status
    assert "+    return a + b  # changed" in diff
    assert "all tests passed" in results[6]["content"]
    # The index's `git ls-files` ran through the wrapper too.
    assert any("ls-files" in env["LYNKR_WRAPPER_ARGV"] for env in runs["git"])


async def test_mcp_servers_get_the_sdk_default_environment(planted: dict[str, Any]) -> None:
    dump = add_env_dump_server(planted["repo"], planted["tmp"])
    _, results, _ = await run_tools(planted["repo"], [("mcp__envdump__dump_env", {})])
    assert not results[0].get("is_error"), results[0]
    env = json.loads(dump.read_text())
    assert not NEVER & set(env), sorted(NEVER & set(env))
    assert set(env) <= {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LC_CTYPE"}


def test_lynkr_git_keeps_the_users_environment(
    planted: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI and its API outside a tool call pass the user's environment on, unchanged."""
    from lynkr_cli.git.api import open_repo

    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    monkeypatch.delenv("GIT_INDEX_FILE")
    open_repo(planted["repo"]).status()
    envs = recorded(planted["log"])["git"]
    assert envs and all(e["ANTHROPIC_API_KEY"] == planted["creds"]["ANTHROPIC_API_KEY"]
                        for e in envs)  # fmt: skip


def test_allow_list_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    source = {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C", "TMPDIR": "/t",
              "OPENAI_API_KEY": "k", "GIT_DIR": "/x", "LD_PRELOAD": "/evil.so",
              "EXTRA_ONE": "1", "PREFIX_A": "a", "PREFIX_B": "b", "PREFIXED": "no",
              "BASH_FUNC_x%%": "() { rm -rf /; }", "SHELL": "/bin/sh"}  # fmt: skip
    env = allowed_environment(["EXTRA_ONE", " PREFIX_* ", ""], source)
    assert env == {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "LC_ALL": "C",
                   "TMPDIR": "/t", "EXTRA_ONE": "1", "PREFIX_A": "a", "PREFIX_B": "b",
                   "SHELL": "/bin/sh"}  # fmt: skip
    # An exported shell function is code even when its name is allowed.
    assert "X" not in allowed_environment(["X"], {"X": "() { :; }"})
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert child_env()["OPENAI_API_KEY"] == "k"
    with confined({"PATH": "/bin"}):
        assert child_env() == {"PATH": "/bin"}
    assert child_env()["OPENAI_API_KEY"] == "k"


def test_tool_env_pass_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from lynkr_cli.settings import get_settings

    monkeypatch.setenv("LYNKR_TOOL_ENV_PASS", "DATABASE_URL, PYTEST_*")
    assert get_settings().gateway.tool_env_pass == ["DATABASE_URL", "PYTEST_*"]
