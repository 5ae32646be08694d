"""What users type, checked where they type it (issue 16 items 11 and 19, issue 11's seed line).

- a Databricks workspace given as a bare host gets https:// (and says so); a trailing /v1
  in --base-url is refused with the fix;
- profile names keep their case, lookups ignore it;
- after a switch, rc-file and .env lines that still reach Claude Code are named;
- `export CLAUDE_CODE_ENDPOINT=…` (from the Lynkr article) is noticed by `lynkr switch`
  and `lynkr doctor`, which say to set ANTHROPIC_BASE_URL and how.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from lynkr_cli import paths

TOKEN = "dapi-0123456789abcdef0123"


def _ok(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return result


def test_a_workspace_without_scheme_gets_https(invoke, home: Path) -> None:
    result = _ok(
        invoke(
            "switch", "databricks", "--set", "workspace=adb-1.azuredatabricks.net",
            "--set", f"token={TOKEN}",
        )
    )  # fmt: skip
    assert "added https:// to 'adb-1.azuredatabricks.net'" in result.stderr
    toml = tomllib.loads((paths.config_dir() / "lynkr.toml").read_text())["provider"]
    assert toml["databricks"]["api_base"] == "https://adb-1.azuredatabricks.net"
    direct = _ok(
        invoke(
            "switch", "add", "direct", "--preset", "databricks-direct",
            "--set", "workspace=adb-2.azuredatabricks.net/", "--set", f"token={TOKEN}", "--json",
        )
    )  # fmt: skip
    url = json.loads(direct.stdout)["base_url"]
    assert url == "https://adb-2.azuredatabricks.net/serving-endpoints/anthropic"


def test_a_workspace_from_the_environment_is_fixed_and_the_source_named(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "adb-3.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    result = _ok(invoke("switch", "add", "d3", "--preset", "databricks-direct", "--json"))
    assert json.loads(result.stdout)["base_url"].startswith("https://adb-3.")
    assert "still reads the original from env DATABRICKS_HOST" in result.stderr


@pytest.mark.parametrize("bad", ["ftp://adb-1.net", "https://", "http://a b.net"])
def test_a_workspace_that_is_no_url_is_refused(invoke, home: Path, bad: str) -> None:
    result = invoke("switch", "databricks-direct", "--set", f"workspace={bad}", "--set", "token=x")
    assert result.exit_code == 2 and "is not an http(s) URL" in result.stderr
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


@pytest.mark.parametrize(
    ("given", "fix"),
    [
        ("https://gw.example.com/v1", "https://gw.example.com"),
        ("https://gw.example.com/v1/", "https://gw.example.com"),
        ("https://gw.example.com/api/v1/messages", "https://gw.example.com/api"),
    ],
)
def test_a_trailing_v1_is_refused_with_the_fix(invoke, home: Path, given: str, fix: str) -> None:
    result = invoke("switch", "add", "gw", "--base-url", given)
    assert result.exit_code == 2
    assert "Claude Code adds /v1/messages itself" in result.stderr
    assert f"--base-url {fix}" in result.stderr
    _ok(invoke("switch", "add", "gw", "--base-url", fix))
    assert invoke("switch", "edit", "gw", "--base-url", given).exit_code == 2


def test_a_base_url_without_scheme_is_refused_with_the_fix(invoke, home: Path) -> None:
    result = invoke("switch", "add", "gw", "--base-url", "gw.example.com")
    assert result.exit_code == 2 and "--base-url https://gw.example.com" in result.stderr


def test_names_keep_their_case_and_lookups_ignore_it(invoke, home: Path) -> None:
    _ok(invoke("switch", "add", "WorkGW", "--base-url", "https://w.io"))
    clash = invoke("switch", "add", "workgw", "--base-url", "https://other.io")
    assert clash.exit_code == 2 and "profile 'WorkGW' already exists" in clash.stderr
    assert json.loads(_ok(invoke("switch", "show", "WORKGW", "--json")).stdout)["name"] == "WorkGW"
    _ok(invoke("switch", "edit", "workgw", "--model", "m"))
    _ok(invoke("switch", "workgw"))
    listed = json.loads(invoke("switch", "--json").stdout)["profiles"]
    assert [(p["name"], p["active"], p["model"]) for p in listed] == [("WorkGW", ["user"], "m")]
    assert invoke("switch", "add", "Export", "--base-url", "https://x.io").exit_code == 2
    assert json.loads(_ok(invoke("switch", "rm", "WORKgw", "--json")).stdout) == {
        "deleted": "WorkGW"
    }


def test_a_switch_names_rc_and_dotenv_lines_that_still_reach_claude(invoke, home: Path) -> None:
    (home / ".bashrc").write_text(
        "export PATH=$PATH:~/bin\n"
        "export ANTHROPIC_AUTH_TOKEN=sk-stale-token-00000001\n"  # line 2: a second key
        "export ANTHROPIC_BASE_URL=https://w.io\n"  # line 3: same as the profile: fine
        "export CLAUDE_CODE_USE_BEDROCK=1\n"  # line 4
    )
    (Path.cwd() / ".env").write_text("ANTHROPIC_MODEL=old-model\n")
    _ok(invoke("switch", "add", "w", "--base-url", "https://w.io", "--key", "sk-w-1234567890"))
    result = _ok(invoke("switch", "w"))
    err = result.stderr
    assert f"ANTHROPIC_AUTH_TOKEN=****0001 in {home / '.bashrc'}:2 still reaches Claude" in err
    assert f"{home / '.bashrc'}:3" not in err
    assert f"CLAUDE_CODE_USE_BEDROCK=1 in {home / '.bashrc'}:4 makes Claude Code ignore" in err
    assert f"ANTHROPIC_MODEL=old-model in {Path.cwd() / '.env'}:1" in err
    assert "sk-stale-token" not in err


def test_claude_code_endpoint_is_noticed_by_switch(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / ".zshrc").write_text("export CLAUDE_CODE_ENDPOINT=http://localhost:8080\n")
    listed = _ok(invoke("switch"))
    assert "CLAUDE_CODE_ENDPOINT=http://localhost:8080" in listed.stderr
    assert "Fix: `lynkr switch lynkr`" in listed.stderr
    _ok(invoke("switch", "lynkr"))
    after = _ok(invoke("switch", "lynkr"))
    assert "CLAUDE_CODE_ENDPOINT" in after.stderr and "reads ANTHROPIC_BASE_URL" in after.stderr
    # Another URL: the fix is a profile for that URL.
    monkeypatch.setenv("CLAUDE_CODE_ENDPOINT", "http://10.0.0.5:9000/")
    other = _ok(invoke("switch"))
    assert "--base-url http://10.0.0.5:9000 --key lynkr-local" in other.stderr


def test_doctor_names_claude_code_endpoint_and_the_fix(
    invoke, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (Path.cwd() / ".env").write_text("CLAUDE_CODE_ENDPOINT=http://localhost:8080\n")
    monkeypatch.setenv("CLAUDE_CODE_ENDPOINT", "http://localhost:8080")
    result = invoke("doctor", "--only", "env.unread-vars", "--json")
    [check] = json.loads(result.stdout)["checks"]
    assert check["status"] == "warn"
    assert "does not read CLAUDE_CODE_ENDPOINT" in check["summary"]
    wheres = [f["where"] for f in check["details"]["findings"]]
    assert wheres == ["process environment", f"{Path.cwd() / '.env'}:1"]
    assert "Set ANTHROPIC_BASE_URL instead" in check["fix"] and "lynkr switch lynkr" in check["fix"]
    monkeypatch.delenv("CLAUDE_CODE_ENDPOINT")
    (Path.cwd() / ".env").unlink()
    clean = json.loads(invoke("doctor", "--only", "env.unread-vars", "--json").stdout)
    assert clean["checks"][0]["status"] == "ok"


def test_doctor_warns_about_literal_mcp_secrets(invoke, home: Path) -> None:
    secret = "ghp_literal_secret_0123456789"
    (Path.cwd() / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "gh": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": secret}},
                    "ok": {"command": "x", "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
                    "api": {"type": "http", "url": "https://x.io", "headers": {
                        "Authorization": "Bearer ${API_TOKEN}"}},
                }
            }
        )
    )  # fmt: skip
    (home / ".claude.json").write_text(
        json.dumps({"projects": {"/p": {"mcpServers": {"h": {"type": "http", "url": "https://h",
                    "headers": {"Authorization": f"Bearer {secret}"}}}}}})
    )  # fmt: skip
    result = invoke("doctor", "--only", "mcp-secrets", "--json")
    [check] = json.loads(result.stdout)["checks"]
    assert check["status"] == "warn" and "usually committed" in check["summary"]
    found = check["details"]["findings"]
    assert {(f["server"], f.get("env") or f.get("headers")) for f in found} == {
        ("gh", "GITHUB_TOKEN"),
        ("h", "Authorization"),
    }
    assert "${GITHUB_TOKEN}" in check["fix"]
    assert secret not in result.stdout + result.stderr
