"""Installing lynkr without the repository, and the Makefile's own .venv.

- The wheel, built offline from this checkout, installs into a fresh venv as `pipx` or
  `uv tool` would install it, and that `lynkr` works outside the checkout: its help,
  and commands that read packaged data (presets, tree-sitter queries).
- `make` rebuilds a .venv whose interpreter is gone or too old instead of reusing it,
  and `make run PORT=...` passes the port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # An outer make (CI may run `make -C DIR test`) passes its flags down: -w would add
    # "Entering directory" lines to the plans these tests read.
    outer = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"}
    full = {k: v for k, v in os.environ.items() if k not in outer} | env
    return subprocess.run(
        argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=180, check=False
    )


_NOT_SOURCES = (
    ".git",
    ".venv",
    ".tools",
    "build",
    "*.egg-info",
    "*_cache",
    "__pycache__",
    ".lynkr",
    "tests",
    "docs",
    "plugins",
)


@pytest.fixture
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding lynkr's wheel (no editable checkout on its path); its bin dir."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and a
    # new entry in the checkout (on sys.path, editable) invalidates the settings snapshot
    # of every lynkr process the other test worker is timing.
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(tmp / "dist"), str(source)],
        tmp,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("lynkr-*.whl")
    fresh = tmp / "fresh"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    added = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                 tmp)  # fmt: skip
    assert added.returncode == 0, added.stderr
    # The dependencies come from the project's environment (no download in tests); a plain
    # path line does not run that environment's .pth files, so the checkout stays off the path.
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   tmp).stdout.strip()  # fmt: skip
    (Path(purelib) / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return fresh / "bin"


def test_the_wheel_installs_and_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import lynkr_cli; print(lynkr_cli.__file__)"],
                 tmp_path)  # fmt: skip
    assert where.stdout.startswith(str(installed.parent)), where.stdout  # not the checkout
    helped = _run([str(installed / "lynkr"), "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "index" in helped.stdout and "switch" in helped.stdout
    # The package data is in the wheel: presets, and the tree-sitter tags queries.
    presets = _run([str(installed / "lynkr"), "switch", "presets", "--json"], tmp_path)
    assert presets.returncode == 0, presets.stderr
    assert "databricks" in presets.stdout
    (tmp_path / "app.py").write_text("def handler():\n    return 1\n")
    (tmp_path / "web.ts").write_text("export function route(): number { return 1 }\n")
    indexed = _run([str(installed / "lynkr"), "index", ".", "--json", "--no-claude-md"], tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    found = _run([str(installed / "lynkr"), "index", "defs", "route"], tmp_path)
    assert "web.ts" in found.stdout, found.stderr  # the TypeScript tags query was packaged


# --------------------------------------------------------------------------- the Makefile


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and pyproject.toml in a scratch directory, with a .venv installed earlier."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    os.utime(tmp_path / "pyproject.toml", (1_000_000_000, 1_000_000_000))
    (tmp_path / ".venv" / ".lynkr-installed").touch()
    return tmp_path


def _python(checkout: Path, target: str | None) -> None:
    link = checkout / ".venv" / "bin" / "python"
    if target is None:
        link.write_text("#!/bin/sh\nexit 1\n")  # runs, but is not a Python lynkr can use
        link.chmod(0o755)
    else:
        link.symlink_to(target)


def _make(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(["make", *args, f"PYTHON={sys.executable}"], checkout)


def test_a_working_venv_is_reused(checkout: Path) -> None:
    _python(checkout, sys.executable)
    assert _make(checkout, "-q", "venv").returncode == 0  # up to date: nothing to do


@pytest.mark.parametrize("python", ["/nonexistent/python3.11", None], ids=["gone", "too-old"])
def test_a_broken_venv_is_rebuilt_not_reused(checkout: Path, python: str | None) -> None:
    _python(checkout, python)
    assert _make(checkout, "-q", "venv").returncode == 1  # out of date, despite the stamp
    plan = _make(checkout, "-n", "venv").stdout
    assert "rm -rf .venv" in plan and "pip install -q -e '.[dev]'" in plan


def test_too_old_a_python_is_refused_with_the_fix(checkout: Path, tmp_path: Path) -> None:
    _python(checkout, "/nonexistent/python3.11")
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.9.18' && exit 0\nexit 1\n")
    old.chmod(0o755)
    proc = _run(["make", "venv", f"PYTHON={old}"], checkout)
    assert proc.returncode != 0
    assert "needs Python >= 3.11" in proc.stderr and "Python 3.9.18" in proc.stderr
    assert "make PYTHON=python3.11" in proc.stderr
    assert (checkout / ".venv").exists()  # nothing removed before the refusal


def test_make_run_takes_a_port(checkout: Path) -> None:
    _python(checkout, sys.executable)
    assert _make(checkout, "-n", "run", "PORT=9000").stdout.strip().endswith("serve --port 9000")
    assert _make(checkout, "-n", "run").stdout.strip().endswith("lynkr serve")
