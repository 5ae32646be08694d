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
    PRINTER,
    PROBES,
    add_env_dump_server,
    call_key,
    check_probe_results,
    credential_env,
    leaks,
    plant,
    run_tools,
)
from tests.tools.conftest import isolated_home  # noqa: F401 - autouse: HOME in tmp

pytestmark = pytest.mark.timeout(120)

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("lynkr_read_file", {"path": ".env"}),
    ("lynkr_read_file", {"path": "innocent.txt"}),
    ("lynkr_search", {"pattern": "Cnry", "path": ".env"}),
    *PROBES,
    ("mcp__envdump__dump_env", {}),
]


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
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
    by_call = {call_key(tool, args): r["content"] for (tool, args), r
               in zip(CALLS, results, strict=True)}  # fmt: skip
    # Every tool ran and saw the planted files: refusals, withheld hunks, masked values.
    for refused in CALLS[:3]:
        assert "secrets file" in by_call[call_key(*refused)]
    check_probe_results(by_call)
    assert "ANTHROPIC_API_KEY None" in by_call[call_key("lynkr_run_tests", {})]
    assert "recorded" in by_call[call_key("mcp__envdump__dump_env", {})]
    mcp_env = json.loads(scene["dump"].read_text())
    assert leaks(json.dumps(mcp_env), scene["planted"]) == []
