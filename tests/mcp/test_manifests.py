"""Discovery: every source, precedence, ${VAR} expansion, bad files, and `lynkr mcp list`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lynkr_cli.mcp.manifests import desktop_config_path, discover, expand, parse_server
from lynkr_cli.settings import get_settings


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_every_source_with_precedence(home: Path, workdir: Path, monkeypatch: Any) -> None:
    cwd = str(workdir.resolve())
    desktop = {"desk": {"command": "desk-bin"}, "shared": {"command": "from-desktop"}}
    write(desktop_config_path(), {"mcpServers": desktop})
    write(home / ".claude.json", {
        "mcpServers": {"user1": {"command": "u"}, "shared": {"command": "from-user"}},
        "projects": {cwd: {"mcpServers": {"local1": {"type": "sse", "url": "http://x/sse"}}}},
    })  # fmt: skip
    write(home / ".claude/mcp/a.json", {"servers": [{"id": "lynkr1", "command": "l1"}]})
    single = write(workdir / "m/one.json", {"servers": [{"name": "shared", "command": "from-man"}]})
    write(workdir / ".mcp.json", {"mcpServers": {"proj": {"type": "http", "url": "http://h/mcp"}}})
    write(workdir / "lynkr.toml", '[mcp.servers.tomly]\ncommand = "t"\nargs = ["--x"]\n')
    monkeypatch.setenv("MCP_SERVER_MANIFEST", str(single))
    found = discover(get_settings(), workdir)
    servers = found.servers
    assert set(servers) == {"desk", "shared", "user1", "local1", "lynkr1", "proj", "tomly"}
    assert servers["shared"].command == "from-man"
    assert [s.split()[0] for s in servers["shared"].sources] == ["claude", "user", "manifest"]
    assert servers["local1"].transport == "sse" and servers["local1"].source.startswith("local")
    assert servers["proj"].transport == "http" and servers["proj"].source.startswith("project")
    assert servers["tomly"].args == ["--x"] and "lynkr.toml" in servers["tomly"].source
    assert servers["lynkr1"].source.startswith("manifest")
    assert found.problems == []


def test_manifest_dirs_semicolons_and_bad_files(
    home: Path, workdir: Path, monkeypatch: Any
) -> None:
    write(workdir / "d1/ok.json", {"servers": [{"name": "ok", "command": "x"}]})
    write(workdir / "d2/broken.json", "{not json")
    write(workdir / "d2/noname.json", {"servers": [{"command": "x"}]})
    write(workdir / "d2/wrong.json", {"something": 1})
    write(
        workdir / ".mcp.json", {"mcpServers": {"nocmd": {"args": ["a"]}, "weird": {"type": "ws"}}}
    )
    monkeypatch.setenv("MCP_MANIFEST_DIRS", f"{workdir / 'd1'};{workdir / 'd2'}")
    found = discover(get_settings(), workdir)
    assert set(found.servers) == {"ok"}
    text = "\n".join(found.problems)
    for needle in ("broken.json: not valid JSON", "servers[0] has no name", "wrong.json",
                   "neither a command nor a url", "unknown type 'ws'"):  # fmt: skip
        assert needle in text


def test_env_expansion_like_claude_code() -> None:
    env = {"TOKEN": "t0k", "EMPTY": ""}
    missing: list[str] = []
    assert expand("Bearer ${TOKEN}", env, missing) == "Bearer t0k"
    assert expand("${NOPE:-fallback}/x", env, missing) == "fallback/x"
    assert expand("${EMPTY:-d}", env, missing) == ""
    assert expand("${NOPE}", env, missing) == "" and missing == ["NOPE"]
    assert expand("$TOKEN ${ not a var }", env, []) == "$TOKEN ${ not a var }"


def test_expansion_applies_to_every_field(home: Path, workdir: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MY_BIN", "/opt/bin/srv")
    monkeypatch.setenv("API_TOKEN", "sk-live-abcdefghijklmnop")
    write(workdir / ".mcp.json", {"mcpServers": {
        "s": {"command": "${MY_BIN}", "args": ["--port", "${PORT:-9000}"],
              "env": {"TOKEN": "${API_TOKEN}", "MISSING": "${UNSET_VAR_X}"}},
        "h": {"type": "http", "url": "${BASE:-http://127.0.0.1:1}/mcp",
              "headers": {"Authorization": "Bearer ${API_TOKEN}"}},
    }})  # fmt: skip
    servers = discover(get_settings(), workdir).servers
    assert servers["s"].command == "/opt/bin/srv" and servers["s"].args == ["--port", "9000"]
    assert servers["s"].env["TOKEN"] == "sk-live-abcdefghijklmnop"
    assert servers["s"].warnings == ["environment variable UNSET_VAR_X is not set"]
    assert servers["h"].url == "http://127.0.0.1:1/mcp"
    public = json.dumps(servers["h"].public()) + json.dumps(servers["s"].public())
    assert "abcdefghijklmnop" not in public


def test_parse_shapes() -> None:
    assert parse_server("u", {"url": "http://x/mcp"}, "t").transport == "http"
    assert parse_server("s", {"type": "streamable-http", "url": "u"}, "t").transport == "http"
    docker = parse_server("d", {"command": "x", "sandbox": {"type": "docker", "image": "i"}}, "t")
    assert docker.sandbox == "docker" and docker.sandbox_options["image"] == "i"
    remote = parse_server("r", {"url": "http://x/mcp", "sandbox": "docker"}, "t")
    assert remote.warnings == ["sandbox applies to stdio servers only; ignored for a url"]


def test_cli_list_json_and_human(invoke: Any, home: Path, workdir: Path) -> None:
    write(workdir / ".mcp.json", {"mcpServers": {"time": {"command": "mcp-server-time"}}})
    result = invoke("mcp", "list", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [s["name"] for s in doc["servers"]] == ["time"]
    assert any(entry["path"].endswith(".mcp.json") for entry in doc["searched"])
    human = invoke("mcp", "list")
    assert "time" in human.stdout and ".mcp.json" in human.stdout


def test_cli_list_empty(invoke: Any, home: Path, workdir: Path) -> None:
    result = invoke("mcp", "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no MCP servers found" in result.stderr


def test_missing_explicit_manifest_is_a_problem(
    home: Path, workdir: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("MCP_SERVER_MANIFEST", str(workdir / "nope.json"))
    found = discover(get_settings(), workdir)
    assert any("nope.json does not exist" in p for p in found.problems)
