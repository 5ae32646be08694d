"""Shared by the tool attack tests: canaries, PATH wrappers that record their environment,
and the real gateway in front of a scripted model that calls the gateway's tools.

Every canary is built at run time (no credential-shaped literal lives in this file) and
names where it was planted, so a failure says which secret leaked and from where.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from tests.gitrepo import git, make_repo
from tests.tools.scripted import ScriptedModel, openai_tool_results, tool_results

SEED = {"model": "claude-sonnet-4-5", "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Summarize the recent diff"}]}  # fmt: skip

# The gateway's own environment: upstream keys and the variables that would redirect a tool.
CREDENTIAL_NAMES = (
    "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DATABRICKS_API_KEY", "AZURE_ANTHROPIC_API_KEY",
    "AZURE_OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "LYNKR_API_KEY", "GITHUB_TOKEN", "HF_TOKEN", "MY_SERVICE_PASSWORD",
)  # fmt: skip


def canary(where: str) -> str:
    """A unique, secret-looking value that says where it was planted."""
    return f"Cnry{where.replace('_', '').replace('.', '')[:12]}{secrets.token_hex(10)}"


PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"


def plant(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A workspace whose secret files (tracked, staged, untracked, in history) hold canaries,
    next to an outside directory it must never reach."""
    outside = tmp_path / "outside"
    outside.mkdir()
    values = {name: canary(name) for name in (
        "outside", "env_committed", "env_changed", "env_local", "env_production", "pem",
        "aws", "ssh", "secrets_yml", "tfvars", "yml_diff", "py_diff", "readme_diff")}  # fmt: skip
    (outside / "outside.txt").write_text(f"outside {values['outside']}\n")
    ws = make_repo(tmp_path / "ws", {
        "README.md": "# demo\n", "src/app.py": "def main():\n    return 42\n",
        ".env.example": "DB_PASSWORD=\nDB_HOST=localhost\n",
        "config/app.yml": "database:\n  user: app\n  password: changeme\n",
        "src/settings.py": 'STRIPE_SECRET_KEY = ""\nDEBUG = True\n',
    }, "first", hermetic=True)  # fmt: skip
    # The accident: a second commit adds secret files, so history and ranges hold them.
    (ws / ".env").write_text(f"DB_PASSWORD={values['env_committed']}\n")
    (ws / "deploy").mkdir()
    (ws / "deploy" / "key.pem").write_text(PRIVATE_KEY.format(body=values["pem"]))
    (ws / ".aws").mkdir()
    (ws / ".aws" / "credentials").write_text(
        f"[default]\naws_secret_access_key = {values['aws']}\n"
    )
    git(ws, "add", "--all", hermetic=True)
    git(ws, "commit", "-q", "-m", "add deployment config", hermetic=True)
    (ws / "src" / "app.py").write_text("def main():\n    return 43\n")
    # Canaries in ordinary tracked files' diffs: a config value, a code literal, a shell line.
    (ws / "config" / "app.yml").write_text(
        f"database:\n  user: app\n  password: {values['yml_diff']}\n"
    )
    (ws / "src" / "settings.py").write_text(
        f'STRIPE_SECRET_KEY = "{values["py_diff"]}"\nDEBUG = True\n'
    )
    (ws / "README.md").write_text(f"# demo\n\n    export OPENAI_API_KEY={values['readme_diff']}\n")
    (ws / ".env").write_text(f"DB_PASSWORD={values['env_changed']}\nexport TOKEN=x\n")
    (ws / ".env.local").write_text(f'API_KEY = "{values["env_local"]}"\n')
    (ws / "config" / ".env.production").write_text(f"SECRET: {values['env_production']}\n")
    (ws / "secrets.yml").write_text(f"stripe: {values['secrets_yml']}\n")
    (ws / "prod.tfvars").write_text(f'db_password = "{values["tfvars"]}"\n')
    git(ws, "add", "config/.env.production", "secrets.yml", hermetic=True)
    (ws / ".ssh").mkdir()
    (ws / ".ssh" / "id_ed25519").write_text(PRIVATE_KEY.format(body=values["ssh"]))
    (ws / "innocent.txt").symlink_to(ws / ".env")
    (ws / "escape.txt").symlink_to(outside / "outside.txt")
    (ws / "escape_dir").symlink_to(outside)
    (ws / "abs_link").symlink_to("/etc/passwd")
    return ws, values


# The test command the probes run: it prints the secret files, the bare .env value, and
# the credentials it would have if the gateway's environment leaked.
PRINTER = """
import os, pathlib
for p in [".env", ".env.local", "secrets.yml", ".aws/credentials", "config/.env.production"]:
    print(pathlib.Path(p).read_text())
print(pathlib.Path(".env").read_text().split("=", 1)[1].split()[0])
for name in {names!r}:
    print(name, os.environ.get(name))
"""

