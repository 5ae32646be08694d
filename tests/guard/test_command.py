"""``lynkr guard scan`` and ``lynkr guard kinds``: output, exit codes, bad input, settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.errors import ExitCode
from tests.conftest import fixture_path
from tests.guard.samples import GITHUB, PII, SECRETS, user


def saved(tmp_path: Path, body: Any, name: str = "request.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def test_a_clean_capture_exits_0(invoke: Any) -> None:
    result = invoke("guard", "scan", str(fixture_path("tool-loop.2.messages.json")))
    assert result.exit_code == 0 and "nothing found" in result.stdout


def test_findings_exit_1_with_kind_and_place_never_the_value(invoke: Any, tmp_path: Path) -> None:
    path = saved(tmp_path, user(SECRETS["github_token"][0] + " " + PII["email"][0]))
    result = invoke("guard", "scan", str(path))
    assert result.exit_code == 1
    assert "github_token" in result.stdout and "messages.0.content" in result.stdout
    assert "reported" in result.stdout and GITHUB not in result.stdout + result.stderr


def test_json_is_one_document(invoke: Any, tmp_path: Path) -> None:
    path = saved(tmp_path, user(SECRETS["github_token"][0]))
    result = invoke("guard", "scan", str(path), "--json", "--mode", "block")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["blocked"] is True and doc["mode"] == "block"
    assert doc["findings"] == [{"kind": "github_token", "location": "messages.0.content",
                                "count": 1, "redacted": False, "signed": False}]  # fmt: skip
    assert GITHUB not in result.stdout


def test_redact_writes_the_clean_body(invoke: Any, tmp_path: Path) -> None:
    capture = {"method": "POST", "path": "/v1/messages", "body": user(SECRETS["github_token"][0])}
    path, out = saved(tmp_path, capture), tmp_path / "clean.json"
    result = invoke("guard", "scan", str(path), "--mode", "redact", "--output", str(out))
    assert result.exit_code == 1 and "redacted" in result.stdout
    clean = json.loads(out.read_text())
    assert clean["messages"][0]["content"] == "token [REDACTED:github_token] in the remote"
    assert json.loads(path.read_text()) == capture  # the input file is untouched


def test_settings_choose_mode_and_kinds(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(tmp_path, user(PII["private_ip"][0]))
    assert invoke("guard", "scan", str(path)).exit_code == 0  # private_ip is opt-in
    monkeypatch.setenv("LYNKR_GUARD_KINDS", "secrets,private_ip")
    monkeypatch.setenv("LYNKR_GUARD_MODE", "block")
    result = invoke("guard", "scan", str(path), "--json")
    assert json.loads(result.stdout)["mode"] == "block" and result.exit_code == 1
    kinds = json.loads(invoke("guard", "kinds", "--json").stdout)["kinds"]
    assert {k["kind"] for k in kinds if k["on"]} >= {"private_ip", "github_token"}
    assert "email" not in {k["kind"] for k in kinds if k["on"]}


@pytest.mark.parametrize(
    ("args", "content", "code", "says"),
    [
        (["--mode", "deny"], "{}", ExitCode.USAGE, "unknown mode"),
        (["--kinds", "secrets,emails"], "{}", ExitCode.USAGE, "unknown guard kind 'emails'"),
        (["--output", "x.json"], "{}", ExitCode.USAGE, "--mode redact"),
        ([], "{not json", ExitCode.USAGE, "is not JSON"),
        ([], '{"model": "m"}', ExitCode.USAGE, "no 'messages' or 'system'"),
        ([], "[1, 2]", ExitCode.USAGE, "no 'messages' or 'system'"),
    ],
)
def test_bad_input_is_a_clear_usage_error(
    invoke: Any, tmp_path: Path, args: list[str], content: str, code: int, says: str
) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    result = invoke("guard", "scan", str(path), *args)
    assert result.exit_code == code and says in result.stderr


def test_missing_file_is_not_found(invoke: Any, tmp_path: Path) -> None:
    result = invoke("guard", "scan", str(tmp_path / "nope.json"))
    assert result.exit_code == ExitCode.NOT_FOUND and "no file" in result.stderr


def test_a_real_process_reads_stdin_and_writes_stdout(tmp_path: Path) -> None:
    body = json.dumps(user(SECRETS["github_token"][0]))
    proc = subprocess.run(
        [sys.executable, "-m", "lynkr_cli", "guard", "scan", "-", "--mode", "redact", "-o", "-"],
        input=body, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["messages"][0]["content"].startswith("token [REDACTED:")
    assert "github_token" in proc.stderr and GITHUB not in proc.stdout + proc.stderr
