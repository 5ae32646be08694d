"""Shell completion in the real shells: bash, zsh (interactive, on a pty) and fish.

Each shell loads the script ``lynkr --show-completion SHELL`` prints and completes
commands, options and names (profiles, presets, providers, MCP servers, doctor checks,
index symbols), by running the real ``lynkr`` console script.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import piped
from tests.conftest import require
from tests.plugindist import install

BIN = Path(sys.executable).parent  # where the `lynkr` console script is


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """PATH with `lynkr`, a HOME of its own, and one saved profile and one MCP server."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COLUMNS", None)
    work = tmp_path / "work"
    work.mkdir()
    (work / "lynkr.toml").write_text('[mcp.servers.clockwork]\ncommand = "mcp-server-time"\n')
    (work / "app.py").write_text("def get_settings():\n    pass\ndef get_meta():\n    pass\n")
    added = piped("switch", "add", "work-gw", "--base-url", "http://127.0.0.1:9", env=env)
    assert added.returncode == 0, added.stderr
    assert piped("index", str(work), "--no-claude-md", env=env).returncode == 0
    env["WORK"] = str(work)
    return env


def _script(shell: str, env: dict[str, str]) -> str:
    proc = piped("--show-completion", shell, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _shell(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=env["WORK"], capture_output=True, text=True, timeout=60, check=False
    )


def _bash(line: str, env: dict[str, str]) -> list[str]:
    """COMPREPLY for ``line`` (a trailing space completes a new word), from real bash."""
    script = _script("bash", env)
    words = line.split(" ")
    program = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_lynkr_completion lynkr\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = _shell(["bash", "--norc", "--noprofile", "-c", program], env)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("lynkr in", ["index"]),
        ("lynkr git st", ["stage", "status"]),
        ("lynkr switch work", ["work-gw"]),
        ("lynkr switch datab", ["databricks", "databricks-direct"]),
        ("lynkr switch show w", ["work-gw"]),
        ("lynkr serve --provider az", ["azure-anthropic"]),
        ("lynkr mcp call cl", ["clockwork"]),
        ("lynkr doctor --only clau", ["claude", "claude-code", "claude-target"]),
        ("lynkr index defs get_s", ["get_settings"]),
        ("lynkr --install", ["--install-completion"]),
    ],
)
def test_bash_completes(line: str, expected: list[str], shell_env: dict[str, str]) -> None:
    assert sorted(_bash(line, shell_env)) == sorted(expected)


def test_bash_install_completion_is_picked_up_by_an_interactive_shell(
    shell_env: dict[str, str],
) -> None:
    proc = piped("--install-completion", "bash", env=shell_env)
    assert proc.returncode == 0, proc.stderr
    home = Path(shell_env["HOME"])
    assert "source" in (home / ".bashrc").read_text()
    check = _shell(["bash", "-i", "-c", "complete -p lynkr"], shell_env)
    assert "_lynkr_completion" in check.stdout, check.stderr


def test_fish_completes(shell_env: dict[str, str]) -> None:
    fish = shutil.which("fish")
    require(fish is not None, "fish is not installed (scripts/test-deps.sh installs it)")
    assert fish is not None
    script = _script("fish", shell_env)
    program = (
        f"{script}\n"
        'complete --do-complete "lynkr git st"\n'
        'echo ---\ncomplete --do-complete "lynkr switch work"\n'
    )
    proc = _shell([fish, "--no-config", "-c", program], shell_env)
    assert proc.returncode == 0, proc.stderr
    commands, profiles = proc.stdout.split("---\n")
    assert [line.split("\t")[0] for line in commands.splitlines()] == ["stage", "status"]
    assert profiles.splitlines()[0].split("\t")[0] == "work-gw"


ZPTY = r"""
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -D; source $SCRIPT; print READY'
zpty -r z line '*READY*'
zpty -w -n z "$LINE"$'\t'
out=""
for i in {1..150}; do
  while zpty -r -t z chunk; do out+="$chunk"; done
  [[ "$out" == *"$WANT"* ]] && break
  sleep 0.1
done
zpty -d z
print -r -- "$out"
"""


@pytest.mark.parametrize(
    ("line", "want"),
    [("lynkr gi", "lynkr git"), ("lynkr switch work-", "lynkr switch work-gw")],
)
def test_zsh_completes_interactively(
    line: str, want: str, shell_env: dict[str, str], tmp_path: Path
) -> None:
    zsh = shutil.which("zsh")
    require(zsh is not None, "zsh is not installed (scripts/test-deps.sh installs it)")
    assert zsh is not None
    script = tmp_path / "lynkr.zsh"
    script.write_text(_script("zsh", shell_env))
    env = {**shell_env, "SCRIPT": str(script), "LINE": line, "WANT": want}
    proc = _shell([zsh, "-f", "-c", ZPTY], env)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", proc.stdout.replace("\r", ""))
    assert f"{want} " in screen, screen[-2000:]  # completed, and the word closed


def test_completion_never_shows_plugin_warnings(shell_env: dict[str, str], tmp_path: Path) -> None:
    """A broken plugin warns on stderr, which a completing shell would print mid-line."""
    site = tmp_path / "site"
    install(site, "lynkr-broken", "lynkr_broken", "raise RuntimeError('broken')\n")
    env = {
        **shell_env,
        "PYTHONPATH": str(site),
        "LYNKR_LOAD_PLUGINS": "lynkr-broken",
        "_LYNKR_COMPLETE": "complete_bash",
        "COMP_WORDS": "lynkr gi",
        "COMP_CWORD": "1",
    }
    proc = piped(env=env)
    assert proc.stdout.split() == ["git"]
    assert proc.stderr == ""


def test_unknown_shell_is_a_usage_error(shell_env: dict[str, str]) -> None:
    proc = piped("--show-completion", "tcsh", env=shell_env)
    assert proc.returncode == 2
    assert "bash, zsh, fish" in proc.stderr
