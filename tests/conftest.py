"""Shared fixtures: an isolated LYNKR_HOME, a clean environment, a CLI runner."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lynkr_cli import plugins, settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "claude-code"  # captured from the real CLI
TOOLS = ROOT / ".tools" / "node_modules"

# Every environment name a setting listens to, plus the client's own variables.
_SCRUB = {name for s, n in settings.iter_fields() for name in settings.field_env_names(s, n)}
_SCRUB |= {"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_MODEL", "LYNKR_CONFIG"}
_SCRUB |= {"LYNKR_DEBUG", "LYNKR_HOME", "LYNKR_LOAD_PLUGINS"}


@pytest.fixture(autouse=True)
def lynkr_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LYNKR_HOME at a fresh directory and scrub settings from the environment."""
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("lynkr-home")
    monkeypatch.setenv("LYNKR_HOME", str(home))
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    plugins.reset()
    settings.set_config_file(None)
    yield home
    plugins.reset()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Claude Code's HOME in tmp (with ~/.claude/), and the working directory a project in it."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.chdir(project)
    return home


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory (no stray lynkr.toml or .env from the checkout)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def require(condition: bool, reason: str) -> None:
    """Skip when a real external component is missing locally; fail under CI=true."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


async def eventually(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether ``check()`` holds within ``seconds``, polled every 20 ms (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its parent counts)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


def tool_path(name: str) -> Path | None:
    """A binary installed by scripts/test-deps.sh into .tools, or on PATH."""
    local = TOOLS / ".bin" / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def fixture_path(name: str) -> Path:
    path = FIXTURES / name
    assert path.is_file(), f"fixture {name} is missing from {FIXTURES}"
    return path


@pytest.fixture
def invoke(runner: CliRunner) -> Iterator[object]:
    """Call the real root app: ``invoke("config", "show", "--json")``."""
    from lynkr_cli.cli import create_app

    def _invoke(*args: str, input: str | None = None) -> object:
        return runner.invoke(create_app(), list(args), input=input)

    yield _invoke
