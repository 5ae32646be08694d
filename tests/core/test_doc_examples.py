"""Every code block in docs/ and the README that is meant to run, runs.

A fence's info string says what the block is: ``python``, ``sh``, ``toml`` and
``json`` blocks are run (or loaded), and ``text``/``markdown`` blocks are output or
file excerpts. A block that only illustrates (a synopsis with ``[OPTIONS]``, a
placeholder path, a server that runs until Ctrl-C) says so with ``no-run`` after its
language: ```` ```sh no-run ````. Every block must declare one of these, so none is
skipped silently.

How each kind runs, in a sandbox (a git repository as the working directory, HOME and
LYNKR_HOME of its own, no provider, nothing but 127.0.0.1 reachable):

- ``sh``: each command line in bash. It may fail the way the docs say it can (a check
  failing, a name not found), but never as a usage error (exit 2: the example is
  wrong), a missing command, or an internal error.
- ``python``: run with the project's interpreter; a block holding ``@hookimpl`` is a
  plugin module, installed as a real distribution (a ``*.dist-info`` with its entry
  point) and loaded by ``lynkr``.
- ``toml``: parsed; a ``lynkr.toml`` example is also loaded by ``lynkr config show``
  and ``lynkr mcp list`` without a problem. ``json``: parsed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.gitrepo import make_repo
from tests.plugindist import install

RUN = {"python", "sh", "toml", "json"}
SHOWN = {"text", "markdown"}
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    flags: tuple[str, ...]
    text: str

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        lines = path.read_text().splitlines()
        start, info, body = 0, "", []
        inside = False
        for number, line in enumerate(lines, 1):
            if line.startswith("```"):
                if inside:
                    words = info.split()
                    lang = words[0] if words else ""
                    found.append(Block(path, start, lang, tuple(words[1:]), "\n".join(body)))
                    inside = False
                else:
                    start, info, body, inside = number, line[3:].strip(), [], True
            elif inside:
                body.append(line)
    return found


BLOCKS = blocks()
RUNNABLE = [b for b in BLOCKS if b.lang in RUN and "no-run" not in b.flags]


def test_every_block_says_what_it_is() -> None:
    unknown = [f"{b.id} ```{b.lang}" for b in BLOCKS if b.lang not in RUN | SHOWN]
    assert not unknown, f"give these an info string ({sorted(RUN | SHOWN)}): {unknown}"
    assert len(RUNNABLE) >= 15  # most examples run


@pytest.fixture
def sandbox(tmp_path: Path) -> dict[str, str]:
    repo = make_repo(
        tmp_path / "repo",
        {
            "app/server.py": "class HttpServer:\n    def parse_request(self):\n        pass\n",
            "app/main.py": "from app.server import HttpServer\nHttpServer().parse_request()\n",
            "tests/test_app.py": "def test_ok():\n    assert True\n",
        },
        message="feat: start",
        hermetic=True,
    )
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        HOME=str(home),
        PATH=f"{BIN}{os.pathsep}{env['PATH']}",
        REPO=str(repo),
        DATABRICKS_API_BASE="http://127.0.0.1:9",
        DATABRICKS_API_KEY="dapi-doc-example",
        GIT_AUTHOR_NAME="Doc Example",
        GIT_AUTHOR_EMAIL="doc@example.invalid",
        GIT_COMMITTER_NAME="Doc Example",
        GIT_COMMITTER_EMAIL="doc@example.invalid",
    )
    env.pop("COLUMNS", None)
    return env


def _run(argv: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=env["REPO"],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _commands(text: str) -> list[str]:
    """The block's logical lines: continuations joined, comments and blanks dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def _run_sh(block: Block, env: dict[str, str]) -> None:
    for command in _commands(block.text):
        proc = _run(["bash", "--norc", "--noprofile", "-c", command], env, "sk-doc-example\n")
        said = f"{block.id}: `{command}` exited {proc.returncode}\n{proc.stderr[-2000:]}"
        assert proc.returncode not in (2, 126, 127), said
        assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, said


