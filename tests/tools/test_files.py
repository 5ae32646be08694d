"""Workspace confinement and the file tools: traversal, symlinks, secrets, injection, bounds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.errors import LynkrError, NotFoundError, PolicyError, UsageError
from lynkr_cli.registry import tools
from lynkr_cli.serve.tools import files
from lynkr_cli.serve.tools.base import ToolContext, result_text
from lynkr_cli.serve.tools.toolbox import registry_toolbox
from lynkr_cli.serve.tools.workspace import confine, is_secret_file
from lynkr_cli.settings import get_settings


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 42\n" + "x = 1\n" * 600)
    (root / "README.md").write_text("hello world\n")
    (root / ".env").write_text("OPENAI_API_KEY=supersecret\n")
    (root / ".env.example").write_text("OPENAI_API_KEY=\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.js").write_text("hello from deps\n")
    (tmp_path / "outside.txt").write_text("outside secret\n")
    return root


def ctx(root: Path, **extra: Any) -> ToolContext:
    settings = get_settings({"gateway.workspace_root": str(root), **extra})
    return ToolContext(settings, root.resolve())


async def read(root: Path, **args: Any) -> str:
    return await files.read_file(args, ctx(root))


@pytest.mark.parametrize("path", ["../outside.txt", "src/../../outside.txt", "/etc/passwd",
                                  "~/.bashrc", "/proc/self/environ"])  # fmt: skip
async def test_traversal_refused(ws: Path, path: str) -> None:
    with pytest.raises(PolicyError, match="outside the workspace"):
        await read(ws, path=path)


async def test_symlink_escape_refused(ws: Path) -> None:
    (ws / "link.txt").symlink_to(ws.parent / "outside.txt")
    (ws / "linkdir").symlink_to(ws.parent)
    with pytest.raises(PolicyError):
        await read(ws, path="link.txt")
    with pytest.raises(PolicyError):
        await read(ws, path="linkdir/outside.txt")
    listed = await files.list_files({}, ctx(ws))
    assert "outside" not in listed


async def test_symlink_inside_allowed(ws: Path) -> None:
    (ws / "alias.md").symlink_to(ws / "README.md")
    assert "hello world" in await read(ws, path="alias.md")


@pytest.mark.parametrize("name", [".env", "src/.env.local", "id_rsa", "server.pem", ".npmrc"])
async def test_secret_files_refused(ws: Path, name: str) -> None:
    (ws / name).parent.mkdir(parents=True, exist_ok=True)
    (ws / name).write_text("TOKEN=abc\n")
    with pytest.raises(PolicyError, match="secrets file"):
        await read(ws, path=name)


async def test_env_symlink_to_secret_refused(ws: Path) -> None:
    (ws / "harmless.txt").symlink_to(ws / ".env")
    with pytest.raises(PolicyError, match="secrets file"):
        await read(ws, path="harmless.txt")


def test_secret_names() -> None:
    assert is_secret_file(Path(".env")) and is_secret_file(Path("prod.env"))
    assert not is_secret_file(Path(".env.example")) and not is_secret_file(Path("env.py"))


async def test_read_ranges_and_bounds(ws: Path) -> None:
    text = await read(ws, path="src/app.py", start_line=2, end_line=2)
    assert "return 42" in text and "def main" not in text
    default = await read(ws, path="src/app.py")
    assert "ask for start_line=401" in default
    with pytest.raises(UsageError):
        await read(ws, path="src/app.py", start_line=5, end_line=2)
    with pytest.raises(NotFoundError):
        await read(ws, path="missing.py")
    with pytest.raises(NotFoundError):
        await read(ws, path="src")


async def test_list_skips_ignored_dirs(ws: Path) -> None:
    listed = (await files.list_files({}, ctx(ws))).splitlines()
    assert "src/app.py" in listed and "README.md" in listed
    assert not any(p.startswith("node_modules") for p in listed)
    only_py = await files.list_files({"pattern": "*.py"}, ctx(ws))
    assert only_py.strip() == "src/app.py"
    capped = await files.list_files({"max_results": 1}, ctx(ws))
    assert "more than 1 files" in capped


async def test_python_search_and_secrets_excluded(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no rg: the Python fallback must work
    out = await files.search({"pattern": "return \\d+"}, ctx(ws))
    assert out == "src/app.py:2:     return 42"
    assert await files.search({"pattern": "supersecret"}, ctx(ws)) == "(no matches)"
    capped = await files.search({"pattern": "x = 1", "max_results": 3}, ctx(ws))
    assert capped.count("\n") == 3 and "more than 3 matches" in capped
    with pytest.raises(UsageError, match="invalid regular expression"):
        await files.search({"pattern": "("}, ctx(ws))


async def test_search_argument_injection(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    (ws / "flags.txt").write_text("use --pre=sh to preprocess\n")
    out = await files.search({"pattern": "--pre=sh", "regex": False}, ctx(ws))
    assert out.startswith("flags.txt:1:")
    argv = files.rg_argv("rg", ctx(ws), {"pattern": "--pre=/bin/sh", "path": "src"})
    assert argv[-3:] == ["--", "--pre=/bin/sh", str(ws.resolve() / "src")]
    with pytest.raises(PolicyError):
        files.rg_argv("rg", ctx(ws), {"pattern": "x", "path": "../"})


def test_result_text_redacts_and_bounds() -> None:
    text = result_text({"key": "Bearer abcdefghijklmnop", "n": 1})
    assert "abcdefghijklmnop" not in text
    assert "truncated" in result_text("y" * 70_000)


def test_confine_rejects_nul(ws: Path) -> None:
    with pytest.raises(PolicyError):
        confine(ws, "a\x00b")


def test_register_tools_hook_builtins_and_policy(ws: Path) -> None:
    registered = tools()
    for name in ("lynkr_read_file", "lynkr_list_files", "lynkr_search", "lynkr_git_diff",
                 "lynkr_tasks_add", "lynkr_run_tests"):  # fmt: skip
        assert name in registered
    assert registered["lynkr_run_tests"].policy == "exec"
    off = registry_toolbox(ctx(ws).settings, ctx(ws))
    assert "lynkr_run_tests" not in off.specs and "lynkr_run_tests" in off.refused
    on = registry_toolbox(ctx(ws, **{"policy.tools_allow_exec": True}).settings, ctx(ws))
    assert "lynkr_run_tests" in on.specs


async def test_refused_tool_reports_why(ws: Path) -> None:
    box = registry_toolbox(ctx(ws).settings, ctx(ws))
    text, is_error = await box.run("lynkr_run_tests", {}, 5)
    assert is_error and "POLICY_TOOLS_ALLOW_EXEC" in text


async def test_tool_env_not_leaked(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LYNKR_SECRET_CANARY", "canary-value-123")
    box = registry_toolbox(ctx(ws).settings, ctx(ws))
    for path in ("/proc/self/environ", f"/proc/{os.getpid()}/environ"):
        text, is_error = await box.run("lynkr_read_file", {"path": path}, 5)
        assert is_error and "canary-value-123" not in text


def test_errors_are_lynkr_errors() -> None:
    assert issubclass(PolicyError, LynkrError)


async def test_git_internals_refused(ws: Path) -> None:
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text('[remote "o"]\n url = https://me:hunter2@example.com/r\n')
    with pytest.raises(PolicyError, match="git internals"):
        await read(ws, path=".git/config")
    assert "hunter2" not in await files.search({"pattern": "hunter2"}, ctx(ws))
    for args in ({"pattern": "hunter2", "path": ".git"}, {"pattern": "x", "path": ".git/config"}):
        with pytest.raises(PolicyError, match="git internals"):
            await files.search(args, ctx(ws))
    with pytest.raises(PolicyError, match="git internals"):
        await files.list_files({"path": ".git"}, ctx(ws))


async def test_register_tools_third_party_plugin(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lynkr_cli import plugins

    manager = plugins.build([*plugins.BUILTIN_PLUGINS, "tests.tools.sample_tool_plugin"])
    monkeypatch.setattr(plugins, "_manager", manager)
    off = registry_toolbox(ctx(ws).settings, ctx(ws))
    assert "demo_echo" in off.specs and "lynkr_read_file" in off.specs
    assert "demo_write" not in off.specs
    text, is_error = await off.run("demo_echo", {"text": "hi"}, 5)
    assert (text, is_error) == ("echo: hi (root ws)", False)
    text, is_error = await off.run("demo_write", {}, 5)
    assert is_error and "POLICY_TOOLS_ALLOW_WRITE" in text
    assert not (ws / "written.txt").exists()
    on_ctx = ctx(ws, **{"policy.tools_allow_write": True})
    on = registry_toolbox(on_ctx.settings, on_ctx)
    assert (await on.run("demo_write", {}, 5))[1] is False
    assert (ws / "written.txt").exists()


async def test_python_search_anchors_and_crlf(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    (ws / "win.txt").write_bytes(b"first line\r\nend here\r\n")
    assert await files.search({"pattern": "here$"}, ctx(ws)) == "win.txt:2: end here"
    assert await files.search({"pattern": "^end"}, ctx(ws)) == "win.txt:2: end here"
    assert await files.search({"pattern": "\\Aend"}, ctx(ws)) == "win.txt:2: end here"
    assert await files.search({"pattern": "HERE", "case_sensitive": False}, ctx(ws)) == (
        "win.txt:2: end here"
    )


async def test_ripgrep_path_matches_python(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from tests.conftest import require

    require(shutil.which("rg") is not None, "ripgrep not installed (scripts/test-deps.sh)")
    (ws / "flags.txt").write_text("use --pre=sh to preprocess\n")
    (ws / ".env.local").write_text("return 42 secret\n")
    cases = [
        {"pattern": "return \\d+"},
        {"pattern": "--pre=sh", "regex": False},
        {"pattern": "HELLO", "case_sensitive": False},
        {"pattern": "x = 1", "max_results": 3},
        {"pattern": "return", "path": "src"},
        {"pattern": "OPENAI"},
    ]
    for args in cases:
        with_rg = await files.search(args, ctx(ws))
        monkeypatch.setenv("PATH", "/nonexistent")
        without = await files.search(args, ctx(ws))
        monkeypatch.undo()
        assert with_rg == without, args
    assert "secret" not in await files.search({"pattern": "secret"}, ctx(ws))
