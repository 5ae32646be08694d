"""Secret canaries through `lynkr switch`: a profile key and MCP env/header values never
appear in any output (tables, --json, diffs, links, doctor, errors), and every file that
holds them is private (0600, backups in a 0700 directory)."""

from __future__ import annotations

import stat
from pathlib import Path

from lynkr_cli import paths

KEY = "sk-ant-canary-key-AAAA1111"
ENV_SECRET = "canary-env-secret-BBBB2222"
HEADER_SECRET = "canary-header-secret-CCCC3333"
CANARIES = (KEY, ENV_SECRET, HEADER_SECRET)


def _clean(result: object) -> None:
    text = result.stdout + result.stderr  # type: ignore[attr-defined]
    for canary in CANARIES:
        assert canary not in text, (canary, text[:400])


def test_no_output_shows_a_secret(invoke, home: Path) -> None:
    (home / ".claude.json").write_text('{\n  "numStartups": 1\n}\n')
    runs = [
        ("switch", "add", "work", "--base-url", "http://127.0.0.1:9", "--key", KEY),
        ("switch", "mcp", "add", "db", "--env", f"DB_PASSWORD={ENV_SECRET}", "--", "db-mcp"),
        ("switch", "mcp", "add", "api", "--url", "http://127.0.0.1:9/mcp",
         "--header", f"Authorization=Bearer {HEADER_SECRET}"),
        ("switch", "work", "--dry-run"),
        ("switch", "work", "--dry-run", "--json"),
        ("switch", "work", "--json"),
        ("switch", "work"),
        ("switch",),
        ("switch", "--json"),
        ("switch", "show", "work", "--json"),
        ("switch", "current", "--json"),
        ("switch", "mcp", "list"),
        ("switch", "mcp", "list", "--json"),
        ("switch", "export", "work"),
        ("switch", "export", "work", "--json"),
        ("doctor", "--json"),
        ("doctor",),
        ("mcp", "list", "--json"),
        ("switch", "restore", "--json"),
    ]  # fmt: skip
    for argv in runs:
        result = invoke(*argv)
        assert result.exit_code in (0, 1), (argv, result.stderr)  # doctor may find failures
        _clean(result)


def test_files_holding_secrets_are_private(invoke, home: Path) -> None:
    claude_json = home / ".claude.json"
    claude_json.write_text("{}\n")
    claude_json.chmod(0o644)
    settings = home / ".claude" / "settings.json"
    settings.write_text("{}\n")
    settings.chmod(0o644)
    assert invoke("switch", "add", "w", "--base-url", "https://w.io", "--key", KEY).exit_code == 0
    mcp = ("switch", "mcp", "add", "db", "--env", f"DB_PASSWORD={ENV_SECRET}", "--", "db-mcp")
    assert invoke(*mcp).exit_code == 0
    assert invoke("switch", "w").exit_code == 0
    assert invoke("switch", "w", "--scope", "project").exit_code == 0
    for path in (claude_json, settings, Path.cwd() / ".mcp.json"):
        assert ENV_SECRET in path.read_text() or KEY in path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    backups = paths.state_dir() / "backups"
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    for copy in backups.iterdir():
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600, copy


def test_an_error_about_a_file_does_not_quote_it(invoke, home: Path) -> None:
    """A refused ~/.claude.json is named with its line and column, never its content."""
    (home / ".claude.json").write_text(f'{{"primaryApiKey": "{KEY}", "x": NaN}}')
    assert invoke("switch", "add", "w", "--base-url", "https://w.io").exit_code == 0
    assert invoke("switch", "mcp", "add", "t", "--", "t").exit_code == 0
    result = invoke("switch", "w")
    assert result.exit_code == 3 and "line 1, column" in result.stderr
    _clean(result)
    as_json = invoke("switch", "w", "--json")
    assert as_json.exit_code == 3
    _clean(as_json)
