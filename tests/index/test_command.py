"""The CLI: `lynkr index .` and `lynkr index search ...` share one group; --json everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.index.helpers import make_repo

FILES: dict[str, str | bytes] = {
    "core.py": "def parse_request(raw):\n    return raw\n\n\nclass HttpServer:\n"
    "    def serve(self):\n        return parse_request(b'')\n",
    "client.py": "from core import parse_request, HttpServer\n\n\ndef fetch():\n"
    "    HttpServer().serve()\n    return parse_request(b'x')\n",
    "web/app.ts": "export function parseRequestBody(x: string): string {\n  return x;\n}\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", dict(FILES))


def test_index_dot_in_the_working_directory(
    repo: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    result = invoke("index", ".", "--no-claude-md")
    assert result.exit_code == 0, result.stderr
    assert "index rebuilt: 3 files, 5 symbols" in result.stdout
    assert (repo / ".lynkr" / "index.db").is_file()


def test_bare_index_and_options_first(
    repo: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert invoke("index").exit_code == 0
    result = invoke("index", "--full", "--json", ".")
    doc = json.loads(result.stdout)
    assert doc["full_rebuild"] is True and doc["files"] == 3


def test_index_json_is_one_document(repo: Path, invoke: Any) -> None:
    result = invoke("index", str(repo), "--json", "--no-claude-md")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["symbols"] == 5 and doc["languages"]["python"]["files"] == 2
    assert doc["claude_md"]["status"] == "skipped"
    again = json.loads(invoke("index", str(repo), "--json", "--no-claude-md").stdout)
    assert (again["parsed"], again["unchanged"], again["changed"]) == (0, 3, False)


def test_search_prefix_and_fuzzy(repo: Path, invoke: Any) -> None:
    result = invoke("index", "search", "parse req", "--root", str(repo), "--json")
    assert result.exit_code == 0, result.stderr
    names = [r["name"] for r in json.loads(result.stdout)]
    assert names[:2] == ["parse_request", "parseRequestBody"]
    fuzzy = json.loads(invoke("index", "search", "HttpSever", "-C", str(repo), "--json").stdout)
    assert fuzzy[0]["name"] == "HttpServer"
    only_ts = invoke("index", "search", "parse", "-C", str(repo), "--lang", "typescript", "--json")
    assert [r["path"] for r in json.loads(only_ts.stdout)] == ["web/app.ts"]
    classes = invoke("index", "search", "serv", "-C", str(repo), "--kind", "class", "--json")
    assert [r["name"] for r in json.loads(classes.stdout)] == ["HttpServer"]


def test_search_with_fts_syntax_characters(repo: Path, invoke: Any) -> None:
    result = invoke("index", "search", 'parse" OR "x*', "-C", str(repo), "--json")
    assert result.exit_code in (0, 6)
    json.loads(result.stdout)


def test_defs_and_refs(repo: Path, invoke: Any) -> None:
    defs = json.loads(invoke("index", "defs", "parse_request", "-C", str(repo), "--json").stdout)
    assert [(d["path"], d["line"], d["kind"]) for d in defs] == [("core.py", 1, "function")]
    refs = json.loads(invoke("index", "refs", "parse_request", "-C", str(repo), "--json").stdout)
    assert [(r["path"], r["line"]) for r in refs] == [("client.py", 6), ("core.py", 7)]
    assert refs[0]["definition"] == {"path": "core.py", "line": 1}
    human = invoke("index", "defs", "HttpServer", "-C", str(repo))
    assert "core.py:5:7" in human.stdout


def test_unknown_name_exits_not_found(repo: Path, invoke: Any) -> None:
    result = invoke("index", "defs", "no_such_symbol", "-C", str(repo))
    assert result.exit_code == 6
    assert "no definition" in result.stderr
    as_json = invoke("index", "refs", "no_such_symbol", "-C", str(repo), "--json")
    assert as_json.exit_code == 6 and json.loads(as_json.stdout) == []


def test_map_fits_the_budget(repo: Path, invoke: Any) -> None:
    invoke("index", str(repo), "--no-claude-md")
    result = invoke("index", "map", "-C", str(repo))
    assert result.stdout.startswith("core.py:\n")
    assert "def parse_request(raw):" in result.stdout
    small = json.loads(invoke("index", "map", "--tokens", "12", "-C", str(repo), "--json").stdout)
    assert len(small["map"]) <= 48
    assert invoke("index", "map", "--tokens", "0", "-C", str(repo)).exit_code == 2


def test_stats(repo: Path, invoke: Any) -> None:
    missing = invoke("index", "stats", "-C", str(repo))
    assert missing.exit_code == 6 and "lynkr index" in missing.stderr
    invoke("index", str(repo), "--no-claude-md")
    doc = json.loads(invoke("index", "stats", "-C", str(repo), "--json").stdout)
    assert doc["status"] == "fresh" and doc["files"] == 3
    assert set(doc["languages"]) == {"python", "typescript"}
    assert "status" in invoke("index", "stats", "-C", str(repo)).stdout


def test_missing_path_is_an_error(tmp_path: Path, invoke: Any) -> None:
    result = invoke("index", str(tmp_path / "nowhere"))
    assert result.exit_code == 6
    assert "not a directory" in result.stderr


def test_help_lists_subcommands(invoke: Any) -> None:
    result = invoke("index", "--help")
    assert result.exit_code == 0
    for name in ("search", "defs", "refs", "map", "stats", "[PATH]"):
        assert name in result.stdout


def test_real_process_and_lazy_imports(repo: Path) -> None:
    """The installed entry point works, and `lynkr --help` does not import tree-sitter."""
    code = (
        "import sys; from lynkr_cli.cli import main; rc = main(['--help']); "
        "assert 'tree_sitter' not in sys.modules, 'tree_sitter imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
    proc = subprocess.run(
        [sys.executable, "-m", "lynkr_cli", "index", str(repo), "--json", "--no-claude-md"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == 3


def test_directory_named_like_a_subcommand(
    tmp_path: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_repo(tmp_path / "search", {"s.py": "def found():\n    pass\n"})
    monkeypatch.chdir(tmp_path)
    as_path = invoke("index", "./search", "--json", "--no-claude-md")
    assert as_path.exit_code == 0 and json.loads(as_path.stdout)["symbols"] == 1
    as_command = invoke("index", "search")  # the subcommand, missing its QUERY
    assert as_command.exit_code == 2
