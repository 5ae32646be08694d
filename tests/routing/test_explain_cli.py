"""``lynkr route explain``: real files, stdin, --json, and every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT

HAIKU_FILE = FIXTURES / "routing-haiku.1.messages.json"
MAIN_FILE = FIXTURES / "routing-web-search.1.messages.json"

ROUTING = """
[provider]
name = "databricks"
fallback = ["anthropic"]

[routing]
default = "databricks,databricks-claude-sonnet-4-5"
background = "openai,gpt-4o-mini"
think = "azure_anthropic,claude-opus-4-1"
longContext = "anthropic,claude-sonnet-4-5"
longContextThreshold = 60000
webSearch = "anthropic,claude-sonnet-4-5"
"""


def explain(invoke: Any, *args: str, input: str | None = None) -> Any:
    return invoke("route", "explain", *args, input=input)


@pytest.fixture
def routed(workdir: Path) -> Path:
    (workdir / "lynkr.toml").write_text(ROUTING)
    return workdir


def test_human_output_says_scenario_upstream_and_why(invoke: Any, routed: Path) -> None:
    result = explain(invoke, str(HAIKU_FILE))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("background -> openai / gpt-4o-mini\n")
    assert "why:       model claude-haiku-4-5-20251001 is in the haiku family" in out
    assert "chosen by: routing.background" in out
    assert "fallbacks: anthropic / claude-haiku-4-5-20251001" in out
    assert "long_context_threshold 60,000" in out
    for scenario in ("explicit", "long_context", "background", "web_search", "think"):
        assert f"\n  {scenario}" in out
    # openai has no key here: said on stderr, the answer still comes
    assert "openai is not configured yet: set OPENAI_API_KEY" in result.stderr


def test_json_is_one_document(invoke: Any, routed: Path) -> None:
    result = explain(invoke, str(MAIN_FILE), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["scenario"] == "default"
    assert doc["target"] == "databricks/databricks-claude-sonnet-4-5"
    assert doc["upstream"] == {"provider": "databricks", "model": "databricks-claude-sonnet-4-5"}
    assert doc["fallbacks"] == [{"provider": "anthropic", "model": "claude-opus-4-8"}]
    assert doc["via"] == "routing.default"
    assert doc["source"] == str(MAIN_FILE)
    assert 10_000 < doc["input_tokens"] < 60_000
    think = next(c for c in doc["checks"] if c["scenario"] == "think")
    assert think == {
        "scenario": "think",
        "matched": False,
        "target": "azure-anthropic/claude-opus-4-1",
        "detail": "thinking is adaptive (Claude Code's default on every main request)",
    }
    assert doc["unconfigured"]["databricks"] == ["DATABRICKS_API_BASE", "DATABRICKS_API_KEY"]


def test_a_bare_body_and_the_explicit_override(invoke: Any, routed: Path, tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    messages = [{"role": "user", "content": "hi"}]
    body = {"model": "openai,gpt-4.1", "max_tokens": 10, "messages": messages}
    path.write_text(json.dumps(body))
    doc = json.loads(explain(invoke, str(path), "--json").stdout)
    assert doc["scenario"] == "explicit"
    assert doc["upstream"] == {"provider": "openai", "model": "gpt-4.1"}
    assert doc["via"] == "the model field (provider,model)"


def test_without_routing_the_model_map_decides(invoke: Any, workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text(
        '[provider]\nname = "databricks"\nmodel_map = { "claude-haiku-*" = "openai:gpt-4o-mini" }\n'
    )
    doc = json.loads(explain(invoke, str(HAIKU_FILE), "--json").stdout)
    assert doc["scenario"] == "none" and doc["target"] is None
    assert doc["upstream"] == {"provider": "openai", "model": "gpt-4o-mini"}
    assert doc["via"] == "provider.model_map (claude-haiku-4-5-20251001 -> openai:gpt-4o-mini)"
    doc = json.loads(explain(invoke, str(MAIN_FILE), "--json").stdout)
    assert doc["via"] == "provider.name (databricks, its default model)"


def test_stdin_with_a_real_pipe(routed: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "lynkr_cli", "route", "explain", "-", "--json"],
        input=HAIKU_FILE.read_bytes(),
        capture_output=True,
        cwd=routed,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["scenario"] == "background" and doc["source"] == "stdin"


def test_explain_imports_no_aiohttp(routed: Path) -> None:
    code = (
        "import sys\n"
        "from lynkr_cli.cli import main\n"
        f"rc = main(['route', 'explain', {str(HAIKU_FILE)!r}, '--json'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'tree_sitter', 'mcp'))\n"  # noqa: E501
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=routed,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stderr


def test_help_has_an_example(invoke: Any) -> None:
    result = explain(invoke, "--help")
    assert result.exit_code == 0
    assert "lynkr route explain request.json" in result.stdout
    assert "'-' reads" in result.stdout


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", 2, "is empty"),
        (b"   \n", 2, "is empty"),
        (b"{not json", 2, "is not JSON"),
        (b"\xff\xfe\x00garbage", 2, "is not JSON"),
        (b"[1, 2]", 2, "is not a Messages request"),
        (b'{"model": "m"}', 2, "is not a Messages request"),
        (b'{"body": {"model": "m"}}', 2, "is not a Messages request"),
        (
            b'{"model": "m", "messages": [{"role": "bot", "content": "x"}]}',
            2,
            "the gateway would answer 400: messages.0.role",
        ),
        (b'{"model": 5, "messages": []}', 2, "the gateway would answer 400: model"),
    ],
)
def test_bad_input(
    invoke: Any, routed: Path, tmp_path: Path, content: bytes, code: int, words: str
) -> None:
    path = tmp_path / "req.json"
    path.write_bytes(content)
    result = explain(invoke, str(path))
    assert result.exit_code == code, result.stdout
    assert words in result.stderr
    assert result.stdout == ""


def test_missing_file_is_not_found(invoke: Any, routed: Path, tmp_path: Path) -> None:
    result = explain(invoke, str(tmp_path / "nope.json"))
    assert result.exit_code == 6
    assert "no such file" in result.stderr


def test_a_directory_is_a_usage_error(invoke: Any, routed: Path, tmp_path: Path) -> None:
    result = explain(invoke, str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_an_unreadable_path_is_a_usage_error(invoke: Any, routed: Path, tmp_path: Path) -> None:
    # under a regular file: unreadable even for root, unlike chmod 0
    (tmp_path / "file.json").write_text("{}")
    result = explain(invoke, str(tmp_path / "file.json" / "req.json"))
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and "Not a directory" in result.stderr


def test_an_unknown_provider_in_routing_exits_3(invoke: Any, workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text('[routing]\nthink = "opnai,o3"\n')
    result = explain(invoke, str(HAIKU_FILE))
    assert result.exit_code == 3
    assert "routing.think = 'opnai,o3'" in result.stderr
    assert "unknown provider 'opnai'" in result.stderr
