"""Switching writes only lynkr's env keys, atomically, 0600, with a backup; restore undoes it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from tests.switch.conftest import USER_SETTINGS

KEY = "sk-ant-test-key-abcdefgh1234"


def add_profile(invoke, name="work", *extra: str) -> None:
    result = invoke(
        "switch",
        "add",
        name,
        "--base-url",
        "http://127.0.0.1:8080",
        "--key",
        KEY,
        "--model",
        "claude-sonnet-4-5",
        *extra,
    )
    assert result.exit_code == 0, result.stderr


def test_switch_keeps_every_other_key_and_its_bytes(invoke, user_settings: Path) -> None:
    add_profile(invoke)
    result = invoke("switch", "work")
    assert result.exit_code == 0, result.stderr
    after = json.loads(user_settings.read_text())
    # Same keys, same order, and every non-env value byte-identical.
    assert list(after) == list(USER_SETTINGS)
    for key, value in USER_SETTINGS.items():
        if key != "env":
            assert json.dumps(after[key]) == json.dumps(value), key
    env = after["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8080"
    assert env["ANTHROPIC_API_KEY"] == KEY
    assert env["ANTHROPIC_MODEL"] == "claude-sonnet-4-5"
    # Stale keys gone: the other auth variable, and the legacy small/fast model.
    assert "ANTHROPIC_AUTH_TOKEN" not in env
    assert "ANTHROPIC_SMALL_FAST_MODEL" not in env
    # Unmanaged env keys stay, in their order.
    others = [k for k in env if not k.startswith("ANTHROPIC_")]
    assert others == ["DISABLE_TELEMETRY", "BASH_DEFAULT_TIMEOUT_MS"]
    assert list(env).index("ANTHROPIC_BASE_URL") < list(env).index("BASH_DEFAULT_TIMEOUT_MS")
    assert user_settings.read_text().startswith('{\n  "$schema"')  # indentation 2 kept
    assert stat.S_IMODE(user_settings.stat().st_mode) == 0o600
    assert KEY not in result.stdout + result.stderr


def test_backup_then_restore_brings_back_the_exact_bytes(invoke, user_settings: Path) -> None:
    original = user_settings.read_bytes()
    add_profile(invoke)
    result = invoke("switch", "work", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["written"] and doc["backup"]
    assert Path(doc["backup"]).read_bytes() == original
    assert Path(doc["backup"]).parent.name == "backups"
    assert user_settings.read_bytes() != original
    restored = invoke("switch", "restore", "--json")
    assert restored.exit_code == 0, restored.stderr
    assert user_settings.read_bytes() == original
    # Nothing left to restore.
    again = invoke("switch", "restore")
    assert again.exit_code == 6
    assert "no backup" in again.stderr


def test_switching_between_profiles_drops_the_old_extras(invoke, user_settings: Path) -> None:
    add_profile(invoke, "one", "--env", "API_TIMEOUT_MS=600000")
    assert (
        invoke(
            "switch",
            "add",
            "two",
            "--base-url",
            "https://api.example.com",
            "--key",
            "tok-2222222222222",
            "--key-field",
            "ANTHROPIC_AUTH_TOKEN",
        ).exit_code
        == 0
    )
    assert invoke("switch", "one").exit_code == 0
    assert json.loads(user_settings.read_text())["env"]["API_TIMEOUT_MS"] == "600000"
    assert invoke("switch", "two").exit_code == 0
    env = json.loads(user_settings.read_text())["env"]
    assert "API_TIMEOUT_MS" not in env
    assert "ANTHROPIC_API_KEY" not in env and "ANTHROPIC_MODEL" not in env
    assert env["ANTHROPIC_AUTH_TOKEN"] == "tok-2222222222222"
    assert env["DISABLE_TELEMETRY"] == "1"


def test_dry_run_shows_a_masked_diff_and_writes_nothing(invoke, user_settings: Path) -> None:
    before = user_settings.read_bytes()
    add_profile(invoke)
    result = invoke("switch", "work", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert user_settings.read_bytes() == before
    assert '+    "ANTHROPIC_API_KEY": "****1234"' in result.stdout
    assert '-    "ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku",' in result.stdout
    assert KEY not in result.stdout
    assert "sk-old-token-0000000000" not in result.stdout


def test_project_and_local_scopes_create_their_files(invoke, home: Path) -> None:
    add_profile(invoke)
    assert invoke("switch", "work", "--scope", "project").exit_code == 0
    assert invoke("switch", "work", "--scope", "local").exit_code == 0
    project = Path.cwd() / ".claude" / "settings.json"
    local = Path.cwd() / ".claude" / "settings.local.json"
    assert json.loads(project.read_text()) == json.loads(local.read_text())
    assert not (home / ".claude" / "settings.json").exists()
    current = json.loads(invoke("switch", "current", "--json").stdout)
    assert [(c["scope"], c["profile"], c["in_sync"]) for c in current] == [
        ("user", None, False),
        ("project", "work", True),
        ("local", "work", True),
    ]
    listed = json.loads(invoke("switch", "--json").stdout)["profiles"]
    assert listed[0]["active"] == ["project", "local"]
    # Restoring a file the switch created removes it again.
    assert invoke("switch", "restore", "--scope", "local").exit_code == 0
    assert not local.exists()


def test_user_scope_warns_when_a_project_file_overrides_it(invoke, home: Path) -> None:
    add_profile(invoke)
    claude = Path.cwd() / ".claude"
    claude.mkdir()
    (claude / "settings.local.json").write_text('{"env": {"ANTHROPIC_BASE_URL": "http://x"}}')
    result = invoke("switch", "work")
    assert result.exit_code == 0
    assert "overrides this user setting" in result.stderr


def test_corrupt_settings_file_is_refused_and_left_alone(invoke, home: Path) -> None:
    path = home / ".claude" / "settings.json"
    path.write_text('{"statusLine": {"type": "command",}\n')
    before = path.read_bytes()
    add_profile(invoke)
    result = invoke("switch", "work")
    assert result.exit_code == 3
    assert "is not valid JSON" in result.stderr and "will not overwrite" in result.stderr
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".settings.json.*"))  # no temp file left


def test_non_object_settings_file_is_refused(invoke, home: Path) -> None:
    path = home / ".claude" / "settings.json"
    path.write_text("[1, 2]\n")
    add_profile(invoke)
    result = invoke("switch", "work")
    assert result.exit_code == 3
    assert "not an object" in result.stderr
    assert path.read_text() == "[1, 2]\n"


def test_unwritable_settings_directory_is_a_clear_error(invoke, home: Path) -> None:
    # Tests run as root, so chmod would not stop the write: make ~/.claude a regular
    # file instead, which no user (root included) can create a file under.
    claude = home / ".claude"
    os.rmdir(claude)
    claude.write_text("not a directory")
    add_profile(invoke)
    result = invoke("switch", "work")
    assert result.exit_code == 3
    assert "is a file, not a directory" in result.stderr
    assert claude.read_text() == "not a directory"


def test_symlinked_settings_file_stays_a_symlink(invoke, home: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "claude-settings.json"
    real.write_text('{"model": "opus"}\n')
    link = home / ".claude" / "settings.json"
    link.symlink_to(real)
    add_profile(invoke)
    assert invoke("switch", "work").exit_code == 0
    assert link.is_symlink()
    assert json.loads(real.read_text())["env"]["ANTHROPIC_API_KEY"] == KEY


def test_backups_are_pruned_and_restore_walks_back(
    invoke, user_settings: Path, monkeypatch
) -> None:
    from lynkr_cli.switch import backups

    monkeypatch.setattr(backups, "KEEP_BACKUPS", 3)
    add_profile(invoke, "one")
    add_profile(invoke, "two", "--env", "X=2")
    states = []
    for name in ("one", "two", "one", "two", "one"):
        states.append(user_settings.read_bytes())
        assert invoke("switch", name).exit_code == 0
    assert len(list(backups.backup_dir().glob("*-settings.json"))) == 3
    for expected in reversed(states[-3:]):
        assert invoke("switch", "restore").exit_code == 0
        assert user_settings.read_bytes() == expected
    assert invoke("switch", "restore").exit_code == 6


def test_restore_keeps_a_copy_of_what_it_replaces(invoke, user_settings: Path) -> None:
    add_profile(invoke)
    assert invoke("switch", "work").exit_code == 0
    edited = user_settings.read_text().replace('"opus"', '"sonnet"')
    user_settings.write_text(edited)  # the user edits after switching
    doc = json.loads(invoke("switch", "restore", "--json").stdout)
    assert Path(doc["replaced_copy"]).read_text() == edited
    assert json.loads(user_settings.read_text()) == USER_SETTINGS


def test_concurrent_switches_leave_file_and_record_in_agreement(
    invoke, user_settings: Path
) -> None:
    """Real processes racing: the file must stay valid and match what the DB says is active."""
    import subprocess
    import sys

    add_profile(invoke, "one", "--env", "ONLY_ONE=1")
    add_profile(invoke, "two", "--env", "ONLY_TWO=2")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lynkr_cli", "switch", name],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ["one", "two"] * 2
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    env = json.loads(user_settings.read_text())["env"]
    assert ("ONLY_ONE" in env) != ("ONLY_TWO" in env)  # never a mix of both profiles
    current = json.loads(invoke("switch", "current", "--json").stdout)[0]
    assert current["in_sync"] is True
    assert current["profile"] == ("one" if "ONLY_ONE" in env else "two")


def test_layout_is_kept_bom_crlf_tabs_and_no_rewrite_without_change(invoke, home: Path) -> None:
    path = home / ".claude" / "settings.json"
    original = '\ufeff{\r\n\t"model": "opus",\r\n\t"env": {\r\n\t\t"A": "1"\r\n\t}\r\n}'
    path.write_bytes(original.encode("utf-8"))
    add_profile(invoke)
    assert invoke("switch", "work").exit_code == 0
    text = path.read_bytes().decode("utf-8")
    # New keys go first in env, so the existing "A" line is untouched.
    assert text.startswith('\ufeff{\r\n\t"model": "opus",\r\n\t"env": {\r\n\t\t"ANTHROPIC_')
    assert text.endswith('\r\n\t\t"A": "1"\r\n\t}\r\n}')
    assert "\n" not in text.replace("\r\n", "")  # every line ending stayed CRLF
    assert not text.endswith("\n")  # no final newline, as before
    # Reformat by hand: same content, other layout. A second switch must not rewrite it.
    compact = json.dumps(json.loads(text.removeprefix("\ufeff")), separators=(",", ":"))
    path.write_text(compact)
    result = invoke("switch", "work", "--json")
    assert json.loads(result.stdout)["written"] is False
    assert path.read_text() == compact


def test_switch_warns_about_what_would_bypass_the_profile(invoke, home: Path, monkeypatch) -> None:
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"apiKeyHelper": "/usr/local/bin/key", "env": {"X": "1"}})
    )
    monkeypatch.setenv("CLAUDE_CODE_USE_BEDROCK", "1")
    add_profile(invoke)
    result = invoke("switch", "work")
    assert result.exit_code == 0
    assert (
        "CLAUDE_CODE_USE_BEDROCK in process environment makes Claude Code ignore" in result.stderr
    )
    assert "apiKeyHelper in" in result.stderr
