"""Real git repositories in tmp: a working tree with a bare repository as ``origin``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepo import git

__all__ = ["git"]


@dataclass
class Repos:
    work: Path
    remote: Path
    root: Path

    def write(self, rel: str, text: str) -> Path:
        path = self.work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit_all(self, message: str) -> str:
        git(self.work, "add", "--all")
        git(self.work, "commit", "-q", "-m", message)
        return git(self.work, "rev-parse", "HEAD").strip()

    def clone(self, name: str) -> Path:
        path = self.root / name
        git(self.root, "clone", "-q", str(self.remote), str(path))
        return path


@pytest.fixture(autouse=True)
def git_identity(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed identity and an empty global config, so the host's git settings never leak in."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Ada Lovelace")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "ada@example.com")


@pytest.fixture
def repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repos:
    """``work`` (cwd, one commit on main, pushed) with ``origin`` a bare repository."""
    remote = tmp_path / "origin.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(tmp_path, "init", "-q", str(work))
    git(work, "remote", "add", "origin", str(remote))
    r = Repos(work, remote, tmp_path)
    r.write("README.md", "hello\n")
    r.commit_all("chore: start")
    git(work, "push", "-q", "-u", "origin", "main")
    monkeypatch.chdir(work)
    return r


@pytest.fixture
def run_json(invoke: Callable[..., Any]) -> Callable[..., Any]:
    """``run_json("git", "status")``: invoke with --json, assert success, parse stdout."""

    def _run(*args: str) -> Any:
        # --json goes before a "--", after which everything is an argument.
        cut = args.index("--") if "--" in args else len(args)
        result = invoke(*args[:cut], "--json", *args[cut:])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return _run
