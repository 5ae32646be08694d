"""Output through a pipe (Claude Code's Bash tool is not a terminal): nothing wraps or is cut
at 80 columns, and every table is tab-separated rows under a header line, as ``gh`` prints.
The same commands on an 80-column pseudo-terminal still draw tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clirun import on_terminal, piped, tsv
from tests.gitrepo import make_repo

LONG = "a-very-long-value-" * 8  # 144 characters: would wrap or be cut at 80 columns
DEEP = "/".join(["subpackage_with_a_long_name"] * 4)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with a long path, a long commit subject and an MCP server manifest."""
    root = make_repo(
        tmp_path / "project",
        {
            f"{DEEP}/module.py": "def parse_request_with_long_name():\n    return 1\n",
            "main.py": "from x import parse_request_with_long_name\n"
            "parse_request_with_long_name()\n",
            "lynkr.toml": f'[mcp.servers.time]\ncommand = "mcp-server-time"\nargs = ["{LONG}"]\n',
        },
        message=f"feat: {LONG}",
        hermetic=True,
    )
    return root


CASES = {
    "config show": (["config", "show"], ["setting", "value", "source"]),
    "config path": (["config", "path"], ["what", "path"]),
    "cache stats": (["cache", "stats"], ["stat", "value"]),
    "plugins": (["plugins"], ["plugin", "version", "hooks", "status"]),
    "switch presets": (["switch", "presets"], ["preset", "what it sets up", "needs"]),
    "mcp list": (["mcp", "list"], ["server", "transport", "command / url", "source"]),
    "git log": (["git", "log"], ["commit", "date", "author", "subject"]),
    "git branches": (
        ["git", "branches"],
        ["current", "branch", "commit", "upstream", "ahead/behind", "subject"],
    ),
    "git policy": (["git", "policy"], ["setting", "environment", "value", "source"]),
    "index search": (
        ["index", "search", "parse_request"],
        ["location", "kind", "signature / definition"],
    ),
    "index refs": (
        ["index", "refs", "parse_request_with_long_name"],
        ["location", "kind", "signature / definition"],
    ),
    "index stats": (["index", "stats"], ["stat", "value"]),
    "doctor": (["doctor", "--only", "python"], ["status", "check", "finding", "fix"]),
    "tasks list": (["tasks", "list"], ["id", "status", "title", "notes"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_piped_tables_are_tsv_with_a_header(case: str, project: Path) -> None:
    args, header = CASES[case]
    env = {"LYNKR_MODEL": LONG}
    if case == "tasks list":
        assert piped("tasks", "add", LONG, "--notes", "n", cwd=project).returncode == 0
    if case == "index stats":
        assert piped("index", ".", "--no-claude-md", cwd=project).returncode == 0
    proc = piped(*args, cwd=project, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    if case == "doctor":  # the table, then one summary line
        assert lines.pop().startswith("2 ok, 0 warn")
    rows = tsv("\n".join(lines), header)
    assert rows, proc.stdout
    assert "─" not in proc.stdout and "│" not in proc.stdout  # no box drawing in a pipe


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("config show", LONG),
        ("mcp list", LONG),
        ("git log", f"feat: {LONG}"),
        ("index search", f"{DEEP}/module.py:1:"),
        ("tasks list", LONG),
    ],
)
def test_long_values_stay_whole_on_one_line(case: str, needle: str, project: Path) -> None:
    if case == "tasks list":
        assert piped("tasks", "add", LONG, cwd=project).returncode == 0
    args, _ = CASES[case]
    proc = piped(*args, cwd=project, env={"LYNKR_MODEL": LONG})
    assert proc.returncode == 0, proc.stderr
    assert any(needle in line for line in proc.stdout.splitlines()), proc.stdout


def test_plain_lines_are_never_wrapped(project: Path) -> None:
    """Human lines (not tables) keep their length through a pipe too."""
    (project / "new.py").write_text(f"# {LONG}\n")
    proc = piped("git", "diff", "--staged", cwd=project)
    assert proc.returncode == 0
    piped_status = piped("git", "stage", "new.py", cwd=project)
    assert piped_status.returncode == 0, piped_status.stderr
    proc = piped("git", "diff", "--staged", cwd=project)
    assert f"+# {LONG}" in proc.stdout.splitlines()


def test_a_cell_with_a_tab_or_newline_keeps_the_row_whole(project: Path) -> None:
    assert piped("tasks", "add", "one\ttwo", "--notes", "line1\nline2", cwd=project).returncode == 0
    rows = tsv(piped("tasks", "list", cwd=project).stdout, ["id", "status", "title", "notes"])
    assert rows == [["1", "open", "one two", "line1 line2"]]


def test_an_80_column_terminal_draws_the_table(project: Path) -> None:
    code, output = on_terminal("config", "show", cwd=project, columns=80)
    assert code == 0, output
    assert "━" in output or "─" in output  # Rich's table rules
    assert "\t" not in output
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    assert max(len(line) for line in plain.splitlines()) <= 80  # it fits the terminal


def test_a_terminal_line_is_printed_with_style_but_no_markup(project: Path) -> None:
    code, output = on_terminal("git", "status", cwd=project, env={"NO_COLOR": ""})
    assert code == 0, output
    assert "On branch" in output and "main" in output
