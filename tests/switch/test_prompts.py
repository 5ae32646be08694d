"""Prompt presets: ~/.claude/CLAUDE.md gets lynkr's block, the user's text stays byte for byte."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

USER_TEXT = "# My rules\n\nAlways answer in French.\n  - keep   spacing\t\n\u00e9\u2603\n"
REVIEWER = "You are a careful reviewer.\nPoint at file:line.\n"


def _ok(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return result


@pytest.fixture
def presets(invoke, home: Path, tmp_path: Path) -> Path:
    source = tmp_path / "reviewer.md"
    source.write_text(REVIEWER)
    _ok(invoke("switch", "prompt", "add", "reviewer", "--file", str(source)))
    _ok(invoke("switch", "prompt", "add", "terse", "--file", "-", input="Be terse.\n"))
    return home / ".claude" / "CLAUDE.md"


def test_use_keeps_the_users_text_and_none_gives_it_back(invoke, presets: Path) -> None:
    presets.write_bytes(USER_TEXT.encode())
    _ok(invoke("switch", "prompt", "use", "reviewer"))
    text = presets.read_text()
    assert text.startswith(USER_TEXT)  # untouched, the block comes after
    assert '<!-- BEGIN lynkr prompt "reviewer"' in text and REVIEWER in text
    # Another preset replaces only the block.
    _ok(invoke("switch", "prompt", "use", "terse"))
    text = presets.read_text()
    assert text.startswith(USER_TEXT) and "Be terse." in text and "careful reviewer" not in text
    listed = json.loads(_ok(invoke("switch", "prompt", "list", "--json")).stdout)
    assert listed["active"] == "terse"
    assert [p["name"] for p in listed["presets"] if p["active"]] == ["terse"]
    _ok(invoke("switch", "prompt", "none"))
    assert presets.read_bytes() == USER_TEXT.encode()


def test_text_after_the_block_stays_too(invoke, presets: Path) -> None:
    _ok(invoke("switch", "prompt", "use", "reviewer"))
    presets.write_text(presets.read_text() + "\n## Added later by hand\n")
    _ok(invoke("switch", "prompt", "use", "terse"))
    assert presets.read_text().endswith("<!-- END lynkr prompt -->\n\n## Added later by hand\n")


def test_restore_gives_back_the_exact_bytes(invoke, presets: Path) -> None:
    original = b"no final newline here"
    presets.write_bytes(original)
    _ok(invoke("switch", "prompt", "use", "reviewer"))
    _ok(invoke("switch", "restore"))
    assert presets.read_bytes() == original


def test_a_new_file_is_created_and_restore_removes_it(invoke, presets: Path) -> None:
    assert not presets.exists()
    doc = json.loads(_ok(invoke("switch", "prompt", "use", "terse", "--json")).stdout)
    assert doc["written"] and presets.read_text().endswith("<!-- END lynkr prompt -->\n")
    _ok(invoke("switch", "restore"))
    assert not presets.exists()


def test_crlf_files_stay_crlf(invoke, presets: Path) -> None:
    presets.write_bytes(b"rule one\r\nrule two\r\n")
    _ok(invoke("switch", "prompt", "use", "reviewer"))
    data = presets.read_bytes()
    assert data.startswith(b"rule one\r\nrule two\r\n\r\n<!-- BEGIN")
    assert b"\n" not in data.replace(b"\r\n", b"")
    _ok(invoke("switch", "prompt", "none"))
    assert presets.read_bytes() == b"rule one\r\nrule two\r\n"


def test_half_a_marker_is_refused(invoke, presets: Path) -> None:
    broken = USER_TEXT + "<!-- END lynkr prompt -->\n"
    presets.write_text(broken)
    result = invoke("switch", "prompt", "use", "reviewer")
    assert result.exit_code == 2 and "marker without its partner" in result.stderr
    assert presets.read_text() == broken


def test_dry_run_writes_nothing(invoke, presets: Path) -> None:
    presets.write_text(USER_TEXT)
    result = _ok(invoke("switch", "prompt", "use", "reviewer", "--dry-run"))
    assert "+You are a careful reviewer." in result.stdout
    assert presets.read_text() == USER_TEXT


def test_show_list_rm_and_errors(invoke, presets: Path, tmp_path: Path) -> None:
    assert _ok(invoke("switch", "prompt", "show", "REVIEWER")).stdout == REVIEWER
    shown = json.loads(_ok(invoke("switch", "prompt", "show", "terse", "--json")).stdout)
    assert shown["text"] == "Be terse.\n"
    assert invoke("switch", "prompt", "show", "nope").exit_code == 6
    assert invoke("switch", "prompt", "use", "nope").exit_code == 6
    missing = invoke("switch", "prompt", "add", "x", "--file", str(tmp_path / "none.md"))
    assert missing.exit_code == 2 and "no file" in missing.stderr
    empty = invoke("switch", "prompt", "add", "x", "--file", "-", input="  \n")
    assert empty.exit_code == 2 and "is empty" in empty.stderr
    sneaky = invoke(
        "switch", "prompt", "add", "x", "--file", "-", input="<!-- END lynkr prompt -->"
    )
    assert sneaky.exit_code == 2 and "marker" in sneaky.stderr
    assert invoke("switch", "prompt", "add", "terse", "--file", "-", input="x").exit_code == 2
    _ok(invoke("switch", "prompt", "rm", "terse"))
    names = [p["name"] for p in json.loads(invoke("switch", "prompt", "list", "--json").stdout)[
        "presets"
    ]]  # fmt: skip
    assert names == ["reviewer"]


def test_a_profiles_preset_is_applied_on_a_user_switch(invoke, presets: Path, home: Path) -> None:
    presets.write_text(USER_TEXT)
    _ok(invoke("switch", "add", "work", "--base-url", "https://w.io", "--prompt", "reviewer"))
    _ok(invoke("switch", "work", "--scope", "project"))
    assert presets.read_text() == USER_TEXT  # user-level files change on user switches only
    result = _ok(invoke("switch", "work"))
    assert "prompt preset (CLAUDE.md)" in result.stdout
    assert REVIEWER in presets.read_text()
    _ok(invoke("switch", "edit", "work", "--prompt", "ghost"))
    warned = _ok(invoke("switch", "work"))
    assert "names prompt preset 'ghost', which does not exist here" in warned.stderr
    assert REVIEWER in presets.read_text()  # left as it was


def test_claude_config_dir_is_honoured(
    invoke, presets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "alt-claude"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    _ok(invoke("switch", "prompt", "use", "terse"))
    assert "Be terse." in (config / "CLAUDE.md").read_text()
    assert not presets.exists()


def test_import_from_cc_switch(invoke, home: Path) -> None:
    db = home / ".cc-switch" / "cc-switch.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE prompts (id TEXT NOT NULL, app_type TEXT NOT NULL, name TEXT NOT NULL,"
        " content TEXT NOT NULL, description TEXT, enabled BOOLEAN NOT NULL DEFAULT 1,"
        " created_at INTEGER, updated_at INTEGER, PRIMARY KEY (id, app_type))"
    )
    conn.executemany(
        "INSERT INTO prompts (id, app_type, name, content) VALUES (?, ?, ?, ?)",
        [
            ("p1", "claude", "Code Reviewer", "Review carefully."),
            ("p2", "codex", "Codex only", "x"),
            ("p3", "claude", "Empty", ""),
        ],
    )
    conn.commit()
    conn.close()
    doc = json.loads(_ok(invoke("switch", "prompt", "import", "--json")).stdout)
    assert [p["name"] for p in doc["imported"]] == ["Code-Reviewer"]
    assert doc["skipped"][0]["name"] == "Empty"
    assert _ok(invoke("switch", "prompt", "show", "code-reviewer")).stdout == "Review carefully.\n"
