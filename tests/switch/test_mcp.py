"""`lynkr switch mcp`: servers kept once, written into Claude Code's files on a switch."""

from __future__ import annotations

import difflib
import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.switch.conftest import realistic_claude_json

TIME_SERVER = str(ROOT / ".venv" / "bin" / "mcp-server-time")
SECRET = "ghp_canary_0123456789abcdef"


def _ok(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return result


def _profile(invoke, name: str = "work") -> None:
    _ok(
        invoke(
            "switch", "add", name, "--base-url", "http://127.0.0.1:9", "--key", "sk-a-1234567890"
        )
    )


def _servers(invoke) -> None:
    _ok(invoke("switch", "mcp", "add", "time", "--", TIME_SERVER, "--local-timezone", "UTC"))
    _ok(invoke("switch", "mcp", "add", "gh", "--url", "http://127.0.0.1:9/mcp",
               "--header", f"Authorization=Bearer {SECRET}"))  # fmt: skip


def _only_inserted(before: str, after: str) -> str:
    """The text `after` adds to `before`, asserting nothing of `before` changed."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (op, old[i1:i2], new[j1:j2])
        if op == "insert":
            added += new[j1:j2]
    return "".join(added)


def test_add_list_enable_disable_remove(invoke, home: Path) -> None:
    _profile(invoke)
    _servers(invoke)
    doc = json.loads(_ok(invoke("switch", "mcp", "list", "--json")).stdout)
    by_name = {s["name"]: s for s in doc["servers"]}
    assert by_name["time"]["args"] == ["--local-timezone", "UTC"]
    assert by_name["gh"]["headers"] == {"Authorization": "****cdef"}  # masked
    assert by_name["gh"]["enabled"] == {"*": True}
    _ok(invoke("switch", "mcp", "disable", "gh", "--profile", "WORK"))  # any case
    flags = json.loads(_ok(invoke("switch", "mcp", "enable", "gh", "--json")).stdout)
    assert flags["enabled"] == {"*": True}  # enable without --profile: everywhere again
    _ok(invoke("switch", "mcp", "disable", "gh", "--profile", "work"))
    table = _ok(invoke("switch", "mcp", "list")).stdout
    assert "not work" in table and SECRET not in table
    assert _ok(invoke("switch", "mcp", "remove", "GH", "--json")).stdout.strip() == (
        '{\n  "removed": "gh"\n}'
    )
    assert invoke("switch", "mcp", "remove", "gh").exit_code == 6


def test_bad_input_is_refused(invoke, home: Path) -> None:
    both = invoke("switch", "mcp", "add", "x", "--url", "https://x.io", "--", "cmd")
    assert both.exit_code == 2 and "either a command" in both.stderr
    assert invoke("switch", "mcp", "add", "x").exit_code == 2
    bad = invoke("switch", "mcp", "add", "bad name", "--", "cmd")
    assert bad.exit_code == 2 and "invalid MCP server name" in bad.stderr
    url = invoke("switch", "mcp", "add", "u", "--url", "ftp://x")
    assert url.exit_code == 2 and "not an http(s) URL" in url.stderr
    env = invoke("switch", "mcp", "add", "e", "--env", "1BAD=x", "--", "cmd")
    assert env.exit_code == 2
    nobody = invoke("switch", "mcp", "add", "n", "--profile", "ghost", "--", "cmd")
    assert nobody.exit_code == 6 and "no profile or preset named 'ghost'" in nobody.stderr
    _ok(invoke("switch", "mcp", "add", "dup", "--", "cmd"))
    again = invoke("switch", "mcp", "add", "DUP", "--", "cmd")
    assert again.exit_code == 2 and "already exists" in again.stderr
    _ok(invoke("switch", "mcp", "add", "dup", "--replace", "--", "other"))
    assert (
        json.loads(invoke("switch", "mcp", "list", "--json").stdout)["servers"][0]["command"]
        == "other"
    )
    assert json.loads(invoke("switch", "--json").stdout)["profiles"] == []


def test_secret_values_from_stdin(invoke, home: Path) -> None:
    result = invoke(
        "switch", "mcp", "add", "s", "--env", "TOKEN=-", "--env", "PLAIN=1", "--", "cmd",
        input=f"{SECRET}\n",
    )  # fmt: skip
    _ok(result)
    assert SECRET not in result.stdout + result.stderr
    listed = json.loads(invoke("switch", "mcp", "list", "--json").stdout)["servers"][0]
    assert listed["env"] == {"TOKEN": "****cdef", "PLAIN": "****"}


def test_switch_keeps_every_unmanaged_byte_of_a_real_claude_json(invoke, home: Path) -> None:
    path = home / ".claude.json"
    before = realistic_claude_json()
    assert len(before) > 250_000
    path.write_text(before, encoding="utf-8")
    os.chmod(path, 0o644)
    _profile(invoke)
    _servers(invoke)
    doc = json.loads(_ok(invoke("switch", "work", "--json")).stdout)
    [entry] = doc["files"]
    assert entry["path"] == str(path) and entry["set"] == ["gh", "time"] and entry["written"]
    after = path.read_text(encoding="utf-8")
    added = _only_inserted(before, after)
    assert '"gh": {' in added and '"time": {' in added and '"theirs"' not in added
    data = json.loads(after)
    assert data["mcpServers"]["time"] == {
        "type": "stdio", "command": TIME_SERVER, "args": ["--local-timezone", "UTC"], "env": {},
    }  # fmt: skip
    assert data["mcpServers"]["theirs"]["command"] == "npx"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds a secret now
    # Disabling one removes exactly what lynkr wrote of it.
    _ok(invoke("switch", "mcp", "disable", "gh"))
    _ok(invoke("switch", "work"))
    after2 = path.read_text(encoding="utf-8")
    assert '"gh"' not in after2 and '"theirs"' in after2
    assert _only_inserted(before, after2).count('"time": {') == 1


def test_entries_lynkr_did_not_write_are_left_alone(invoke, home: Path) -> None:
    path = home / ".claude.json"
    theirs = {"type": "stdio", "command": "their-own-time", "args": [], "env": {}}
    path.write_text(json.dumps({"mcpServers": {"time": theirs}}, indent=2))
    _profile(invoke)
    _servers(invoke)
    result = _ok(invoke("switch", "work"))
    assert "already has a server 'time' that lynkr did not write" in result.stderr
    data = json.loads(path.read_text())
    assert data["mcpServers"]["time"] == theirs and "gh" in data["mcpServers"]
    # Removing lynkr's servers never touches theirs.
    _ok(invoke("switch", "mcp", "remove", "time"))
    _ok(invoke("switch", "mcp", "remove", "gh"))
    _ok(invoke("switch", "work"))
    assert json.loads(path.read_text())["mcpServers"] == {"time": theirs}


def test_an_edit_to_a_written_entry_is_reported_and_restorable(invoke, home: Path) -> None:
    path = home / ".claude.json"
    _profile(invoke)
    _ok(invoke("switch", "mcp", "add", "time", "--", TIME_SERVER))
    _ok(invoke("switch", "work"))
    edited = path.read_text().replace(TIME_SERVER, "/usr/bin/hand-edited")
    path.write_text(edited)
    _ok(invoke("switch", "mcp", "add", "time", "--replace", "--", TIME_SERVER, "-v"))
    result = _ok(invoke("switch", "work"))
    assert "was edited since lynkr wrote it" in result.stderr
    assert json.loads(path.read_text())["mcpServers"]["time"]["args"] == ["-v"]
    _ok(invoke("switch", "restore"))
    assert json.loads(path.read_text())["mcpServers"]["time"]["command"] == "/usr/bin/hand-edited"


def test_restore_puts_back_only_lynkrs_entries(invoke, home: Path) -> None:
    """Claude Code rewrites ~/.claude.json all the time: restore must not undo that."""
    path = home / ".claude.json"
    path.write_text(json.dumps({"numStartups": 1, "mcpServers": {}}, indent=2) + "\n")
    _profile(invoke)
    _servers(invoke)
    _ok(invoke("switch", "work"))
    data = json.loads(path.read_text())
    data["numStartups"] = 2  # Claude Code, meanwhile
    path.write_text(json.dumps(data, indent=2) + "\n")
    restored = json.loads(_ok(invoke("switch", "restore", "--json")).stdout)
    kinds = {item["path"]: item["kind"] for item in [restored, *restored["also"]]}
    assert kinds[str(path)] == "members"
    assert json.loads(path.read_text()) == {"numStartups": 2, "mcpServers": {}}
    assert not (home / ".claude" / "settings.json").exists()  # created by the switch
    listed = json.loads(invoke("switch", "mcp", "list", "--json").stdout)["servers"]
    assert all(s["written_to"] == [] for s in listed)


def test_dry_run_masks_secrets_and_writes_nothing(invoke, home: Path) -> None:
    path = home / ".claude.json"
    path.write_text("{}\n")
    _profile(invoke)
    _servers(invoke)
    _ok(invoke("switch", "mcp", "add", "env", "--env", f"API_TOKEN={SECRET}x", "--", "cmd"))
    result = _ok(invoke("switch", "work", "--dry-run"))
    assert f"+++ {path} (after)" in result.stdout
    assert '"Authorization": "****cdef"' in result.stdout
    assert '"API_TOKEN": "****defx"' in result.stdout
    assert SECRET not in result.stdout + result.stderr
    assert path.read_text() == "{}\n"
    doc = json.loads(_ok(invoke("switch", "work", "--dry-run", "--json")).stdout)
    assert SECRET not in doc["diff"] and doc["files"][0]["written"] is False


def test_project_scope_writes_mcp_json_and_local_scope_the_project_entry(
    invoke, home: Path
) -> None:
    project = Path.cwd()
    (project / ".git").mkdir()  # Claude Code files a project under its git top level
    (project / "sub").mkdir()
    _profile(invoke)
    _ok(invoke("switch", "mcp", "add", "time", "--", TIME_SERVER))
    _ok(invoke("switch", "work", "--scope", "project"))
    mcp_json = json.loads((project / ".mcp.json").read_text())
    assert list(mcp_json["mcpServers"]) == ["time"]
    assert not (home / ".claude.json").exists()
    os.chdir(project / "sub")
    _ok(invoke("switch", "work", "--scope", "local"))
    data = json.loads((home / ".claude.json").read_text())
    assert list(data["projects"][str(project.resolve())]["mcpServers"]) == ["time"]
    assert "mcpServers" not in data  # the user scope stays as it was


def test_claude_desktop_config_is_written_only_where_it_exists(
    invoke, home: Path, xdg: Path
) -> None:
    _profile(invoke)
    _servers(invoke)
    _ok(invoke("switch", "work"))
    desktop = xdg / "Claude" / "claude_desktop_config.json"
    assert not desktop.exists()  # never created
    desktop.parent.mkdir(parents=True)
    desktop.write_text('{\n  "globalShortcut": "Ctrl+Space"\n}\n')
    result = _ok(invoke("switch", "work"))
    data = json.loads(desktop.read_text())
    assert data["globalShortcut"] == "Ctrl+Space"
    assert data["mcpServers"] == {
        "time": {"command": TIME_SERVER, "args": ["--local-timezone", "UTC"]}
    }  # stdio only, in Desktop's shape
    assert "remote server; Claude Desktop's config file holds only local ones" in result.stderr


def test_a_profile_without_servers_touches_no_mcp_file(invoke, home: Path) -> None:
    _profile(invoke)
    _ok(invoke("switch", "work"))
    assert not (home / ".claude.json").exists()


def test_per_profile_enablement(invoke, home: Path) -> None:
    _profile(invoke, "work")
    _profile(invoke, "play")
    _ok(invoke("switch", "mcp", "add", "time", "--profile", "play", "--", TIME_SERVER))
    _ok(invoke("switch", "work"))
    assert not (home / ".claude.json").exists()
    _ok(invoke("switch", "play"))
    assert "time" in json.loads((home / ".claude.json").read_text())["mcpServers"]
    _ok(invoke("switch", "work"))  # switching away removes what lynkr wrote
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == {}


@pytest.mark.parametrize("scope", ["user", "project"])
def test_rename(invoke, home: Path, scope: str) -> None:
    _profile(invoke)
    _ok(invoke("switch", "mcp", "add", "time", "--", TIME_SERVER))
    _ok(invoke("switch", "work", "--scope", scope))
    _ok(invoke("switch", "mcp", "rename", "time", "clock"))
    _ok(invoke("switch", "work", "--scope", scope))
    path = home / ".claude.json" if scope == "user" else Path.cwd() / ".mcp.json"
    assert list(json.loads(path.read_text())["mcpServers"]) == ["clock"]
