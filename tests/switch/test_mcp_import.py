"""`lynkr switch mcp import`: every source `lynkr mcp list` reads, and cc-switch's database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

SECRET = "sk-mcp-secret-abcdef0123"


def _ok(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return result


def test_import_from_every_discovered_source(invoke, home: Path, xdg: Path) -> None:
    desktop = xdg / "Claude" / "claude_desktop_config.json"
    desktop.parent.mkdir(parents=True)
    desktop.write_text(json.dumps({"mcpServers": {"fs": {"command": "npx", "args": ["fs"]}}}))
    (home / ".claude.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "github": {
                        "type": "http",
                        "url": "https://api.example.com/mcp",
                        "headers": {"Authorization": "Bearer ${GITHUB_TOKEN}"},
                    },
                    "fs-again": {"command": "npx", "args": ["fs"]},  # same as "fs"
                }
            }
        )
    )
    (Path.cwd() / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"db": {"command": "db-mcp", "env": {"DB_PASSWORD": SECRET}}}})
    )
    (Path.cwd() / "lynkr.toml").write_text('[mcp.servers.time]\ncommand = "mcp-server-time"\n')
    result = _ok(invoke("switch", "mcp", "import", "--json"))
    doc = json.loads(result.stdout)
    imported = {s["name"]: s for s in doc["imported"]}
    assert sorted(imported) == ["db", "fs", "github", "time"]
    assert [s["name"] for s in doc["skipped"]] == ["fs-again"]
    assert "same as 'fs'" in doc["skipped"][0]["reason"]
    # A reference stays a reference (shown as is), a literal is a secret (masked).
    assert imported["github"]["headers"] == {"Authorization": "Bearer ${GITHUB_TOKEN}"}
    assert imported["db"]["env"] == {"DB_PASSWORD": "****0123"}
    assert SECRET not in result.stdout + result.stderr
    listed = json.loads(invoke("switch", "mcp", "list", "--json").stdout)["servers"]
    assert all(s["enabled"] == {} for s in listed)  # imported, not enabled
    again = json.loads(_ok(invoke("switch", "mcp", "import", "--json")).stdout)
    assert again["imported"] == []
    assert {s["reason"] for s in again["skipped"]} >= {"already in lynkr's store"}


def test_import_with_enable_then_switch_adopts_nothing_it_did_not_write(invoke, home: Path) -> None:
    """Servers imported from ~/.claude.json and enabled are already there: a switch leaves
    them as they are, and never removes them later, since lynkr did not write them."""
    path = home / ".claude.json"
    original = json.dumps({"mcpServers": {"t": {"command": "mcp-server-time"}}}, indent=2) + "\n"
    path.write_text(original)
    _ok(invoke("switch", "mcp", "import", "--enable"))
    _ok(invoke("switch", "add", "w", "--base-url", "https://w.io"))
    _ok(invoke("switch", "w"))
    data = json.loads(path.read_text())
    assert data["mcpServers"]["t"]["command"] == "mcp-server-time"
    _ok(invoke("switch", "mcp", "disable", "t"))
    _ok(invoke("switch", "w"))
    assert "t" in json.loads(path.read_text())["mcpServers"]


# cc-switch's mcp_servers table (src-tauri/src/database/schema.rs).
CC_SCHEMA = """
CREATE TABLE mcp_servers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, server_config TEXT NOT NULL,
    description TEXT, homepage TEXT, docs TEXT, tags TEXT NOT NULL DEFAULT '[]',
    enabled_claude BOOLEAN NOT NULL DEFAULT 0, enabled_codex BOOLEAN NOT NULL DEFAULT 0,
    enabled_gemini BOOLEAN NOT NULL DEFAULT 0
);
"""


def make_ccswitch_db(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(CC_SCHEMA)
    rows = [
        ("context7", "Context7", {"type": "stdio", "command": "npx", "args": ["-y", "c7"]}, 1),
        (
            "remote api",
            "Remote",
            {"type": "http", "url": "https://r.example.com/mcp", "headers": {"X-Key": SECRET}},
            0,
        ),
        ("broken", "Broken", {"type": "carrier-pigeon"}, 1),
        ("codex-only", "Codex", {"command": "codex-mcp"}, 0),
    ]
    for sid, name, config, claude in rows:
        conn.execute(
            "INSERT INTO mcp_servers (id, name, server_config, enabled_claude) VALUES (?,?,?,?)",
            (sid, name, json.dumps(config), claude),
        )
    conn.commit()
    conn.close()
    return path


def test_import_from_cc_switch(invoke, home: Path) -> None:
    db = make_ccswitch_db(home / ".cc-switch" / "cc-switch.db")
    before = db.read_bytes()
    result = _ok(invoke("switch", "mcp", "import", "--from-cc-switch", "--json"))
    doc = json.loads(result.stdout)
    imported = {s["name"]: s for s in doc["imported"]}
    assert sorted(imported) == ["codex-only", "context7", "remote-api"]
    assert imported["remote-api"]["headers"] == {"X-Key": "****0123"}
    assert any("broken" in p and "unknown type" in p for p in doc["problems"])
    enabled = {
        s["name"]: s["enabled"]
        for s in json.loads(invoke("switch", "mcp", "list", "--json").stdout)["servers"]
    }
    assert enabled == {"codex-only": {}, "context7": {"*": True}, "remote-api": {}}
    assert db.read_bytes() == before
    assert SECRET not in result.stdout + result.stderr


def test_cc_switch_errors(invoke, home: Path, tmp_path: Path) -> None:
    missing = invoke("switch", "mcp", "import", "--from-cc-switch")
    assert missing.exit_code == 6 and "no cc-switch database" in missing.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 100)
    bad = invoke("switch", "mcp", "import", "--from-cc-switch", "--db", str(junk))
    assert bad.exit_code == 2 and "not a cc-switch database" in bad.stderr
    assert invoke("switch", "mcp", "import", "--db", str(junk)).exit_code == 2
