"""Secret canaries through every tool of the real gateway: none reaches the upstream.

Canaries sit in the gateway's environment (upstream keys, ``AWS_*``, ``LYNKR_API_KEY``), in
``.env`` (committed, changed, staged and untracked variants), in keys and credential files,
in the diff of ordinary tracked files (a YAML value, a Python literal, a shell line in the
README), and in what the test command prints. A scripted model calls every tool, and an
MCP server's tool; the fake upstream records every request body it receives, and neither
those bodies nor the client's answer may hold any canary.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.toolkit import (
    add_env_dump_server,
    credential_env,
    leaks,
    plant,
    run_tools,
)

pytestmark = pytest.mark.timeout(120)

# The test command prints the secret files, the bare .env value, and the credentials it
# would have if the environment leaked.
PRINTER = """
import os, pathlib
for p in [".env", ".env.local", "secrets.yml", ".aws/credentials", "config/.env.production"]:
    print(pathlib.Path(p).read_text())
print(pathlib.Path(".env").read_text().split("=", 1)[1].split()[0])
for name in {names!r}:
    print(name, os.environ.get(name))
"""

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("lynkr_read_file", {"path": ".env"}),
    ("lynkr_read_file", {"path": "innocent.txt"}),
    ("lynkr_read_file", {"path": "config/app.yml"}),
    ("lynkr_read_file", {"path": "src/settings.py"}),
    ("lynkr_read_file", {"path": "README.md"}),
    ("lynkr_read_file", {"path": ".env.example"}),
    ("lynkr_list_files", {}),
    ("lynkr_search", {"pattern": "Cnry"}),
    ("lynkr_search", {"pattern": "password|secret|key|token", "case_sensitive": False}),
    ("lynkr_search", {"pattern": "Cnry", "path": ".env"}),
    ("lynkr_git_status", {}),
    ("lynkr_git_diff", {}),
    ("lynkr_git_diff", {"staged": True}),
    ("lynkr_git_diff", {"paths": [".env", "innocent.txt", "config/app.yml"]}),
    ("lynkr_git_diff", {"rev_range": "HEAD~1..HEAD"}),
    ("lynkr_git_show", {}),
    ("lynkr_git_log", {}),
    ("lynkr_git_review", {}),
    ("lynkr_git_review", {"rev_range": "HEAD~1"}),
    ("lynkr_symbols", {"query": "main"}),
    ("lynkr_references", {"name": "main"}),
    ("lynkr_repo_map", {}),
    ("lynkr_run_tests", {}),
    ("lynkr_tasks_list", {}),
    ("mcp__envdump__dump_env", {}),
]


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no real ~/.claude.json MCP servers
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    ws, values = plant(tmp_path)
    creds = credential_env()
    for name, value in creds.items():
        monkeypatch.setenv(name, value)
    printer = tmp_path / "printer.py"
    printer.write_text(PRINTER.format(names=sorted(creds)))
    dump = add_env_dump_server(ws, tmp_path)
    monkeypatch.chdir(tmp_path)
    return {"ws": ws, "planted": {**values, **creds}, "printer": printer, "dump": dump}


@pytest.mark.parametrize("path", ["anthropic", "openai"])
async def test_no_canary_reaches_the_upstream(scene: dict[str, Any], path: str) -> None:
    test_command = f"{sys.executable} {scene['printer']}"
    model, results, response = await run_tools(
        scene["ws"], CALLS, openai=path == "openai",
        **{"policy.tools_allow_exec": True, "policy.git_test_command": test_command},
    )  # fmt: skip
    upstream = json.dumps(model.bodies)
    assert leaks(upstream, scene["planted"]) == []
    assert leaks(response.text, scene["planted"]) == []
    by_call = {f"{tool} {json.dumps(args)}": r["content"] for (tool, args), r
               in zip(CALLS, results, strict=True)}  # fmt: skip
    # Every tool ran and saw the planted files: refusals, withheld hunks, masked values.
    assert "secrets file" in by_call['lynkr_read_file {"path": ".env"}']
    assert "secrets file" in by_call['lynkr_read_file {"path": "innocent.txt"}']
    assert "password: [REDACTED]" in by_call['lynkr_read_file {"path": "config/app.yml"}']
    assert 'STRIPE_SECRET_KEY = "[REDACTED]"' in by_call["lynkr_git_diff {}"]
    assert "export OPENAI_API_KEY=[REDACTED]" in by_call["lynkr_git_diff {}"]
    assert "+  password: [REDACTED]" in by_call["lynkr_git_diff {}"]
    assert ".env is a secrets file" in by_call["lynkr_git_show {}"]
    tests_out = by_call["lynkr_run_tests {}"]
    assert "ANTHROPIC_API_KEY None" in tests_out and "stripe: [REDACTED]" in tests_out
    assert "recorded" in by_call["mcp__envdump__dump_env {}"]
    mcp_env = json.loads(scene["dump"].read_text())
    assert leaks(json.dumps(mcp_env), scene["planted"]) == []
