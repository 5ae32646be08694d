"""Doctor finds every competing source of Claude Code's variables, with file:line, masked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import require, tool_path

API_KEY = "sk-ant-api03-secretvalue-abcd"
TOKEN = "sk-token-secretvalue-wxyz"
PRIMARY = "sk-ant-primary-secret-9876"


@pytest.fixture
def messy_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (home / ".bashrc").write_text(
        "# my bashrc\nalias ll='ls -l'\nexport ANTHROPIC_BASE_URL=https://proxy.example.com/v1\n"
        "# export ANTHROPIC_MODEL=commented-out\n"
    )
    (home / ".zshrc").write_text(f'export PATH=$PATH:/opt\nANTHROPIC_API_KEY="{API_KEY}"\n')
    fish = home / ".config" / "fish"
    fish.mkdir(parents=True)
    (fish / "config.fish").write_text(f"set -gx ANTHROPIC_AUTH_TOKEN '{TOKEN}'\n")
    (home / ".claude.json").write_text(
        json.dumps({"numStartups": 3, "primaryApiKey": PRIMARY, "projects": {}})
    )
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://user.example.com"}})
    )
    project = Path.cwd() / ".claude"
    project.mkdir()
    (project / "settings.local.json").write_text(
        json.dumps(
            {
                "env": {
                    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9/v1/messages",
                    "ANTHROPIC_AUTH_TOKEN": TOKEN,
                }
            }
        )
    )
    (Path.cwd() / ".env").write_text(f"ANTHROPIC_API_KEY={API_KEY}\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    return home


def test_every_conflict_is_reported_with_its_place(doctor, messy_home: Path) -> None:
    code, checks, raw = doctor("--only", "claude")
    assert code == 1  # the /v1 base URLs are failures
    for secret in (API_KEY, TOKEN, PRIMARY):
        assert secret not in raw
    rc = checks["env.rc-files"]
    assert rc["status"] == "warn" and rc["fix"]
    places = {
        f["where"].replace(str(messy_home), "~"): f["name"] for f in rc["details"]["findings"]
    }
    assert places == {
        "~/.bashrc:3": "ANTHROPIC_BASE_URL",
        "~/.zshrc:2": "ANTHROPIC_API_KEY",
        "~/.config/fish/config.fish:1": "ANTHROPIC_AUTH_TOKEN",
    }
    assert checks["env.process"]["status"] == "warn"
    assert "****abcd" in checks["env.process"]["summary"]
    assert checks["env.dotenv"]["status"] == "warn"
    assert checks["env.claude-json"]["status"] == "warn"
    assert "/logout" in checks["env.claude-json"]["fix"]
    assert checks["env.claude-settings"]["status"] == "warn"  # user and local disagree
    assert checks["env.auth-both"]["status"] == "warn"
    base = checks["base-url"]
    assert base["status"] == "fail"
    assert "/v1/v1/messages" in base["summary"]
    assert ".bashrc:3" in base["summary"] and "settings.local.json" in base["summary"]


def test_every_non_ok_result_has_a_fix(doctor, messy_home: Path) -> None:
    _, checks, _ = doctor()
    for name, result in checks.items():
        if result["status"] in ("warn", "fail"):
            assert result["fix"], name


def test_clean_environment_is_ok(doctor, home: Path) -> None:
    code, checks, _ = doctor("--only", "claude", "--only", "settings")
    for name in (
        "base-url",
        "env.process",
        "env.rc-files",
        "env.dotenv",
        "env.claude-json",
        "env.claude-settings",
        "env.auth-both",
        "settings",
    ):
        assert checks[name]["status"] == "ok", (name, checks[name])
    # claude is not on this PATH: a warning, which fails only with --strict.
    assert checks["claude-code"]["status"] in ("ok", "warn")
    if checks["claude-code"]["status"] == "warn":
        assert code == 0
        assert doctor("--only", "claude", "--strict")[0] == 1


def test_claude_code_version_and_target(doctor, home: Path, monkeypatch) -> None:
    claude = tool_path("claude")
    require(claude is not None, "Claude Code CLI not installed (bash scripts/test-deps.sh)")
    monkeypatch.setenv("PATH", f"{claude.parent}{os.pathsep}{os.environ['PATH']}")
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8765"}})
    )
    _, checks, _ = doctor("--only", "claude-code")
    result = checks["claude-code"]
    assert result["status"] == "ok"
    assert "2.1" in result["details"]["version"]
    assert result["details"]["base_url"] == "http://127.0.0.1:8765"
    assert "settings.json (user)" in result["details"]["base_url_source"]


def test_invalid_settings_fail_and_others_skip(doctor, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PORT", "not-a-port")
    code, checks, _ = doctor("--only", "settings", "--only", "provider", "--only", "gateway")
    assert code == 1
    assert checks["settings"]["status"] == "fail"
    assert "LYNKR_PORT" in checks["settings"]["summary"]
    assert checks["credentials"]["status"] == "skip"
    assert checks["gateway"]["status"] == "skip"


def test_missing_provider_credentials_name_the_variable(doctor, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "databricks")
    monkeypatch.setenv("DATABRICKS_API_BASE", "https://adb.example.com")
    code, checks, _ = doctor("--only", "credentials")
    assert code == 1
    assert checks["credentials"]["summary"] == "provider 'databricks' lacks DATABRICKS_API_KEY"
    monkeypatch.setenv("DATABRICKS_API_KEY", "dapi-secret-0000000000")
    code, checks, raw = doctor("--only", "credentials")
    assert code == 0 and checks["credentials"]["status"] == "ok"
    assert "dapi-secret" not in raw


def test_human_table_and_exit_code(invoke, messy_home: Path) -> None:
    result = invoke("doctor", "--only", "claude", "--timeout", "2")
    assert result.exit_code == 1
    assert "env.rc-files" in result.stdout and "fail" in result.stdout
    assert API_KEY not in result.stdout


def test_openai_on_this_machine_needs_no_key(doctor, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_ENDPOINT", "http://127.0.0.1:8000/v1/chat/completions")
    assert doctor("--only", "credentials")[1]["credentials"]["status"] == "ok"
    monkeypatch.setenv("OPENAI_ENDPOINT", "https://api.openai.com/v1/chat/completions")
    _, checks, _ = doctor("--only", "credentials")
    assert (
        checks["credentials"]["status"] == "fail"
        and "OPENAI_API_KEY" in checks["credentials"]["summary"]
    )


def test_switch_check_notices_a_settings_file_edited_after_a_switch(
    invoke, doctor, home: Path
) -> None:
    _, checks, _ = doctor("--only", "switch")
    assert checks["switch"]["status"] == "skip"
    added = invoke("switch", "add", "w", "--base-url", "https://w.example.com", "--key", API_KEY)
    assert added.exit_code == 0
    assert invoke("switch", "w").exit_code == 0
    _, checks, _ = doctor("--only", "switch")
    assert checks["switch"]["status"] == "ok" and "user: w" in checks["switch"]["summary"]
    path = home / ".claude" / "settings.json"
    data = json.loads(path.read_text())
    data["env"]["ANTHROPIC_BASE_URL"] = "https://hand-edited.example.com"
    path.write_text(json.dumps(data))
    _, checks, raw = doctor("--only", "switch")
    assert checks["switch"]["status"] == "warn"
    assert "`lynkr switch w --scope user`" in checks["switch"]["fix"]
    assert API_KEY not in raw


def test_unknown_provider_fails_with_the_known_names(doctor, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "bedrock-someday")
    code, checks, _ = doctor("--only", "credentials")
    assert code == 1
    assert "databricks" in checks["credentials"]["fix"]


def test_third_party_cloud_switch_and_api_key_helper(doctor, home: Path, monkeypatch) -> None:
    _, checks, _ = doctor("--only", "claude")
    assert checks["env.third-party"]["status"] == "ok"
    assert checks["env.api-key-helper"]["status"] == "ok"
    monkeypatch.setenv("CLAUDE_CODE_USE_VERTEX", "0")
    assert doctor("--only", "claude")[1]["env.third-party"]["status"] == "ok"
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"apiKeyHelper": "~/bin/get-key.sh", "env": {"CLAUDE_CODE_USE_BEDROCK": "1"}})
    )
    _, checks, _ = doctor("--only", "claude")
    third = checks["env.third-party"]
    assert third["status"] == "warn" and "CLAUDE_CODE_USE_BEDROCK" in third["summary"]
    assert "settings.json (user)" in third["summary"]
    helper = checks["env.api-key-helper"]
    assert helper["status"] == "warn" and "~/bin/get-key.sh" in helper["summary"]
    (home / ".claude" / "settings.json").write_text(
        json.dumps({"apiKeyHelper": "echo sk-ant-pasted-into-helper-0001"})
    )
    _, checks, raw = doctor("--only", "claude")
    assert "sk-ant-pasted" not in raw and "echo ****" in checks["env.api-key-helper"]["summary"]


def test_invalid_claude_settings_file_fails(doctor, home: Path) -> None:
    _, checks, _ = doctor("--only", "claude")
    assert checks["env.settings-json"]["status"] == "ok"
    project = Path.cwd() / ".claude"
    project.mkdir()
    (project / "settings.json").write_text('{"env": {"ANTHROPIC_BASE_URL": "x",}}')
    code, checks, _ = doctor("--only", "claude")
    result = checks["env.settings-json"]
    assert code == 1 and result["status"] == "fail"
    assert "settings.json is not valid JSON (line 1" in result["summary"]
    assert "ignores an invalid settings file" in result["fix"]
