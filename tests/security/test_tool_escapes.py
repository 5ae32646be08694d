"""Escape attempts through every server tool: traversal, absolute paths, symlinks out of the
workspace, secret files (directly, through a symlink with an innocent name, in diffs, in
history, in test output) and git option injection.

Each attempt runs through the same ``Toolbox.run`` the gateway's loop calls, on a real git
repository, with ripgrep and with the Python search; ``test_tool_canaries`` repeats the
secret part through the real gateway.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.serve.tools.toolbox import Toolbox, registry_toolbox
from lynkr_cli.settings import get_settings
from tests.conftest import require
from tests.security.toolkit import PRINTER, PROBES, call_key, check_probe_results, leaks, plant

pytestmark = pytest.mark.timeout(120)


def box(ws: Path, **extra: Any) -> Toolbox:
    settings = get_settings({"gateway.workspace_root": str(ws), **extra})
    return registry_toolbox(settings, ToolContext(settings, ws.resolve()))


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    return plant(tmp_path)


# --------------------------------------------------------------------------- confinement

PATH_TOOLS: dict[str, Callable[[str], dict[str, Any]]] = {
    "lynkr_read_file": lambda p: {"path": p},
    "lynkr_list_files": lambda p: {"path": p},
    "lynkr_search": lambda p: {"pattern": ".", "path": p},
    "lynkr_git_diff": lambda p: {"paths": [p]},
    "lynkr_git_show": lambda p: {"paths": [p]},
}
ESCAPES = ["../outside/outside.txt", "src/../../outside/outside.txt", "../../../../etc/passwd",
           "/etc/passwd", "{outside}", "~/.bashrc", "escape.txt", "escape_dir",
           "escape_dir/outside.txt", "abs_link", "/proc/self/environ", "src/\x00../x"]  # fmt: skip


@pytest.mark.parametrize("tool", sorted(PATH_TOOLS))
async def test_paths_never_leave_the_workspace(
    planted: tuple[Path, dict[str, str]], tool: str
) -> None:
    ws, values = planted
    b = box(ws)
    for raw in ESCAPES:
        path = raw.format(outside=ws.parent / "outside" / "outside.txt")
        text, is_error = await b.run(tool, PATH_TOOLS[tool](path), 30)
        assert is_error, (tool, path, text)
        assert values["outside"] not in text and "root:x:0" not in text, (tool, path)


# --------------------------------------------------------------------------- secret files

SECRET_PATHS = [".env", "innocent.txt", ".env.local", "config/.env.production", "deploy/key.pem",
                ".aws/credentials", ".ssh/id_ed25519", "secrets.yml", "prod.tfvars",
                "./.env", "src/../.env", ".ENV"]  # fmt: skip


async def test_secret_files_refused_by_read_and_search(
    planted: tuple[Path, dict[str, str]],
) -> None:
    ws, _ = planted
    b = box(ws)
    for path in SECRET_PATHS:
        for tool, args in (("lynkr_read_file", {"path": path}),
                           ("lynkr_search", {"pattern": "Cnry", "path": path})):  # fmt: skip
            text, is_error = await b.run(tool, args, 30)
            assert is_error and "secrets file" in text, (tool, path, text)


@pytest.mark.parametrize("search", ["ripgrep", "python"])
async def test_no_tool_shows_a_secret_files_content(
    planted: tuple[Path, dict[str, str]], search: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, values = planted
    if search == "ripgrep":
        require(shutil.which("rg") is not None, "ripgrep not installed (scripts/test-deps.sh)")
    printer = ws.parent / "print_secrets.py"
    printer.write_text(PRINTER.format(names=[]))
    b = box(ws, **{"policy.tools_allow_exec": True,
                   "policy.git_test_command": f"{sys.executable} {printer}"})  # fmt: skip
    git_path = shutil.which("git")
    assert git_path is not None
    if search == "python":
        # No rg on PATH: the Python search must apply the same rules.
        bin_dir = ws.parent / "gitonly"
        bin_dir.mkdir()
        (bin_dir / "git").symlink_to(git_path)
        monkeypatch.setenv("PATH", str(bin_dir))
    by_call = {}
    for tool, args in PROBES:
        text, is_error = await b.run(tool, args, 60)
        assert not is_error, (tool, args, text)
        by_call[call_key(tool, args)] = text
    assert leaks("\n".join(by_call.values()), values) == []
    check_probe_results(by_call)


# --------------------------------------------------------------------------- git injection

INJECTIONS = ["--output={marker}", "-c core.pager=touch {marker}", "--upload-pack=touch {marker}",
              "--exec=touch {marker}", "-p", "HEAD --output={marker}", "HEAD;touch {marker}",
              "$(touch {marker})", "`touch {marker}`", "HEAD..--output={marker}",
              "--output={marker}..HEAD", "HEAD...--upload-pack=touch {marker}",
              "HEAD\n--output={marker}", "--no-index", "-O{marker}"]  # fmt: skip


@pytest.mark.parametrize(
    ("tool", "arg"),
    [("lynkr_git_diff", "rev_range"), ("lynkr_git_log", "rev_range"),
     ("lynkr_git_review", "rev_range"), ("lynkr_git_show", "rev")],
)  # fmt: skip
async def test_git_option_injection_refused(
    planted: tuple[Path, dict[str, str]], tool: str, arg: str
) -> None:
    ws, _ = planted
    marker = ws.parent / "pwned"
    b = box(ws)
    for raw in INJECTIONS:
        value = raw.format(marker=marker)
        text, is_error = await b.run(tool, {arg: value}, 30)
        assert is_error, (tool, value, text)
        assert not marker.exists(), (tool, value)
    assert not any(p.name == "pwned" for p in ws.rglob("*"))


async def test_option_shaped_paths_and_patterns_are_data(
    planted: tuple[Path, dict[str, str]],
) -> None:
    ws, _ = planted
    marker = ws.parent / "pwned"
    b = box(ws)
    for tool, args in (
        ("lynkr_git_diff", {"paths": [f"--output={marker}"]}),
        ("lynkr_git_show", {"paths": [f"--output={marker}", ":(top)*"]}),
        ("lynkr_search", {"pattern": f"--pre=touch {marker}"}),
        ("lynkr_search", {"pattern": "x", "glob": f"--pre=touch {marker}"}),
    ):
        text, _ = await b.run(tool, args, 30)
        assert not marker.exists(), (tool, args, text)
    # A magic pathspec is a literal name: ':(top)*' matches no file, so no patch at all.
    text, _ = await b.run("lynkr_git_diff", {"paths": [":(top)*"]}, 30)
    assert "(no changes)" in text