# Every tool, aimed at the planted secrets; none of these calls is refused.
PROBES: list[tuple[str, dict[str, Any]]] = [
    ("lynkr_read_file", {"path": "config/app.yml"}),
    ("lynkr_read_file", {"path": "src/settings.py"}),
    ("lynkr_read_file", {"path": "README.md"}),
    ("lynkr_read_file", {"path": ".env.example"}),
    ("lynkr_list_files", {}),
    ("lynkr_search", {"pattern": "Cnry"}),
    ("lynkr_search", {"pattern": "password|secret|key|token|stripe", "case_sensitive": False}),
    ("lynkr_search", {"pattern": "Cnry", "glob": ".env*"}),
    ("lynkr_git_status", {}),
    ("lynkr_git_diff", {}),
    ("lynkr_git_diff", {"staged": True}),
    ("lynkr_git_diff", {"paths": [".env", "innocent.txt", "config/app.yml"]}),
    ("lynkr_git_diff", {"rev_range": "HEAD~1..HEAD"}),
    ("lynkr_git_show", {}),
    ("lynkr_git_show", {"rev": "HEAD", "paths": [".env"]}),
    ("lynkr_git_log", {}),
    ("lynkr_git_review", {}),
    ("lynkr_git_review", {"rev_range": "HEAD~1"}),
    ("lynkr_git_review", {"staged": True}),
    ("lynkr_symbols", {"query": "main"}),
    ("lynkr_references", {"name": "main"}),
    ("lynkr_repo_map", {}),
    ("lynkr_run_tests", {}),
    ("lynkr_tasks_list", {}),
]


def call_key(tool: str, args: dict[str, Any]) -> str:
    """How a probe's result is looked up: ``lynkr_git_diff {"staged": true}``."""
    return f"{tool} {json.dumps(args)}"


def check_probe_results(by_call: dict[str, str]) -> None:
    """The probes saw the planted files: withheld hunks, masked values, no refusal."""
    diff = by_call[call_key("lynkr_git_diff", {})]
    assert ".env is a secrets file: its 2 added and 1 removed" in diff
    assert "+    return 43" in diff  # ordinary changes still show
    assert 'STRIPE_SECRET_KEY = "[REDACTED]"' in diff and "+  password: [REDACTED]" in diff
    assert "export OPENAI_API_KEY=[REDACTED]" in diff
    staged = by_call[call_key("lynkr_git_diff", {"staged": True})]
    assert "config/.env.production is a secrets file" in staged
    named = by_call[call_key("lynkr_git_diff", {"paths": [".env", "innocent.txt",
                                                           "config/app.yml"]})]  # fmt: skip
    assert ".env is a secrets file" in named and "password: [REDACTED]" in named
    for show in (by_call[call_key("lynkr_git_diff", {"rev_range": "HEAD~1..HEAD"})],
                 by_call[call_key("lynkr_git_show", {})]):  # fmt: skip
        assert "deploy/key.pem is a secrets file" in show and ".env is a secrets file" in show
    assert "add deployment config" in by_call[call_key("lynkr_git_show", {})]
    assert "key.pem" not in by_call[call_key("lynkr_git_show", {"rev": "HEAD", "paths": [".env"]})]
    yml = by_call[call_key("lynkr_read_file", {"path": "config/app.yml"})]
    assert "password: [REDACTED]" in yml
    template = by_call[call_key("lynkr_read_file", {"path": ".env.example"})]
    assert "DB_HOST=[REDACTED]" in template and "DB_PASSWORD=" in template
    tests_out = by_call[call_key("lynkr_run_tests", {})]
    assert "stripe: [REDACTED]" in tests_out and "Cnry" not in tests_out


def credential_env() -> dict[str, str]:
    return {name: canary(f"env{name}") for name in CREDENTIAL_NAMES}


def install_wrappers(bin_dir: Path, log_dir: Path, names: dict[str, str | None]) -> None:
    """Executables named like ``names`` on PATH: each writes the environment it got to
    ``log_dir/<name>.<random>`` (NUL-separated, as ``env -0`` prints it, after its arguments
    as ``LYNKR_WRAPPER_ARGV``), then runs the real program (``names[name]``) or, for None,
    prints ``all tests passed``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    for name, real in names.items():
        tail = f'exec {real} "$@"' if real else "echo 'all tests passed'"
        script = bin_dir / name
        script.write_text(
            "#!/bin/sh\n"
            f'out=$(mktemp "{log_dir}/{name}.XXXXXX") || exit 97\n'
            '{ printf \'LYNKR_WRAPPER_ARGV=%s\\0\' "$*"; env -0; } > "$out"\n'
            f"{tail}\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def recorded(log_dir: Path) -> dict[str, list[dict[str, str]]]:
    """Program name → the environments its runs received."""
    runs: dict[str, list[dict[str, str]]] = {}
    for path in sorted(log_dir.iterdir()):
        pairs = [item.split("=", 1) for item in path.read_text().split("\0") if "=" in item]
        runs.setdefault(path.name.split(".")[0], []).append(dict(pairs))  # type: ignore[arg-type]
    return runs


def real_program(name: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is not installed"
    return found


# A real MCP server on the official SDK whose one tool writes the environment it was
# started with to the file named by its argument.
ENV_DUMP_SERVER = """
import json, os, sys
from mcp.server.mcpserver import MCPServer

