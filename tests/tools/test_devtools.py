"""The git, index and test tools on a real repository, through the same toolbox the loop uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.serve.tools.toolbox import Toolbox, registry_toolbox
from lynkr_cli.settings import get_settings
from tests.gitrepo import make_repo

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {
        "shapes.py": "class Circle:\n    def area(self):\n        return 3.14\n\n\n"
        "def total(shapes):\n    return sum(s.area() for s in shapes)\n",
        "main.py": "from shapes import Circle, total\n\nprint(total([Circle()]))\n",
    }
    root = make_repo(tmp_path / "repo", files, "feat: shapes")
    (root / "shapes.py").write_text((root / "shapes.py").read_text() + "\n# trailing note\n")
    return root


def box(root: Path, **extra: Any) -> Toolbox:
    settings = get_settings({"gateway.workspace_root": str(root), **extra})
    return registry_toolbox(settings, ToolContext(settings, root.resolve()))


async def ok(b: Toolbox, tool: str, **args: Any) -> str:
    text, is_error = await b.run(tool, args, 30)
    assert not is_error, text
    return text


async def test_git_status_diff_log_review(repo: Path) -> None:
    b = box(repo)
    status = json.loads(await ok(b, "lynkr_git_status"))
    assert status["branch"] == "main"
    assert "shapes.py" in json.dumps(status)
    diff = await ok(b, "lynkr_git_diff")
    assert "+# trailing note" in diff
    assert "shapes.py" in await ok(b, "lynkr_git_diff", paths=["shapes.py"])
    log = json.loads(await ok(b, "lynkr_git_log", limit=5))
    assert log[0]["subject"] == "feat: shapes"
    review = json.loads(await ok(b, "lynkr_git_review"))
    assert "score" in review


async def test_git_argument_injection_refused(repo: Path) -> None:
    b = box(repo)
    text, is_error = await b.run("lynkr_git_diff", {"rev_range": "--output=/tmp/pwned"}, 30)
    assert is_error
    assert not Path("/tmp/pwned").exists()
    text, is_error = await b.run("lynkr_git_diff", {"paths": ["../../etc/passwd"]}, 30)
    assert is_error and "outside the workspace" in text


async def test_git_outside_repo_is_error(tmp_path: Path) -> None:
    text, is_error = await box(tmp_path).run("lynkr_git_status", {}, 30)
    assert is_error and "git" in text.lower()


def as_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON: {text!r}") from None


async def test_index_tools_index_on_first_use(repo: Path) -> None:
    b = box(repo)
    found = as_json(await ok(b, "lynkr_symbols", query="Circle"))
    assert any(s["name"] == "Circle" and s["path"] == "shapes.py" for s in found)
    refs = as_json(await ok(b, "lynkr_references", name="total"))
    assert any(r["path"] == "main.py" for r in refs)
    repo_map = await ok(b, "lynkr_repo_map")
    assert "shapes.py" in repo_map
    missing = await ok(b, "lynkr_symbols", query="NoSuchThingAnywhere")
    assert "no symbols" in missing or missing.strip() == "[]"


async def test_run_tests_needs_exec_policy(repo: Path) -> None:
    command = f"{sys.executable} -c \"print('tests ran ok')\""
    off = box(repo, **{"policy.git_test_command": command})
    text, is_error = await off.run("lynkr_run_tests", {}, 30)
    assert is_error and "POLICY_TOOLS_ALLOW_EXEC" in text
    on = box(repo, **{"policy.git_test_command": command, "policy.tools_allow_exec": True})
    result = json.loads(await ok(on, "lynkr_run_tests"))
    assert "tests ran ok" in json.dumps(result)


async def test_run_tests_no_shell(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    command = f"{sys.executable} -c pass; touch {marker}"
    on = box(repo, **{"policy.git_test_command": command, "policy.tools_allow_exec": True})
    await on.run("lynkr_run_tests", {}, 30)
    assert not marker.exists()  # '; touch' is an argument, never a shell command