def _plugin_env(env: dict[str, str], site: Path, entry: str) -> dict[str, str]:
    return {**env, "PYTHONPATH": str(site), "LYNKR_LOAD_PLUGINS": entry}


def _run_python(block: Block, env: dict[str, str], tmp_path: Path) -> None:
    if "@hookimpl" not in block.text:
        proc = _run([sys.executable, "-c", block.text], env)
        assert proc.returncode == 0, f"{block.id}\n{proc.stderr[-2000:]}"
        return
    site = tmp_path / "site"
    install(site, "doc-plugin", "doc_plugin", block.text)
    plugin_env = _plugin_env(env, site, "doc-plugin")
    proc = _run([*LYNKR, "plugins", "--json"], plugin_env)
    assert proc.returncode == 0, proc.stderr
    (listed,) = [p for p in json.loads(proc.stdout) if p["name"] == "doc-plugin"]
    assert listed["error"] is None and listed["hooks"], listed
    assert proc.stderr == "", proc.stderr  # no load warning
    if "register_doctor_checks" in listed["hooks"]:
        name = re.search(r'DoctorCheck\(name="([^"]+)"', block.text)
        assert name, "a doctor-check example names its check"
        proc = _run([*LYNKR, "doctor", "--only", name[1], "--json"], plugin_env)
        checks = [c["name"] for c in json.loads(proc.stdout)["checks"]]
        assert name[1] in checks, proc.stdout


def _run_toml(block: Block, env: dict[str, str]) -> None:
    tomllib.loads(block.text)
    if block.text.startswith("# pyproject.toml"):
        return  # a plugin's packaging: see test_the_plugin_example_installs_and_runs
    config = Path(env["REPO"]) / "lynkr.toml"
    config.write_text(block.text)
    shown = _run([*LYNKR, "config", "show", "--json"], env)
    assert shown.returncode == 0, f"{block.id}\n{shown.stderr}"
    found = _run([*LYNKR, "mcp", "list", "--json"], env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["problems"] == []


LYNKR = [sys.executable, "-m", "lynkr_cli"]


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_doc_block_runs(block: Block, sandbox: dict[str, str], tmp_path: Path) -> None:
    if block.lang == "sh":
        _run_sh(block, sandbox)
    elif block.lang == "python":
        _run_python(block, sandbox, tmp_path)
    elif block.lang == "toml":
        _run_toml(block, sandbox)
    else:
        json.loads(block.text)


def test_the_plugin_example_installs_and_runs(sandbox: dict[str, str], tmp_path: Path) -> None:
    """docs/plugins.md: its pyproject entry point and its module, as a real distribution."""
    doc = [b for b in BLOCKS if b.path.name == "plugins.md"]
    packaging = next(b for b in doc if b.lang == "toml")
    module_block = next(b for b in doc if b.lang == "python")
    ((entry, target),) = tomllib.loads(packaging.text)["project"]["entry-points"]["lynkr"].items()
    filename = module_block.text.splitlines()[0].removeprefix("# ").strip()
    assert filename == f"{target}.py"  # the module the entry point names
    site = tmp_path / "site"
    install(site, "lynkr-hello", target, module_block.text, entry=entry, version="0.1.0")
    env = _plugin_env(sandbox, site, entry)
    greeted = _run([*LYNKR, "hello", "greet"], env)
    assert greeted.returncode == 0, greeted.stderr
    assert greeted.stdout == "hello world\n"
    assert greeted.stderr == ""  # loaded without a warning
    named = _run([*LYNKR, "hello", "greet", "--name", "ann"], env)
    assert named.stdout == "hello ann\n"
    listed = json.loads(_run([*LYNKR, "plugins", "--json"], env).stdout)
    (hello,) = [p for p in listed if p["name"] == entry]
    assert (hello["version"], hello["hooks"], hello["error"]) == (
        "0.1.0",
        ["register_commands"],
        None,
    )