app = MCPServer("envdump")

@app.tool()
def dump_env() -> str:
    \"\"\"Record this server's environment.\"\"\"
    with open(sys.argv[1], "w") as handle:
        json.dump(dict(os.environ), handle)
    return "recorded " + " ".join(sorted(os.environ))

app.run()
"""


def add_env_dump_server(workspace: Path, script_dir: Path) -> Path:
    """An ``.mcp.json`` in ``workspace`` launching the env-dump server; returns its dump file."""
    script = script_dir / "envdump.py"
    script.write_text(ENV_DUMP_SERVER)
    dump = script_dir / "mcp-env.json"
    config = {"mcpServers": {"envdump": {"command": sys.executable,
                                         "args": [str(script), str(dump)]}}}  # fmt: skip
    (workspace / ".mcp.json").write_text(json.dumps(config))
    return dump


def call_all(calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Model turns: every call at once, then a text answer quoting every result."""

    def first(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"type": "tool_use", "id": f"toolu_{i:02d}", "name": name, "input": args}
                for i, (name, args) in enumerate(calls)]  # fmt: skip

    def answer(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body["messages"][-1]["role"] == "tool":  # the OpenAI translation path
            texts = openai_tool_results(body)
        else:
            texts = [str(r.get("content")) for r in tool_results(body)]
        return [{"type": "text", "text": "Results:\n" + "\n---\n".join(texts)}]

    return [first, answer]


@asynccontextmanager
async def gateway(model: ScriptedModel, workspace: Path, **overrides: Any) -> AsyncIterator[str]:
    """The real gateway app on 127.0.0.1 in front of ``model``, its tools on ``workspace``."""
    from lynkr_cli.serve.app import create_app
    from lynkr_cli.settings import get_settings

    settings = get_settings({
        "server.access_log": False, "provider.max_retries": 0, "cache.enabled": False,
        "provider.name": "anthropic", "provider.anthropic_api_key": "upstream-test-key",
        "provider.anthropic_endpoint": model.url + "/v1/messages",
        "gateway.workspace_root": str(workspace), "gateway.max_tool_calls": 64,
        "gateway.max_steps": 4, **overrides,
    })  # fmt: skip
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def run_tools(
    workspace: Path, calls: list[tuple[str, dict[str, Any]]], *, openai: bool = False,
    **overrides: Any,
) -> tuple[ScriptedModel, list[dict[str, Any]], httpx.Response]:  # fmt: skip
    """One seed request through the gateway whose model calls ``calls``.

    Returns the model (its ``bodies`` are every request the upstream received), the tool
    results in call order (``[{"tool_use_id", "content", "is_error"}]``, rebuilt from the
    OpenAI messages with ``openai``), and the client's response.
    """
    model = await ScriptedModel(call_all(calls)).start()
    if openai:
        overrides = {"provider.name": "openai", "provider.openai_api_key": "upstream-test-key",
                     "provider.openai_endpoint": model.url + "/v1/chat/completions",
                     "provider.openai_model": "gpt-test", **overrides}  # fmt: skip
    headers = {}
    if os.environ.get("LYNKR_API_KEY"):
        headers["x-api-key"] = os.environ["LYNKR_API_KEY"]
    try:
        async with (
            gateway(model, workspace, **overrides) as url,
            httpx.AsyncClient(timeout=120) as client,
        ):
            response = await client.post(f"{url}/v1/messages", json=SEED, headers=headers)
    finally:
        await model.stop()
    assert response.status_code == 200, response.text
    assert len(model.bodies) == 2, f"expected 2 upstream calls, got {len(model.bodies)}"
    results = tool_results(model.bodies[1]) if not openai else [
        {"tool_use_id": m["tool_call_id"], "content": m["content"]}
        for m in model.bodies[1]["messages"] if m["role"] == "tool"
    ]  # fmt: skip
    assert [r["tool_use_id"] for r in results] == [f"toolu_{i:02d}" for i in range(len(calls))]
    return model, results, response


def leaks(haystack: str, needles: dict[str, str]) -> list[str]:
    """The names of the planted values found in ``haystack``."""
    return sorted(name for name, value in needles.items() if value in haystack)
