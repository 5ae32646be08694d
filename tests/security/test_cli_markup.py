"""User data that looks like Rich markup is printed as it is, by every human output.

Claude Code's local-scope MCP servers live under paths such as ``[project]``; task titles,
commit subjects, file names, profile fields and plugin errors are all data. Each command
below is fed such data and must print it literally, drawn for a terminal and piped,
without a ``MarkupError`` (it used to crash ``lynkr mcp list``) and without turning
``:smile:`` into an emoji.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import console
from tests.gitrepo import GIT_ENV, make_repo
from tests.plugindist import install

MARK = "[/]x[bold red]y[/bold red] [link=https://e.invalid]z[/link] :smile: \\[w]"
DIR = "[red]d[/red] :smile:"  # a directory name (no slash of its own)

MCP_SERVER = """
from mcp.server.mcpserver import MCPServer

app = MCPServer("marks")

@app.tool(description={mark!r})
def echo() -> str:
    return {mark!r}

app.run()
"""

PLUGIN = f"""
from lynkr_cli import hookimpl
from lynkr_cli.registry import CheckResult, DoctorCheck

@hookimpl
def register_doctor_checks(register):
    register(DoctorCheck("marks", lambda ctx: CheckResult("marks", "warn", {MARK!r}, {MARK!r})))
"""


@pytest.fixture(params=["terminal", "pipe"])
def mode(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both renderings: Rich's (stdout a terminal) and the piped plain text."""
    if request.param == "terminal":
        monkeypatch.setattr(console, "is_terminal", lambda: True)
        monkeypatch.setenv("COLUMNS", "2000")  # no wrapping inside a long cell
    return str(request.param)


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository under a markup-like directory, with markup-like file and subject."""
    root = make_repo(
        tmp_path / DIR / "repo",
        {f"{DIR}/mod.py": "def handler():\n    return 1\n", "main.py": "handler()\n"},
        message=MARK,
        hermetic=True,
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(tmp_path / DIR / "home"))
    for name, value in GIT_ENV.items():  # `lynkr git commit` commits as this identity
        monkeypatch.setenv(name, value)
    return root


def _ok(result: Any, *needles: str) -> None:
    text = result.stdout + result.stderr
    assert result.exit_code == 0, text
    assert "MarkupError" not in text and "internal error" not in text
    for needle in needles:
        assert needle in result.stdout, result.stdout
    assert "😄" not in text


def test_tasks(mode: str, place: Path, invoke: Any) -> None:
    _ok(invoke("tasks", "add", MARK, "--notes", MARK), MARK)
    _ok(invoke("tasks", "list"), MARK)


def test_config_show_and_path(
    mode: str, place: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LYNKR_MODEL", MARK)
    monkeypatch.setenv("LYNKR_HOME", str(place.parent / DIR))
    _ok(invoke("config", "show"), repr(MARK))
    _ok(invoke("config", "path"), DIR)


def test_cache_stats(mode: str, place: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LYNKR_CACHE_DIR", str(place.parent / DIR / "cache"))
    _ok(invoke("cache", "stats"), DIR)


def test_plugins_and_doctor(
    mode: str, place: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    install(site, "lynkr-marks", "lynkr_marks", PLUGIN)
    install(site, "lynkr-broken", "lynkr_broken", f"raise RuntimeError({MARK!r})\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-marks,lynkr-broken")
    result = invoke("plugins")
    _ok(result, repr(MARK)[1:-1])  # the plugin's exception, as repr() shows it
    assert repr(MARK)[1:-1] in result.stderr  # the load warning
    _ok(invoke("doctor", "--only", "marks"), MARK)


def test_mcp_list_tools_and_call(
    mode: str, place: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = place / "marks_server.py"
    script.write_text(textwrap.dedent(MCP_SERVER.format(mark=MARK)))
    manifest = {"mcpServers": {"m[/]": {"command": sys.executable, "args": [str(script)]}}}
    import json

    (place / ".mcp.json").write_text(json.dumps(manifest))
    _ok(invoke("mcp", "list"), "m[/]", DIR)
    _ok(invoke("mcp", "tools"), MARK)
    _ok(invoke("mcp", "call", "m[/]", "echo"), MARK)


def test_git_outputs(mode: str, place: Path, invoke: Any) -> None:
    (place / DIR / "mod.py").write_text("def handler():\n    return 2\n")
    _ok(invoke("git", "status"), DIR)
    _ok(invoke("git", "diff"), DIR)
    _ok(invoke("git", "log"), MARK)
    _ok(invoke("git", "branches"), MARK)
    _ok(invoke("git", "review"), DIR)
    _ok(invoke("git", "stage", "--all"), DIR)
    _ok(invoke("git", "commit", "-m", MARK), MARK)


def test_switch_outputs(mode: str, place: Path, invoke: Any) -> None:
    url = "http://127.0.0.1:9/[/]x"
    _ok(invoke("switch", "add", "p1", "--base-url", url, "--model", MARK))
    _ok(invoke("switch"), MARK)
    _ok(invoke("switch", "show", "p1"), MARK)
    _ok(invoke("switch", "p1"), url)
    _ok(invoke("switch", "current"), url)


def test_index_outputs(mode: str, place: Path, invoke: Any) -> None:
    _ok(invoke("index", ".", "--no-claude-md"), "")
    _ok(invoke("index", "search", "handler"), DIR)
    _ok(invoke("index", "defs", "handler"), DIR)
    _ok(invoke("index", "refs", "handler"), "main.py")
    _ok(invoke("index", "stats"), DIR)
