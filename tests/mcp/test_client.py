"""The SDK client against real servers: stdio, streamable HTTP and SSE; and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.mcp import client
from lynkr_cli.mcp.manifests import parse_server
from lynkr_cli.settings import get_settings

pytestmark = pytest.mark.timeout(90)


async def tools_and_call(raw: dict[str, Any], tool: str, args: dict[str, Any]) -> tuple[Any, ...]:
    settings = get_settings()
    async with client.connect(parse_server("s", raw, "test"), settings) as session:
        tools = await client.list_tools(session)
        text, is_error = await client.call_tool(session, tool, args, 30)
    return tools, text, is_error


async def test_time_server_stdio(time_server: dict[str, Any]) -> None:
    tools, text, is_error = await tools_and_call(time_server, "get_current_time",
                                                 {"timezone": "Etc/UTC"})  # fmt: skip
    names = {t["name"] for t in tools}
    assert names == {"get_current_time", "convert_time"}
    schema = next(t for t in tools if t["name"] == "get_current_time")["input_schema"]
    assert schema["required"] == ["timezone"]
    assert not is_error and json.loads(text)["timezone"] == "Etc/UTC"


async def test_tool_error_is_result(time_server: dict[str, Any]) -> None:
    _, text, is_error = await tools_and_call(time_server, "get_current_time", {"timezone": "X/Y"})
    assert is_error and "Invalid timezone" in text


async def test_everything_stdio(everything: Path) -> None:
    raw = {"command": str(everything), "args": ["stdio"]}
    tools, text, is_error = await tools_and_call(raw, "echo", {"message": "over stdio"})
    assert "echo" in {t["name"] for t in tools}
    assert not is_error and "over stdio" in text


async def test_everything_streamable_http(everything_http: str) -> None:
    raw = {"type": "http", "url": everything_http}
    tools, text, is_error = await tools_and_call(raw, "echo", {"message": "over http"})
    assert "echo" in {t["name"] for t in tools}
    assert not is_error and "over http" in text


async def test_everything_sse(everything_sse: str) -> None:
    raw = {"type": "sse", "url": everything_sse}
    _, text, is_error = await tools_and_call(raw, "echo", {"message": "over sse"})
    assert not is_error and "over sse" in text


async def test_server_env_is_not_the_gateways(crashy: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setenv("DATABRICKS_API_KEY", "dapi0123456789abcdef0123")
    script = Path(crashy["args"][0])
    env_tool = "@app.tool()\ndef env() -> str:\n    return repr(dict(os.environ))\n\n"
    script.write_text(
        script.read_text().replace("@app.tool()\ndef die", env_tool + "@app.tool()\ndef die")
    )
    raw = {**crashy, "env": {"ONLY_THIS": "yes"}}
    _, text, _ = await tools_and_call(raw, "env", {})
    assert "ONLY_THIS" in text and "dapi0123456789abcdef0123" not in text


async def test_probe_reports_failure_without_raising(tmp_path: Path) -> None:
    report = await client.probe(parse_server("bad", {"command": str(tmp_path / "nope")}, "t"),
                                get_settings())  # fmt: skip
    assert not report.ok and "could not start" in (report.error or "")


async def test_probe_collects_stderr(crashy: dict[str, Any]) -> None:
    report = await client.probe(parse_server("c", crashy, "t"), get_settings())
    assert report.ok and set(report.tools) == {"hello", "die"}
    assert any("crashy starting up" in line for line in report.stderr)


def project(workdir: Path, servers: dict[str, Any]) -> None:
    (workdir / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_cli_tools_and_call(invoke: Any, home: Path, workdir: Path, time_server: Any) -> None:
    project(workdir, {"time": time_server})
    listed = invoke("mcp", "tools", "time", "--json")
    assert listed.exit_code == 0, listed.stderr
    tools = json.loads(listed.stdout)["servers"][0]["tools"]
    assert {t["name"] for t in tools} == {"get_current_time", "convert_time"}
    called = invoke("mcp", "call", "time", "get_current_time", '{"timezone": "Etc/UTC"}', "--json")
    assert called.exit_code == 0, called.stderr
    doc = json.loads(called.stdout)
    assert doc["is_error"] is False and "Etc/UTC" in doc["text"]
    listing = invoke("mcp", "tools", "time")
    assert "mcp__time__get_current_time(timezone: string)" in listing.stdout
    human = invoke("mcp", "call", "time", "get_current_time", '{"timezone": "Etc/UTC"}')
    assert json.loads(human.stdout)["timezone"] == "Etc/UTC"


def test_cli_bad_input(invoke: Any, home: Path, workdir: Path, time_server: Any) -> None:
    project(workdir, {"time": time_server, "broken": {"command": str(workdir / "nope")}})
    bad_json = invoke("mcp", "call", "time", "get_current_time", "{nope")
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.stderr
    not_obj = invoke("mcp", "call", "time", "get_current_time", "[1]")
    assert not_obj.exit_code == 2
    unknown = invoke("mcp", "call", "ghost", "x")
    assert unknown.exit_code == 6 and "known: broken, time" in unknown.stderr
    tool_err = invoke("mcp", "call", "time", "get_current_time", '{"timezone": "X/Y"}')
    assert tool_err.exit_code == 4 and "Invalid timezone" in tool_err.stdout
    failing = invoke("mcp", "tools", "--json")
    assert failing.exit_code == 4
    servers = {s["server"]: s for s in json.loads(failing.stdout)["servers"]}
    assert "tools" in servers["time"] and "could not start" in servers["broken"]["error"]


def test_cli_start_once(invoke: Any, home: Path, workdir: Path, time_server: Any) -> None:
    project(workdir, {"time": time_server})
    result = invoke("mcp", "start", "--once", "--json")
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)["servers"]
    assert row["ok"] and row["state"] == "up" and "get_current_time" in row["tools"]
    missing = invoke("mcp", "start", "ghost", "--once")
    assert missing.exit_code == 6


def test_cli_unknown_tool_exits_4_with_the_servers_message(
    invoke: Any, home: Path, workdir: Path, time_server: Any
) -> None:
    project(workdir, {"time": time_server})
    result = invoke("mcp", "call", "time", "no_such_tool")
    assert result.exit_code == 4, result.stderr
    assert "Unknown tool: no_such_tool" in result.stderr  # the server's own words
    assert "internal error" not in result.stderr and "ExceptionGroup" not in result.stderr
    as_json = invoke("mcp", "call", "time", "no_such_tool", "--json")
    error = json.loads(as_json.stdout)["error"]
    assert (error["code"], error["exit"]) == ("upstream", 4)
    assert "Unknown tool: no_such_tool" in error["message"]
