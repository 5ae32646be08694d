"""Hostile settings files: `lynkr switch` refuses them cleanly and leaves nothing behind.

Each case: exit 3, a message naming the file and line:column, the file byte-identical,
and the directory holding exactly what it held before (no temporary file, no backup).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lynkr_cli import paths

BAD = {
    "nan": ('{"env": {"A": NaN}}', "1, column 15", "NaN"),
    "infinity": ('{\n  "n": Infinity\n}', "2, column 8", "Infinity"),
    "minus-infinity": ('{"n": -Infinity}', "1, column 7", "-Infinity"),
    "lone-high-surrogate": ('{"env": {"A": "\\ud800"}}', "1, column 16", "lone surrogate"),
    "lone-low-surrogate": ('{"x": "\\udfff"}', "1, column 8", "lone surrogate"),
    "trailing-garbage": ('{"env": {}}\ngarbage', "2, column 1", "after the JSON value"),
    "two-documents": ('{"a": 1}{"b": 2}', "1, column 9", "after the JSON value"),
    "comment": ('{\n  // my settings\n  "env": {}\n}', "2, column 3", "expected a string key"),
    "trailing-comma": ('{"env": {"A": "1",}}', "1, column 19", "trailing comma"),
    "duplicate-env": ('{"env": {"A": "1"}, "env": {}}', "1, column 21", "appears 2 times"),
    "duplicate-managed-key": (
        '{"env": {"ANTHROPIC_BASE_URL": "a", "ANTHROPIC_BASE_URL": "b"}}',
        "1, column 37",
        "appears 2 times",
    ),
    "env-is-a-string": ('{"env": "ANTHROPIC_BASE_URL=x"}', None, "not an object"),
    "root-is-an-array": ("[]", None, "not an object"),
    "deep-nesting": ('{"x": ' + "[" * 300 + "]" * 300 + "}", "1, column 206", "nested deeper"),
    "control-character": ('{"a": "x\ty"}', "1, column 9", "control character"),
}


def _listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture
def profile(invoke, home: Path) -> None:
    result = invoke(
        "switch", "add", "work", "--base-url", "http://127.0.0.1:8080", "--key",
        "sk-ant-hostile-0000000001",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_settings_are_refused_and_nothing_is_left_behind(
    invoke, home: Path, profile: None, case: str
) -> None:
    text, where, what = BAD[case]
    path = home / ".claude" / "settings.json"
    path.write_bytes(text.encode("utf-8"))
    before = _listing(path.parent)
    result = invoke("switch", "work")
    assert result.exit_code == 3, (case, result.stderr)
    assert str(path) in result.stderr and "will not overwrite" in result.stderr
    assert what in result.stderr
    if where is not None:
        assert f"line {where}" in result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(path.parent) == before  # the file untouched, no temp file beside it
    backups = paths.state_dir() / "backups"
    assert not backups.exists() or not any(backups.iterdir())
    # --dry-run and --json refuse the same way.
    assert invoke("switch", "work", "--dry-run").exit_code == 3
    assert _listing(path.parent) == before


def test_invalid_utf8_is_refused(invoke, home: Path, profile: None) -> None:
    path = home / ".claude" / "settings.json"
    path.write_bytes(b'{"env": {"A": "\xff\xfe"}}')
    before = _listing(path.parent)
    result = invoke("switch", "work")
    assert result.exit_code == 3 and "not UTF-8" in result.stderr
    assert _listing(path.parent) == before


def test_a_corrupt_claude_json_stops_the_switch_before_any_write(
    invoke, home: Path, profile: None
) -> None:
    """Every file is planned first: a refused ~/.claude.json leaves settings.json alone."""
    settings = home / ".claude" / "settings.json"
    settings.write_text('{"model": "opus"}\n')
    claude_json = home / ".claude.json"
    claude_json.write_text('{"numStartups": NaN}')
    assert invoke("switch", "mcp", "add", "t", "--", "mcp-server-time").exit_code == 0
    result = invoke("switch", "work")
    assert result.exit_code == 3
    assert str(claude_json) in result.stderr and "NaN" in result.stderr
    assert settings.read_text() == '{"model": "opus"}\n'
    assert claude_json.read_text() == '{"numStartups": NaN}'
    assert sorted(p.name for p in home.iterdir()) == [".claude", ".claude.json"]


def test_a_lone_surrogate_from_the_command_line_is_refused(invoke, home: Path) -> None:
    """Undecodable argv bytes arrive as lone surrogates; they must never reach a file."""
    result = invoke("switch", "add", "s", "--base-url", "https://x.io", "--env", "X=a\udcffb")
    assert result.exit_code == 2 and "not valid UTF-8" in result.stderr
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


def test_refused_writes_leave_no_temporary_file(home: Path) -> None:
    """atomic_write removes its temporary file whatever goes wrong, not only on OSError."""
    from lynkr_cli.errors import ConfigError
    from lynkr_cli.switch import files

    target = home / "out.json"
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        files.atomic_write(target, '{"a": "\ud800"}')
    assert os.listdir(home) == [".claude"]
