"""`lynkr://` links carry a profile's MCP servers and prompt preset by name, secrets left out."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SECRET = "sk-link-secret-0123456789"
KEY = "sk-ant-profile-key-987654321"


def _ok(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return result


def _setup(invoke) -> None:
    _ok(invoke("switch", "prompt", "add", "reviewer", "--file", "-", input="Review.\n"))
    _ok(invoke("switch", "add", "work", "--base-url", "https://w.io", "--key", KEY,
               "--prompt", "reviewer"))  # fmt: skip
    _ok(invoke("switch", "mcp", "add", "db", "--profile", "work", "--env", f"DB_PASSWORD={SECRET}",
               "--env", "DB_HOST=${DB_HOST}", "--", "db-mcp"))  # fmt: skip
    _ok(invoke("switch", "mcp", "add", "api", "--url", "https://a.example.com/mcp",
               "--header", f"X-Key={SECRET}"))  # fmt: skip
    _ok(invoke("switch", "mcp", "add", "unused", "--disabled", "--", "x"))


def _params(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def test_export_carries_servers_and_preset_without_secrets(invoke, home: Path) -> None:
    _setup(invoke)
    doc = json.loads(_ok(invoke("switch", "export", "work", "--json")).stdout)
    assert doc["mcp_servers"] == ["api", "db"] and doc["prompt"] == "reviewer"
    link = doc["link"]
    assert SECRET not in link and KEY not in link
    params = _params(link)
    assert params["prompt"] == "reviewer"
    servers = json.loads(params["mcp"])
    assert servers["db"]["env"] == {"DB_PASSWORD": "", "DB_HOST": "${DB_HOST}"}
    assert servers["api"]["headers"] == {"X-Key": ""}
    full = json.loads(_ok(invoke("switch", "export", "work", "--include-secrets", "--json")).stdout)
    params = _params(full["link"])
    assert params["key"] == KEY
    assert json.loads(params["mcp"])["db"]["env"]["DB_PASSWORD"] == SECRET


def test_import_on_another_machine(invoke, home: Path, monkeypatch, tmp_path: Path) -> None:
    _setup(invoke)
    link = json.loads(invoke("switch", "export", "work", "--json").stdout)["link"]
    # Another machine: a fresh store, which already has its own "api" server.
    monkeypatch.setenv("LYNKR_HOME", str(tmp_path / "other-machine"))
    _ok(invoke("switch", "mcp", "add", "api", "--url", "https://mine.example.com/mcp"))
    result = _ok(invoke("switch", "import", link, "--json"))
    doc = json.loads(result.stdout)
    status = {s["name"]: s["status"] for s in doc["mcp_servers"]}
    assert status["api"].startswith("already here")
    assert "without values for DB_PASSWORD" in status["db"]
    assert "names prompt preset 'reviewer', which is not here" in result.stderr
    listed = {s["name"]: s for s in json.loads(invoke("switch", "mcp", "list", "--json").stdout)[
        "servers"
    ]}  # fmt: skip
    assert listed["api"]["url"] == "https://mine.example.com/mcp"  # by reference: ours kept
    assert listed["db"]["enabled"] == {"work": True}
    assert listed["db"]["env"]["DB_HOST"] == "${DB_HOST}"
    profile = json.loads(invoke("switch", "show", "work", "--json").stdout)
    assert profile["prompt"] == "reviewer" and profile["key"] == ""


def test_a_bad_mcp_parameter_is_a_usage_error(invoke, home: Path) -> None:
    bad = invoke("switch", "import", "lynkr://v1/import?name=x&base_url=https://x.io&mcp=%5B1%5D")
    assert bad.exit_code == 2 and "'mcp' is not a JSON object" in bad.stderr
    worse = invoke(
        "switch",
        "import",
        "lynkr://v1/import?name=y&base_url=https://x.io&mcp="
        + '{"s":{"type":"telepathy"}}'.replace('"', "%22"),
    )
    assert worse.exit_code == 2 and "unknown type" in worse.stderr
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []  # nothing saved
