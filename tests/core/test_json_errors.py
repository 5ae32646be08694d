"""With ``--json``, an error is one JSON document on stdout (stderr keeps the human line):
``{"error": {"code", "exit", "message", "hint"}}``, from the one error boundary, for every
command, whether the error is bad usage, a domain error or an internal one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer

from lynkr_cli import cli
from lynkr_cli.errors import ExitCode
from tests.clirun import piped
from tests.gitrepo import make_repo

CASES = [
    # (argv, environment, code, exit)
    (["config", "show", "--json"], {"PROMPT_CACHE_TTL_MS": "-5"}, "config", 3),
    (["config", "show", "--json", "--bogus"], {}, "usage", 2),
    (["cache", "stats", "--json"], {"PROMPT_CACHE_MAX_ENTRIES": "0"}, "config", 3),
    (["plugins", "--json", "extra"], {}, "usage", 2),
    (["git", "log", "--json"], {}, "git_not_a_repo", 10),
    (["git", "push", "--json"], {}, "policy", 5),
    (["tasks", "done", "999", "--json"], {}, "not_found", 6),
    (["tasks", "edit", "1", "--json"], {}, "usage", 2),
    (["switch", "show", "nope", "--json"], {}, "not_found", 6),
    (["switch", "nosuchprofile", "--json"], {}, "not_found", 6),
    (["mcp", "call", "nope", "tool", "--json"], {}, "not_found", 6),
    (["mcp", "call", "x", "tool", "{not json", "--json"], {}, "usage", 2),
    (["doctor", "--only", "nope", "--json"], {}, "usage", 2),
    (["index", "defs", "x", "--limit", "0", "--json"], {}, "usage", 2),
    (["index", "stats", "--json"], {}, "not_found", 6),
    (["index", "serch", "--json"], {}, "usage", 2),
]


def _error_document(stdout: str) -> dict[str, Any]:
    doc = json.loads(stdout)  # exactly one document: json.loads refuses trailing data
    assert set(doc) == {"error"}
    error = doc["error"]
    assert set(error) == {"code", "exit", "message", "hint"}
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


@pytest.mark.parametrize(
    ("argv", "env", "code", "exit_code"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_json_error_document(
    argv: list[str],
    env: dict[str, str],
    code: str,
    exit_code: int,
    invoke: Any,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if argv[:2] == ["git", "push"]:
        make_repo(workdir, {"a.txt": "a\n"}, hermetic=True)
    result = invoke(*argv)
    assert result.exit_code == exit_code, result.stderr
    error = _error_document(result.stdout)
    assert (error["code"], error["exit"]) == (code, exit_code)
    assert result.stderr.strip(), "the human line stays on stderr"


def test_through_a_real_pipe_too(workdir: Path) -> None:
    proc = piped("git", "status", "--json", cwd=workdir)
    assert proc.returncode == ExitCode.GIT_NOT_A_REPO
    error = _error_document(proc.stdout)
    assert error["hint"] and "git init" in error["hint"]
    assert "error:" in proc.stderr


def test_internal_errors_too(runner: Any) -> None:
    app = cli.create_app()

    @app.command("boom")
    def boom(json_output: bool = typer.Option(False, "--json")) -> None:
        raise RuntimeError("kaboom")

    result = runner.invoke(app, ["boom", "--json"])
    assert result.exit_code == 1
    error = _error_document(result.stdout)
    assert error["code"] == "internal" and "kaboom" in error["message"]


def test_no_second_document_after_the_commands_own(invoke: Any, workdir: Path) -> None:
    """`index search` with no match prints its (empty) result, then exits 6: one document."""
    assert invoke("index", ".", "--no-claude-md", "--json").exit_code == 0
    result = invoke("index", "search", "zzzznothing", "--json")
    assert result.exit_code == 6
    assert json.loads(result.stdout) == []


def test_json_after_double_dash_is_not_ours(invoke: Any, workdir: Path) -> None:
    result = invoke("switch", "run", "nope", "--", "tool", "--json")
    assert result.exit_code == 6
    assert result.stdout == ""


def test_without_json_stdout_stays_empty(invoke: Any, workdir: Path) -> None:
    result = invoke("git", "log")
    assert result.exit_code == ExitCode.GIT_NOT_A_REPO
    assert result.stdout == ""
