"""The scanners behind doctor's environment checks and import's risk review."""

from __future__ import annotations

from pathlib import Path

from lynkr_cli.switch import conflicts


def test_rc_lines_are_found_with_exact_line_numbers(tmp_path: Path) -> None:
    (tmp_path / ".bashrc").write_text(
        "export ANTHROPIC_MODEL=a\n"  # line 1
        "echo hi\n"
        "  # export ANTHROPIC_BASE_URL=commented\n"
        "ANTHROPIC_BASE_URL='https://x.io' # trailing comment\n"  # line 4
        "export NOT_ANTHROPIC_X=1; export CLAUDE_CONFIG_DIR=/c\n"
        "export ANTHROPIC_API_KEY=sk-unterminated-last-line-1234"  # line 6, no newline
    )
    found = conflicts.rc_files(tmp_path)
    assert [(f.name, f.where.rsplit(":", 1)[1], f.value) for f in found] == [
        ("ANTHROPIC_MODEL", "1", "a"),
        ("ANTHROPIC_BASE_URL", "4", "https://x.io"),
        ("ANTHROPIC_API_KEY", "6", "****1234"),
    ]


def test_fish_set_syntax(tmp_path: Path) -> None:
    conf = tmp_path / ".config" / "fish" / "conf.d"
    conf.mkdir(parents=True)
    (conf / "claude.fish").write_text("set -x -g ANTHROPIC_BASE_URL https://f.io\n")
    found = conflicts.rc_files(tmp_path)
    assert [(f.name, f.value) for f in found] == [("ANTHROPIC_BASE_URL", "https://f.io")]
    assert found[0].where.endswith("claude.fish:1")


def test_risky_names() -> None:
    env = {
        "LD_PRELOAD": "x",
        "DYLD_INSERT_LIBRARIES": "x",
        "NODE_OPTIONS": "x",
        "PATH": "x",
        "https_proxy": "x",
        "NO_PROXY": "x",
        "API_TIMEOUT_MS": "1",
        "LDAP_URL": "x",
    }
    names = [name for name, _ in conflicts.risky(env)]
    assert names == [
        "LD_PRELOAD",
        "DYLD_INSERT_LIBRARIES",
        "NODE_OPTIONS",
        "PATH",
        "https_proxy",
        "NO_PROXY",
    ]


def test_insecure_base_url() -> None:
    assert conflicts.insecure_base_url("http://203.0.113.5:8080")
    assert conflicts.insecure_base_url("http://gateway.internal")
    for ok in ("https://x.io", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"):
        assert not conflicts.insecure_base_url(ok), ok


def test_missing_and_unreadable_files_are_quiet(tmp_path: Path) -> None:
    (tmp_path / ".bashrc").mkdir()  # a directory where a file is expected
    assert conflicts.rc_files(tmp_path) == []
    (tmp_path / ".claude.json").write_text("{not json")
    assert conflicts.claude_json(tmp_path) == []


def test_fish_universal_variables(tmp_path: Path) -> None:
    fish = tmp_path / ".config" / "fish"
    fish.mkdir(parents=True)
    (fish / "fish_variables").write_text(
        "# This file contains fish universal variable definitions.\n"
        "# VERSION: 3.0\n"
        "SETUVAR --export ANTHROPIC_BASE_URL:https\\x3a//u\\x2eexample\\x2ecom/v1\n"
        "SETUVAR ANTHROPIC_MODEL:not\\x20exported\n"
    )
    found = conflicts.rc_files(tmp_path)
    assert [(f.name, f.value, f.where.rsplit(":", 1)[1]) for f in found] == [
        ("ANTHROPIC_BASE_URL", "https://u.example.com/v1", "3")
    ]


def test_fish_universal_variables_written_by_real_fish(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess

    from tests.conftest import require

    fish = shutil.which("fish")
    require(fish is not None, "fish not installed (bash scripts/test-deps.sh installs it)")
    assert fish is not None
    env = {"HOME": str(tmp_path), "PATH": os.environ["PATH"], "XDG_CONFIG_HOME": ""}
    env.pop("XDG_CONFIG_HOME")
    subprocess.run(
        [fish, "-c", "set -Ux ANTHROPIC_AUTH_TOKEN 'sk-fish-universal 0123'"],
        env=env,
        check=True,
        timeout=30,
        capture_output=True,
    )
    found = conflicts.rc_files(tmp_path)
    assert [(f.name, f.value) for f in found] == [("ANTHROPIC_AUTH_TOKEN", "****0123")]
