"""The credentials check runs provider.token_command once, as the gateway would."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

TOKEN = "eyJ0eXAiOiJKV1QifQ.doctor-token-0123456789abcdef"


def command(tmp_path: Path, body: str) -> str:
    script = tmp_path / "helper.py"
    script.write_text("import sys\n" + body)
    return shlex.join([sys.executable, str(script)])


def azure(monkeypatch, cmd: str) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "azure-anthropic")
    monkeypatch.setenv("AZURE_ANTHROPIC_ENDPOINT", "https://r.services.ai.azure.com/anthropic")
    monkeypatch.setenv("LYNKR_TOKEN_COMMAND", cmd)


def test_a_working_token_command_is_ok_and_the_token_is_not_shown(
    doctor, home: Path, monkeypatch, tmp_path: Path
) -> None:
    azure(
        monkeypatch,
        command(tmp_path, f'print(\'{{"accessToken": "{TOKEN}", "expires_in": 3600}}\')'),
    )
    code, checks, raw = doctor("--only", "credentials")
    assert code == 0 and checks["credentials"]["status"] == "ok"
    assert "bearer token" in checks["credentials"]["summary"]
    assert "3540s" in checks["credentials"]["summary"]  # an hour minus the minute's margin
    assert TOKEN not in raw


def test_a_failing_token_command_fails_with_its_redacted_reason_and_the_fix(
    doctor, home: Path, monkeypatch, tmp_path: Path
) -> None:
    body = f"print('ERROR: Please run az login. cached {TOKEN}', file=sys.stderr); sys.exit(1)"
    azure(monkeypatch, command(tmp_path, body))
    code, checks, raw = doctor("--only", "credentials")
    assert code == 1
    result = checks["credentials"]
    assert result["status"] == "fail"
    assert "exited with status 1: ERROR: Please run az login" in result["summary"]
    assert "LYNKR_TOKEN_COMMAND" in result["fix"]
    assert TOKEN not in raw


def test_a_missing_key_suggests_the_token_command(doctor, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "databricks")
    monkeypatch.setenv("DATABRICKS_API_BASE", "https://adb.example.com")
    _, checks, _ = doctor("--only", "credentials")
    assert "LYNKR_TOKEN_COMMAND" in checks["credentials"]["fix"]


def test_native_anthropic_with_a_token_command_warns_it_is_unused(
    doctor, home: Path, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "anthropic")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-doctor-0000000000")
    monkeypatch.setenv("LYNKR_TOKEN_COMMAND", command(tmp_path, "print('x')"))
    _, checks, _ = doctor("--only", "credentials")
    assert checks["credentials"]["status"] == "warn"
