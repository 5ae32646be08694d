"""docs/git.md documents every `lynkr git` command and every git exit code."""

from __future__ import annotations

from pathlib import Path

from lynkr_cli.errors import ExitCode
from lynkr_cli.git.command import git_app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "git.md").read_text()


def test_every_command_is_documented():
    names = [
        c.name or (c.callback.__name__ if c.callback else "") for c in git_app.registered_commands
    ]
    assert len(names) == 12
    for name in names:
        assert f"| `{name}" in DOC, name


def test_every_git_exit_code_is_documented():
    for code in ExitCode:
        if code.name.startswith("GIT_"):
            assert f"| {int(code)} |" in DOC, code.name


def test_every_help_text_teaches(invoke):
    for command in git_app.registered_commands:
        assert command.callback is not None and command.callback.__doc__
    result = invoke("git", "--help")
    assert result.exit_code == 0 and "release-notes" in result.stdout
