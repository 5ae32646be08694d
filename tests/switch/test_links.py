"""Share links (lynkr:// and cc-switch's ccswitch://) and import from cc-switch's database."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from lynkr_cli.switch import links

KEY = "sk-shared-key-0123456789"


def _add(invoke) -> None:
    result = invoke(
        "switch",
        "add",
        "team",
        "--base-url",
        "https://gw.example.com/anthropic",
        "--key",
        KEY,
        "--key-field",
        "ANTHROPIC_AUTH_TOKEN",
        "--model",
        "m-large",
        "--haiku-model",
        "m-small",
        "--env",
        "API_TIMEOUT_MS=600000",
        "--notes",
        "a & b = c",
    )
    assert result.exit_code == 0, result.stderr


def test_export_omits_the_key_unless_asked(invoke, home: Path) -> None:
    _add(invoke)
    link = invoke("switch", "export", "team").stdout.strip()
    assert link.startswith("lynkr://v1/import?")
    assert KEY not in link and "key=" not in link.replace("key_field", "")
    with_key = json.loads(invoke("switch", "export", "team", "--with-key", "--json").stdout)
    assert parse_qs(urlsplit(with_key["link"]).query)["key"] == [KEY]


def test_link_round_trip_restores_every_field(invoke, home: Path) -> None:
    _add(invoke)
    original = json.loads(invoke("switch", "show", "team", "--json").stdout)
    link = json.loads(invoke("switch", "export", "team", "--with-key", "--json").stdout)["link"]
    assert invoke("switch", "rm", "team").exit_code == 0
    result = invoke("switch", "import", link, "--json")
    assert result.exit_code == 0, result.stderr
    assert KEY not in result.stdout + result.stderr  # shown masked
    restored = json.loads(invoke("switch", "show", "team", "--json").stdout)
    assert restored == original
    # Activating the imported profile writes the original key.
    assert invoke("switch", "team").exit_code == 0
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env["ANTHROPIC_AUTH_TOKEN"] == KEY


def test_import_under_another_name_and_no_silent_overwrite(invoke, home: Path) -> None:
    _add(invoke)
    link = invoke("switch", "export", "team").stdout.strip()
    same = json.loads(invoke("switch", "import", link, "--json").stdout)
    assert same["imported"] == [] and "--replace" in same["skipped"][0]["reason"]
    copy = invoke("switch", "import", link, "--name", "team2", "--json")
    assert [p["name"] for p in json.loads(copy.stdout)["imported"]] == ["team2"]


def ccswitch_link(**params: str) -> str:
    base = {"resource": "provider", "app": "claude", "name": "My Relay"}
    return "ccswitch://v1/import?" + urlencode({**base, **params})


def test_ccswitch_provider_link_becomes_a_profile(invoke, home: Path) -> None:
    config = base64.b64encode(json.dumps({"env": {"API_TIMEOUT_MS": "3000000"}}).encode())
    url = ccswitch_link(
        endpoint="https://relay.example.com,https://backup.example.com",
        apiKey=KEY,
        model="glm-4.6",
        haikuModel="glm-4.5-air",
        config=config.decode(),
        homepage="https://relay.example.com",
        notes="shared by ops",
    )
    result = invoke("switch", "import", url, "--json")
    assert result.exit_code == 0, result.stderr
    profile = json.loads(result.stdout)["imported"][0]
    assert profile["name"] == "My-Relay"  # the case it was shared with is kept
    assert profile["base_url"] == "https://relay.example.com"  # the first endpoint is primary
    assert profile["key_field"] == "ANTHROPIC_AUTH_TOKEN"  # what cc-switch writes
    assert profile["key"] == "****6789"
    assert profile["model"] == "glm-4.6" and profile["haiku_model"] == "glm-4.5-air"
    assert profile["extra_env"] == {"API_TIMEOUT_MS": "3000000"}
    assert profile["notes"] == "shared by ops"


def test_risky_variables_are_flagged_and_need_yes(invoke, home: Path) -> None:
    config = {
        "env": {
            "NODE_OPTIONS": "--require /tmp/x.js",
            "HTTPS_PROXY": "http://evil:8080",
            "LD_PRELOAD": "/tmp/x.so",
        }
    }
    url = ccswitch_link(
        endpoint="https://r.example.com",
        apiKey=KEY,
        config=base64.urlsafe_b64encode(json.dumps(config).encode()).decode().rstrip("="),
    )
    refused = invoke("switch", "import", url, "--json")
    assert refused.exit_code == 0
    doc = json.loads(refused.stdout)
    assert doc["imported"] == [] and "risky" in doc["skipped"][0]["reason"]
    for name in ("NODE_OPTIONS", "HTTPS_PROXY", "LD_PRELOAD"):
        assert name in refused.stderr
    assert KEY not in refused.stderr
    accepted = invoke("switch", "import", url, "--yes", "--json")
    assert [p["name"] for p in json.loads(accepted.stdout)["imported"]] == ["My-Relay"]


def test_plain_http_to_a_remote_host_is_flagged(invoke, home: Path) -> None:
    url = ccswitch_link(endpoint="http://203.0.113.9:3000", apiKey=KEY)
    result = invoke("switch", "import", url)
    assert "in the clear" in result.stderr
    assert "skipped" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://v1/import?name=x", "unknown scheme"),
        ("lynkr://v2/import?name=x", "unsupported version"),
        ("lynkr://v1/export?name=x", "expected path /import"),
        ("lynkr://v1/import?base_url=https://x.io", "missing 'name'"),
        ("lynkr://v1/import?name=x&key_field=PASSWORD", "key_field must be one of"),
        ("lynkr://v1/import?name=x&extra=%5B1%5D", "'extra' is not a JSON object"),
        ("lynkr://v1/import?name=x&evil=1", "unknown parameter"),
        ("ccswitch://v1/import?resource=mcp&apps=claude", "only resource=provider"),
        ("ccswitch://v1/import?resource=provider&app=codex&name=x", "only app=claude"),
        ("ccswitch://v1/import?resource=provider&app=claude&name=x", "missing 'endpoint'"),
        (
            "ccswitch://v1/import?resource=provider&app=claude&name=x&endpoint=https://a.io"
            "&config=%%%",
            "not base64-encoded JSON",
        ),
        ("lynkr://v1/import?name=x&base_url=ftp://x", "not an http(s) URL"),
    ],
)
def test_invalid_links_are_refused(invoke, home: Path, url: str, message: str) -> None:
    result = invoke("switch", "import", url)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


def test_import_needs_a_link_or_the_database(invoke, home: Path) -> None:
    assert invoke("switch", "import").exit_code == 2


# --------------------------------------------------------------------------- cc-switch DB

# The shape of cc-switch's `providers` table (src-tauri/src/database/schema.rs).
CC_SCHEMA = """
CREATE TABLE providers (
    id TEXT NOT NULL, app_type TEXT NOT NULL, name TEXT NOT NULL,
    settings_config TEXT NOT NULL, website_url TEXT, category TEXT,
    created_at INTEGER, sort_index INTEGER, notes TEXT, icon TEXT, icon_color TEXT,
    meta TEXT NOT NULL DEFAULT '{}', is_current BOOLEAN NOT NULL DEFAULT 0,
    in_failover_queue BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (id, app_type)
);
"""


def make_ccswitch_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(CC_SCHEMA)
    rows = [
        (
            "kimi-1",
            "claude",
            "Kimi K2",
            {
                "env": {
                    "ANTHROPIC_BASE_URL": "https://api.moonshot.ai/anthropic",
                    "ANTHROPIC_AUTH_TOKEN": "sk-kimi-000000000001",
                    "ANTHROPIC_MODEL": "kimi-k2",
                    "ANTHROPIC_SMALL_FAST_MODEL": "kimi-k2-mini",
                }
            },
            1,
            0,
        ),
        ("official", "claude", "Claude Official", {"env": {}}, 0, 1),
        (
            "ds",
            "claude",
            "DeepSeek",
            {
                "env": {
                    "ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic",
                    "ANTHROPIC_API_KEY": "sk-ds-0000000000002",
                    "API_TIMEOUT_MS": 600000,
                }
            },
            0,
            2,
        ),
        ("codex-1", "codex", "Codex thing", {"auth": {"OPENAI_API_KEY": "x"}}, 1, 0),
        ("glm-a", "claude", "智谱 GLM", {"env": {"ANTHROPIC_BASE_URL": "https://a.z.ai"}}, 0, 3),
        ("glm-b", "claude", "GLM", {"env": {"ANTHROPIC_BASE_URL": "https://b.z.ai"}}, 0, 4),
    ]
    for pid, app, name, config, current, order in rows:
        conn.execute(
            "INSERT INTO providers (id, app_type, name, settings_config, sort_index, is_current,"
            " notes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pid, app, name, json.dumps(config), order, current, f"from {pid}"),
        )
    conn.commit()
    conn.close()
    return path


def test_import_from_cc_switch_database(invoke, home: Path) -> None:
    db = make_ccswitch_db(home / ".cc-switch" / "cc-switch.db")
    before = db.read_bytes()
    result = invoke("switch", "import", "--from-cc-switch", "--json")
    assert result.exit_code == 0, result.stderr
    imported = {p["name"]: p for p in json.loads(result.stdout)["imported"]}
    # No codex provider; names keep their case; two that sanitise alike are numbered.
    assert sorted(imported) == ["Claude-Official", "DeepSeek", "GLM", "GLM-2", "Kimi-K2"]
    assert imported["GLM"]["base_url"] == "https://a.z.ai"
    kimi = imported["Kimi-K2"]
    assert kimi["base_url"] == "https://api.moonshot.ai/anthropic"
    assert kimi["key_field"] == "ANTHROPIC_AUTH_TOKEN" and kimi["key"] == "****0001"
    assert kimi["haiku_model"] == "kimi-k2-mini"  # legacy small/fast mapped to haiku
    assert kimi["notes"] == "from kimi-1"
    assert imported["DeepSeek"]["key_field"] == "ANTHROPIC_API_KEY"
    assert imported["DeepSeek"]["extra_env"] == {"API_TIMEOUT_MS": "600000"}
    assert db.read_bytes() == before  # opened read-only
    assert "sk-kimi" not in result.stdout + result.stderr
    # Lookups ignore case: the imported "Kimi-K2" answers to kimi-k2, and a second import
    # does not create "kimi-k2" beside it.
    shown = invoke("switch", "show", "kimi-k2", "--json")
    assert json.loads(shown.stdout)["name"] == "Kimi-K2"
    assert invoke("switch", "kimi-k2").exit_code == 0
    assert json.loads(invoke("switch", "current", "--json").stdout)[0]["profile"] == "Kimi-K2"
    again = json.loads(invoke("switch", "import", "--from-cc-switch", "--json").stdout)
    assert again["imported"] == [] and len(again["skipped"]) == 5


def test_cc_switch_database_errors(invoke, home: Path, tmp_path: Path) -> None:
    missing = invoke("switch", "import", "--from-cc-switch")
    assert missing.exit_code == 6 and "no cc-switch database" in missing.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 50)
    bad = invoke("switch", "import", "--from-cc-switch", "--db", str(junk))
    assert bad.exit_code == 2 and "not a cc-switch database" in bad.stderr


def test_profile_from_env_maps_known_keys() -> None:
    profile = links.profile_from_env(
        "x", {"ANTHROPIC_API_KEY": "a", "ANTHROPIC_AUTH_TOKEN": "b", "OTHER": "1"}
    )
    assert profile.key_field == "ANTHROPIC_AUTH_TOKEN" and profile.key_value() == "b"
    assert profile.extra_env == {"OTHER": "1"}


def test_risky_import_asks_at_a_terminal(home: Path) -> None:
    """The real console script on a pty: the risky profile is saved only after 'y'."""
    import os
    import pty
    import select
    import subprocess
    import time

    from tests.conftest import ROOT

    config = base64.b64encode(json.dumps({"env": {"NODE_OPTIONS": "--require x"}}).encode())
    url = ccswitch_link(endpoint="https://r.example.com", apiKey=KEY, config=config.decode())
    lynkr = str(ROOT / ".venv" / "bin" / "lynkr")
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
    for answer, saved in ((b"n\n", False), (b"y\n", True)):
        primary, secondary = pty.openpty()
        proc = subprocess.Popen(
            [lynkr, "switch", "import", url, "--json"],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        os.close(secondary)
        try:
            asked, printed, deadline = b"", b"", time.monotonic() + 60
            while b"[y/N]" not in asked and time.monotonic() < deadline:
                ready, _, _ = select.select([proc.stdout, proc.stderr], [], [], 1.0)
                if proc.stderr in ready:
                    asked += os.read(proc.stderr.fileno(), 4096)  # prompts go to stderr
                if proc.stdout in ready:
                    printed += os.read(proc.stdout.fileno(), 4096)
            assert b"NODE_OPTIONS" in asked and b"[y/N]" in asked
            os.write(primary, answer)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
            os.close(primary)
        doc = json.loads(printed + out)  # stdout holds exactly the one JSON document
        assert KEY.encode() not in asked + printed + out + err
        assert bool(doc["imported"]) is saved
