"""`lynkr switch` as typed: the list, NAME and SUBCOMMAND shapes, presets on first use."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from lynkr_cli import paths
from tests.conftest import ROOT, require

KEY = "dapi-0123456789abcdef0123"


def test_no_profiles_lists_nothing_and_says_how(invoke, home: Path) -> None:
    result = invoke("switch")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "lynkr switch databricks" in result.stderr
    doc = json.loads(invoke("switch", "--json").stdout)
    assert doc["profiles"] == []


def test_list_marks_the_active_profile(invoke, home: Path) -> None:
    for name in ("alpha", "beta"):
        assert (
            invoke(
                "switch",
                "add",
                name,
                "--base-url",
                f"https://{name}.example.com",
                "--key",
                "sk-1234567890abcdef",
            ).exit_code
            == 0
        )
    assert invoke("switch", "use", "beta").exit_code == 0  # the explicit subcommand shape
    doc = json.loads(invoke("switch", "--json").stdout)
    active = {p["name"]: p["active"] for p in doc["profiles"]}
    assert active == {"alpha": [], "beta": ["user"]}
    assert all(p["key"] == "****cdef" for p in doc["profiles"])
    table = invoke("switch").stdout
    beta_line = next(line for line in table.splitlines() if "beta" in line)
    assert "*" in beta_line and "user" in beta_line
    assert "sk-1234567890abcdef" not in table


def test_name_shape_and_subcommands_coexist(invoke, home: Path) -> None:
    assert invoke("switch", "add", "work", "--base-url", "https://w.example.com").exit_code == 0
    assert invoke("switch", "work", "--json").exit_code == 0  # NAME shape, with options
    shown = json.loads(invoke("switch", "show", "work", "--json").stdout)
    assert shown["base_url"] == "https://w.example.com"
    assert invoke("switch", "current").exit_code == 0
    assert "Usage" in invoke("switch", "--help").stdout


def test_unknown_profile_is_not_found(invoke, home: Path) -> None:
    result = invoke("switch", "nosuchthing")
    assert result.exit_code == 6
    assert "no profile or preset named 'nosuchthing'" in result.stderr
    assert invoke("switch", "show", "nosuchthing").exit_code == 6
    assert invoke("switch", "rm", "nosuchthing").exit_code == 6


def test_reserved_and_invalid_names_are_refused(invoke, home: Path) -> None:
    assert invoke("switch", "add", "export", "--base-url", "https://x.io").exit_code == 2
    bad = invoke("switch", "add", "bad name", "--base-url", "https://x.io")
    assert bad.exit_code == 2 and "invalid profile name" in bad.stderr
    url = invoke("switch", "add", "x", "--base-url", "ftp://x.io")
    assert url.exit_code == 2 and "not an http(s) URL" in url.stderr
    managed = invoke("switch", "add", "y", "--env", "ANTHROPIC_MODEL=x")
    assert managed.exit_code == 2 and "profile's own fields" in managed.stderr


def test_databricks_preset_without_input_names_what_is_missing(invoke, home: Path) -> None:
    result = invoke("switch", "databricks")
    assert result.exit_code == 2
    assert "DATABRICKS_API_BASE" in result.stderr and "DATABRICKS_API_KEY" in result.stderr
    assert "--set workspace=" in result.stderr
    assert not (home / ".claude" / "settings.json").exists()
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


def test_databricks_preset_from_environment_works_first_time(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_API_BASE", "https://adb-1.azuredatabricks.net/")
    monkeypatch.setenv("DATABRICKS_API_KEY", KEY)
    result = invoke("switch", "databricks")
    assert result.exit_code == 0, result.stderr
    assert "created profile 'databricks'" in result.stderr
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env == {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8080",
        "ANTHROPIC_API_KEY": "lynkr-local",
    }
    assert KEY not in json.dumps(env)  # Claude Code never sees the Databricks token
    # Values from the environment are already where `lynkr serve` reads them; only the
    # provider choice is new, so that is what lands in the user lynkr.toml.
    toml = tomllib.loads((paths.config_dir() / "lynkr.toml").read_text())
    assert toml == {"provider": {"name": "databricks"}}


def test_databricks_from_flags_persists_gateway_settings(invoke, home: Path) -> None:
    result = invoke(
        "switch",
        "databricks",
        "--set",
        "workspace=https://adb-2.cloud.databricks.com/v1",
        "--set",
        f"token={KEY}",
    )
    assert result.exit_code == 0, result.stderr
    toml_path = paths.config_dir() / "lynkr.toml"
    data = tomllib.loads(toml_path.read_text())["provider"]["databricks"]  # its own table
    assert data["api_base"] == "https://adb-2.cloud.databricks.com"
    assert data["api_key"] == KEY
    assert oct(toml_path.stat().st_mode & 0o777) == "0o600"
    settings = json.loads(invoke("config", "show", "--json").stdout)["settings"]
    config = settings["provider.databricks"]
    assert config["api_base"]["value"] == "https://adb-2.cloud.databricks.com"


def test_databricks_direct_uses_the_serving_endpoint(invoke, home: Path) -> None:
    result = invoke(
        "switch",
        "databricks-direct",
        "--set",
        "workspace=https://adb-3.net",
        "--set",
        f"token={KEY}",
        "--scope",
        "project",
    )
    assert result.exit_code == 0, result.stderr
    env = json.loads((Path.cwd() / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_BASE_URL"] == "https://adb-3.net/serving-endpoints/anthropic"
    assert env["ANTHROPIC_AUTH_TOKEN"] == KEY
    assert env["ANTHROPIC_MODEL"] == "databricks-claude-sonnet-4-5"
    assert "ANTHROPIC_API_KEY" not in env
    unknown = invoke("switch", "add", "z", "--preset", "anthropic", "--set", "nope=1")
    assert unknown.exit_code == 2 and "has no input nope" in unknown.stderr


def test_preset_prompts_on_a_terminal(home: Path) -> None:
    """Run the real console script with a pty as stdin: it asks, then switches."""
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
    env.pop("DEEPSEEK_API_KEY", None)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "lynkr"), "switch", "deepseek"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path.cwd(),
        start_new_session=True,
    )
    os.close(secondary)
    try:
        # getpass flushes pending terminal input, then writes its own prompt to stderr:
        # type only after that, or the answer is discarded.
        assert proc.stdout is not None and proc.stderr is not None
        shown, asked = b"", b""
        deadline = time.monotonic() + 60
        # The prompt goes to stderr; getpass adds its own " " after switching echo off.
        while b"API key: " not in asked and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout, proc.stderr], [], [], 1.0)
            if proc.stdout in ready:
                shown += os.read(proc.stdout.fileno(), 1024)
            if proc.stderr in ready:
                asked += os.read(proc.stderr.fileno(), 1024)
        assert b"DeepSeek API key: " in asked
        os.write(primary, b"sk-deepseek-typed-secret-99\n")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(primary)
    assert proc.returncode == 0, err.decode()
    env_block = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env_block["ANTHROPIC_AUTH_TOKEN"] == "sk-deepseek-typed-secret-99"
    assert env_block["ANTHROPIC_BASE_URL"] == "https://api.deepseek.com/anthropic"
    assert b"sk-deepseek-typed-secret-99" not in shown + asked + out + err


def test_key_from_stdin_and_edit_rm(invoke, home: Path) -> None:
    result = invoke(
        "switch",
        "add",
        "p",
        "--base-url",
        "https://p.io",
        "--key",
        "-",
        input="sk-from-stdin-abcdef12\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "sk-from-stdin" not in result.stdout
    edited = invoke("switch", "edit", "p", "--model", "m1", "--env", "A=1", "--json")
    assert json.loads(edited.stdout)["model"] == "m1"
    assert json.loads(edited.stdout)["extra_env"] == {"A": "1"}
    dropped = invoke("switch", "edit", "p", "--unset-env", "A", "--json")
    assert json.loads(dropped.stdout)["extra_env"] == {}
    assert invoke("switch", "edit", "p").exit_code == 2  # nothing to change
    assert invoke("switch", "rm", "p", "--json").exit_code == 0
    assert invoke("switch", "show", "p").exit_code == 6


def test_presets_lists_the_shipped_data(invoke) -> None:
    doc = json.loads(invoke("switch", "presets", "--json").stdout)
    names = [p["name"] for p in doc]
    for name in (
        "databricks",
        "databricks-direct",
        "azure-anthropic",
        "anthropic",
        "lynkr",
        "openrouter",
        "deepseek",
        "kimi",
        "glm",
    ):
        assert name in names


# --------------------------------------------------------------------------- shell / run


def _shell_profile(invoke) -> None:
    tricky = 'it\'s $HOME `x` "q" \\ end'
    assert (
        invoke(
            "switch",
            "add",
            "sh",
            "--base-url",
            "https://s.io",
            "--key",
            "k-12345678901234",
            "--env",
            f"TRICKY={tricky}",
        ).exit_code
        == 0
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_exports_survive_a_real_shell(invoke, home: Path, shell: str) -> None:
    binary = shutil.which(shell)
    require(binary is not None, f"{shell} not installed (bash scripts/test-deps.sh installs it)")
    _shell_profile(invoke)
    result = invoke("switch", "sh", "--shell", shell)
    assert result.exit_code == 0, result.stderr
    assert not (home / ".claude" / "settings.json").exists()  # no file touched
    script = (
        result.stdout + 'printf "%s|%s|%s" "$TRICKY" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_AUTH_TOKEN"'
    )
    if shell == "fish":
        script = script.replace(
            '"$TRICKY" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_AUTH_TOKEN"',
            '$TRICKY $ANTHROPIC_BASE_URL "$ANTHROPIC_AUTH_TOKEN"',
        )
    env = {"PATH": os.environ["PATH"], "ANTHROPIC_AUTH_TOKEN": "stale"}
    out = subprocess.run(
        [binary, "-c", script], capture_output=True, text=True, env=env, timeout=30, check=True
    ).stdout
    assert out == 'it\'s $HOME `x` "q" \\ end|https://s.io|'


def test_powershell_quoting(invoke, home: Path) -> None:
    _shell_profile(invoke)
    out = invoke("switch", "sh", "--shell", "powershell").stdout
    assert "$env:TRICKY = 'it''s $HOME `x` \"q\" \\ end'" in out
    assert "Remove-Item Env:ANTHROPIC_AUTH_TOKEN -ErrorAction SilentlyContinue" in out
    bad = invoke("switch", "sh", "--shell", "tcsh")
    assert bad.exit_code == 2 and "unknown shell" in bad.stderr


def test_run_gives_one_process_the_profile_and_propagates_its_exit_code(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shell_profile(invoke)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "stale-token")
    monkeypatch.setenv("ANTHROPIC_MODEL", "stale-model")
    code = (
        "import json, os, sys; "
        "keys = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'ANTHROPIC_MODEL', 'TRICKY']; "
        "json.dump({k: os.environ.get(k) for k in keys}, open(sys.argv[1], 'w')); sys.exit(7)"
    )
    out = home / "seen.json"
    result = invoke("switch", "run", "sh", "--", sys.executable, "-c", code, str(out))
    assert result.exit_code == 7
    seen = json.loads(out.read_text())
    assert seen["ANTHROPIC_BASE_URL"] == "https://s.io"
    assert seen["ANTHROPIC_API_KEY"] == "k-12345678901234"
    assert seen["ANTHROPIC_MODEL"] is None  # the stale export is dropped
    assert seen["TRICKY"].startswith("it's")
    assert not (home / ".claude" / "settings.json").exists()
    missing = invoke("switch", "run", "sh", "--", "no-such-program-xyz")
    assert missing.exit_code == 2 and "command not found" in missing.stderr


def test_shell_mode_warns_when_a_settings_file_would_override(invoke, home: Path) -> None:
    _shell_profile(invoke)
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://elsewhere.example.com"}})
    )
    result = invoke("switch", "sh", "--shell", "bash")
    assert result.exit_code == 0
    assert "overrides shell exports" in result.stderr
    assert "export ANTHROPIC_BASE_URL='https://s.io'" in result.stdout


def test_bad_scope_creates_nothing(invoke, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deepseek-0000000000")
    result = invoke("switch", "deepseek", "--scope", "global")
    assert result.exit_code == 2 and "unknown scope" in result.stderr
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


def test_the_database_holding_keys_is_private(invoke, home: Path) -> None:
    import stat

    assert invoke("switch", "add", "k", "--base-url", "https://k.io", "--key", KEY).exit_code == 0
    db = paths.app_db_path()
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
