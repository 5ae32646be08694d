# ruff: noqa: E501  (source text reads better unwrapped)
"""CLAUDE.md: golden files (a diff on failure), human text kept byte for byte, --check, --stdout.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.index import claude_md
from tests.index.helpers import bump_mtime, make_repo

GOLDEN = Path(__file__).parent / "golden"

PROJECT: dict[str, str | bytes] = {
    "pyproject.toml": '[project]\nname = "inventory"\ndescription = "Tracks stock levels."\n'
    'dependencies = ["typer>=0.9", "sqlalchemy>=2"]\n\n[project.optional-dependencies]\n'
    'dev = ["pytest>=8"]\n\n[tool.ruff]\nline-length = 100\n\n[tool.pytest.ini_options]\n'
    'testpaths = ["tests"]\n',
    "Makefile": "test:\n\tpytest\nlint:\n\truff check .\n",
    "inventory/__init__.py": "",
    "inventory/models.py": "class Item:\n    def __init__(self, sku, count):\n        self.sku = sku\n"
    "        self.count = count\n\n\ndef total(items):\n    return sum(i.count for i in items)\n",
    "inventory/cli.py": "from inventory.models import Item, total\n\n\ndef report(rows):\n"
    "    items = [Item(sku, n) for sku, n in rows]\n    return total(items)\n",
    "tests/test_models.py": "from inventory.models import Item, total\n\n\ndef test_total():\n"
    '    assert total([Item("a", 1), Item("b", 2)]) == 3\n',
    "README.md": "# inventory\n",
}
HUMAN = "# Notes for Claude\n\nAlways run the tests.\r\nKeep this \xe9 line exactly.\n"


def assert_golden(text: str, name: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(text.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8") if path.exists() else ""
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True),
                f"golden/{name}", "generated",
            )
        )  # fmt: skip
        pytest.fail(f"CLAUDE.md differs from golden/{name} (UPDATE_GOLDEN=1 rewrites):\n{diff}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "inventory", dict(PROJECT))


def test_generated_claude_md_matches_golden(project: Path, invoke: Any) -> None:
    result = invoke("index", str(project))
    assert result.exit_code == 0, result.stderr
    assert "CLAUDE.md: written" in result.stdout
    assert_golden((project / "CLAUDE.md").read_bytes().decode("utf-8"), "inventory.md")


def test_hand_written_claude_md_gets_the_block_appended(project: Path, invoke: Any) -> None:
    (project / "CLAUDE.md").write_bytes(HUMAN.encode("utf-8"))
    assert invoke("index", str(project)).exit_code == 0
    data = (project / "CLAUDE.md").read_bytes()
    assert data.startswith(HUMAN.encode("utf-8"))
    assert_golden(data.decode("utf-8"), "handwritten.md")
    # A second run changes nothing at all.
    result = invoke("index", str(project))
    assert "CLAUDE.md: unchanged" in result.stdout
    assert (project / "CLAUDE.md").read_bytes() == data


def test_text_around_markers_is_kept_byte_for_byte(project: Path, invoke: Any) -> None:
    before = b"Intro by a human \xff\xfe (not UTF-8)\n\n"
    after = b"\n\nTrailing human notes, no final newline"
    stale = f"{claude_md.BEGIN}\nold generated text\n{claude_md.END}".encode()
    (project / "CLAUDE.md").write_bytes(before + stale + after)
    assert invoke("index", str(project)).exit_code == 0
    data = (project / "CLAUDE.md").read_bytes()
    assert data.startswith(before + claude_md.BEGIN.encode())
    assert data.endswith(claude_md.END.encode() + after)
    assert b"old generated text" not in data
    assert b"## Build, test and lint" in data


def test_check_reports_stale_then_fresh(project: Path, invoke: Any) -> None:
    result = invoke("index", str(project), "--check")
    assert result.exit_code == 1
    assert "CLAUDE.md is stale" in result.stderr
    assert not (project / "CLAUDE.md").exists()  # --check never writes
    assert invoke("index", str(project)).exit_code == 0
    assert invoke("index", str(project), "--check").exit_code == 0
    module = project / "inventory" / "cli.py"
    module.write_text(module.read_text() + "\n\ndef restock(item):\n    return total([item])\n")
    bump_mtime(module)
    result = invoke("index", str(project), "--check", "--json")
    assert result.exit_code == 1
    assert '"status": "stale"' in result.stdout


def test_stdout_previews_without_writing(project: Path, invoke: Any) -> None:
    result = invoke("index", str(project), "--stdout")
    assert result.exit_code == 0
    assert result.stdout.startswith(claude_md.BEGIN)
    assert not (project / "CLAUDE.md").exists()


def test_no_claude_md_flag(project: Path, invoke: Any) -> None:
    assert invoke("index", str(project), "--no-claude-md").exit_code == 0
    assert not (project / "CLAUDE.md").exists()


def test_lonely_marker_is_refused(project: Path, invoke: Any) -> None:
    text = f"human text\n{claude_md.BEGIN}\nno end marker\n"
    (project / "CLAUDE.md").write_text(text)
    result = invoke("index", str(project))
    assert result.exit_code == 2
    assert "marker" in result.stderr
    assert (project / "CLAUDE.md").read_text() == text


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, "B\n"),
        ("", "B\n"),
        ("human", "human\n\nB\n"),
        ("human\n", "human\n\nB\n"),
        ("human\n\n", "human\n\nB\n"),
        (f"x\n{claude_md.BEGIN}\nold\n{claude_md.END}\ny", "x\nB\ny"),
    ],
)
def test_merge(existing: str | None, expected: str) -> None:
    assert claude_md.merge(existing, "B") == expected
