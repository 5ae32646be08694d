"""docs/guard.md runs as written and names every kind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lynkr_cli.guard.kinds import ALL_KINDS
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "guard.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.DOTALL)


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_every_kind_is_documented() -> None:
    for kind in ALL_KINDS:
        assert f"`{kind}`" in DOC, kind


def test_the_examples_run_as_written(tmp_path: Path) -> None:
    (tmp_path / "request.json").write_text(_blocks("json")[0])
    first, more = _blocks("sh")
    proc = _run(first, tmp_path)
    assert proc.returncode == 1, proc.stderr  # findings: exit 1
    shown = _blocks("text")[1]  # the table the doc shows
    for line in shown.strip().splitlines():
        assert line in proc.stdout, line
    for line in more.strip().splitlines():
        command = line.split("  #")[0].strip()
        proc = _run(command, tmp_path)
        assert proc.returncode in (0, 1), (command, proc.stderr)
        if command.startswith("lynkr guard scan clean.json"):
            assert proc.returncode == 0 and "nothing found" in proc.stdout
    clean = (tmp_path / "clean.json").read_text()
    for line in _blocks("text")[2].strip().splitlines():
        assert line.strip() in clean, line


def test_the_python_example_prints_what_it_says() -> None:
    (code,) = _blocks("python")
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "[REDACTED:email]" in proc.stdout and "{'email': 1}" in proc.stdout
