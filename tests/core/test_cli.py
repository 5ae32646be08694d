"""The root command, the error boundary and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
import typer

from lynkr_cli import cli
from lynkr_cli.errors import ConfigError, ExitCode, GitError, PolicyError


def test_help_lists_builtin_commands(invoke: Any) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in ("plugins", "config", "cache"):
        assert name in result.stdout
    assert result.stderr == ""


def test_version(invoke: Any) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == "lynkr 0.1.0"


def test_unknown_command_is_usage_error(invoke: Any) -> None:
    result = invoke("no-such-command")
    assert result.exit_code == ExitCode.USAGE
    assert "No such command" in result.stderr
    assert result.stdout == ""


def _app_raising(exc: BaseException) -> typer.Typer:
    app = cli.create_app()

    @app.command("boom")
    def boom() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (ConfigError("bad port", hint="set PORT"), ExitCode.CONFIG, "bad port"),
        (PolicyError("push refused"), ExitCode.POLICY, "push refused"),
        (GitError("detached", exit_code=ExitCode.GIT_DETACHED_HEAD), 11, "detached"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, ""),
        (RuntimeError("kaboom"), ExitCode.FAILURE, "internal error: RuntimeError: kaboom"),
    ],
)
def test_error_boundary_maps_exceptions(
    runner: Any, exc: BaseException, code: int, text: str
) -> None:
    result = runner.invoke(_app_raising(exc), ["boom"])
    assert result.exit_code == code
    assert text in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_hint_is_printed(runner: Any) -> None:
    result = runner.invoke(_app_raising(ConfigError("bad port", hint="set PORT")), ["boom"])
    assert "hint: set PORT" in result.stderr


def test_debug_reraises_with_traceback(monkeypatch: pytest.MonkeyPatch, runner: Any) -> None:
    monkeypatch.setenv("LYNKR_DEBUG", "1")
    result = runner.invoke(_app_raising(RuntimeError("kaboom")), ["boom"])
    assert isinstance(result.exception, RuntimeError)


def test_main_returns_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert "lynkr" in capsys.readouterr().out
    assert cli.main(["nope"]) == ExitCode.USAGE


def test_missing_config_file_is_config_error(invoke: Any, tmp_path: Any) -> None:
    result = invoke("--config", str(tmp_path / "missing.toml"), "config", "show")
    assert result.exit_code == ExitCode.CONFIG
    assert "does not exist" in result.stderr


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_python_dash_m_works() -> None:
    proc = _run("-m", "lynkr_cli", "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "lynkr 0.1.0"


def test_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from lynkr_cli.cli import main\n"
        "rc = main(['--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'tree_sitter', 'mcp', 'anthropic', 'openai', 'diskcache', 'pydantic')"
        " or m == 'lynkr_cli.index._native')\n"  # the C accelerator: never for help
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(rc)\n"
    )
    proc = _run("-c", code)
    assert proc.returncode == 0, proc.stderr
    heavy_line = next(line for line in proc.stdout.splitlines() if line.startswith("HEAVY="))
    assert heavy_line == "HEAVY=", heavy_line


def test_every_subcommand_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys, typer\n"
        "from lynkr_cli.cli import create_app, main\n"
        "group = typer.main.get_command(create_app())\n"
        "names = list(group.commands)\n"
        "for name in names:\n"
        "    main([name, '--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'tree_sitter', 'mcp') or m == 'lynkr_cli.index._native')\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = _run("-c", code)
    assert proc.returncode == 0, proc.stderr
    heavy_line = next(line for line in proc.stdout.splitlines() if line.startswith("HEAVY="))
    assert heavy_line == "HEAVY=", heavy_line


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["indx"], "'index'"),
        (["swich"], "'switch'"),
        (["index", "serch", "x"], "'search'"),
        (["git", "stauts"], "'status'"),
        (["tasks", "lst"], "'list'"),
        (["mcp", "lst"], "'list'"),
        (["config", "shwo"], "'show'"),
        (["cache", "stat"], "'stats'"),
        (["switch", "prests"], "'presets'"),
    ],
)
def test_typos_suggest_the_command(
    argv: list[str], suggestion: str, invoke: Any, workdir: Any
) -> None:
    result = invoke(*argv)
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert f"Did you mean {suggestion}" in result.stderr
    assert result.stdout == ""


def test_an_existing_directory_named_like_a_typo_is_still_indexed(
    invoke: Any, workdir: Any
) -> None:
    (workdir / "serch").mkdir()
    (workdir / "serch" / "a.py").write_text("def f():\n    pass\n")
    result = invoke("index", "serch", "--no-claude-md")
    assert result.exit_code == 0, result.stderr


def test_a_profile_named_like_a_typo_is_still_switched_to(
    invoke: Any, home: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("switch", "add", "tst", "--base-url", "http://127.0.0.1:9").exit_code == 0
    result = invoke("switch", "tst", "--dry-run")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("group", ["git", "mcp", "tasks", "config", "cache"])
def test_a_bare_group_exits_2_with_its_help_on_stderr(group: str, invoke: Any) -> None:
    result = invoke(group)
    assert result.exit_code == ExitCode.USAGE
    assert f"Usage: root {group} [OPTIONS] COMMAND" in result.stderr
    assert "Commands:" in result.stderr
    assert result.stdout == ""


def test_bare_switch_is_the_documented_exception(invoke: Any, home: Any) -> None:
    """`lynkr switch` is `lynkr switch NAME` without a NAME: it lists the profiles."""
    assert invoke("switch", "add", "p1", "--base-url", "http://127.0.0.1:9").exit_code == 0
    result = invoke("switch")
    assert result.exit_code == 0
    assert "p1" in result.stdout


def test_the_root_help_lists_commands_from_their_declarations() -> None:
    # `lynkr --help` converts no command; each line must still be what the converted
    # command would show (help or short help, cut the same way, hidden, deprecated).
    group = typer.main.get_command(cli.create_app())
    assert isinstance(group, cli.LynkrGroup)
    assert group.lazy, "the built-in commands are converted lazily"
    lines = {name: cli._listing(name, info) for name, info in group.lazy.items()}
    with typer.Context(group, info_name="lynkr") as ctx:
        group.get_help(ctx)
        assert not set(group.lazy) & set(group.commands), "--help converted a command"
        for name, stand_in in lines.items():
            real = group.get_command(ctx, name)
            for limit in (30, 60, 200):
                assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), name
            assert (stand_in.hidden, stand_in.deprecated) == (real.hidden, real.deprecated)
