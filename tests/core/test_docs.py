"""Docs move with the code: settings table fresh, every hook documented with its signature."""

from __future__ import annotations

import inspect
import subprocess
import sys

from lynkr_cli import hookspecs
from tests.conftest import ROOT


def test_configuration_table_is_fresh() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_config_docs.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout


def test_every_hook_is_documented_with_its_signature() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text()
    hooks = [
        (name, fn)
        for name, fn in vars(hookspecs).items()
        if name.startswith("register_") and callable(fn)
    ]
    assert len(hooks) == 4
    for name, fn in hooks:
        params = ", ".join(inspect.signature(fn).parameters)
        assert f"### `{name}({params})`" in text, name


def test_readme_has_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text


def test_configuration_table_names_each_variable_once() -> None:
    """`LYNKR_CACHE_URL, LYNKR_CACHE_URL` was listed twice: each name appears once per row."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `") and line.count("|") == 4]
    assert len(rows) > 50
    for row in rows:
        names = row.split("|")[3].replace("`", "").replace(" ", "").split(",")
        assert len(names) == len(set(names)), row


def test_readme_says_what_a_new_user_needs() -> None:
    text = (ROOT / "README.md").read_text()
    for needed in (
        "Python ≥ 3.11",
        "make run PORT=9000",
        "pipx install",
        "uv tool install",
        "npm",
        "ripgrep",
        "PostgreSQL",
        "rebuilds a broken `.venv`",
    ):
        assert needed in text, needed
