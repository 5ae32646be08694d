"""The settings snapshot never makes a command fail: a cache folder that cannot be
written, writers racing, a file changed while it is read, a half-written file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import settings, snapshot


def test_an_unwritable_cache_only_costs_speed(workdir: Path, lynkr_home: Path) -> None:
    """The cache folder cannot be made (a file stands there; root ignores modes)."""
    lynkr_home.mkdir(parents=True, exist_ok=True)
    (lynkr_home / "cache").write_text("not a folder")
    for _ in range(2):
        assert settings.load_settings(environ={"PORT": "9000"}).settings.server.port == 9000
    assert snapshot.section("server") is None
    assert (lynkr_home / "cache").read_text() == "not a folder"


def test_racing_writers_leave_a_whole_file(workdir: Path, lynkr_home: Path) -> None:
    """Eight processes, each with its own inputs, load at once: the file is always whole
    JSON (replaced at once), and each load gave its own settings."""
    code = (
        "import os; from lynkr_cli import settings\n"
        "for _ in range(5):\n"
        "    port = settings.load_settings().settings.server.port\n"
        "    assert port == int(os.environ['PORT']), port\n"
    )
    base = {"PATH": os.environ["PATH"], "LYNKR_HOME": str(lynkr_home)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=workdir, env=base | {"PORT": str(p)})
        for p in range(9000, 9008)
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * 8
    data = json.loads((lynkr_home / "cache" / snapshot.FILENAME).read_text())
    assert 1 <= len(data["entries"]) <= 8
    assert not [p for p in (lynkr_home / "cache").iterdir() if p.name != snapshot.FILENAME]


def test_a_file_changed_while_loading_is_not_recorded(
    workdir: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inputs are read again after validating: an edit in between is not recorded
    against the old stat (the next load validates the new file)."""
    toml = workdir / "lynkr.toml"
    toml.write_text("[server]\nport = 9001\n")
    real = settings.toml_layer

    def edited_meanwhile(path: Path) -> Any:
        layer = real(path)
        toml.write_text("[server]\nport = 9002\n# a longer file\n")
        return layer

    monkeypatch.setattr(settings, "toml_layer", edited_meanwhile)
    assert settings.load_settings(environ={}).settings.server.port == 9001
    assert snapshot.recall("") is None and not (lynkr_home / "cache" / snapshot.FILENAME).exists()
    monkeypatch.setattr(settings, "toml_layer", real)
    assert settings.load_settings(environ={}).settings.server.port == 9002


def test_a_half_written_file_is_a_miss(workdir: Path, lynkr_home: Path) -> None:
    settings.load_settings(environ={})
    path = lynkr_home / "cache" / snapshot.FILENAME
    path.write_text(path.read_text()[:100])
    assert snapshot.section("index") is None
    assert settings.load_settings(environ={}).settings.server.port == 8080
    json.loads(path.read_text())
