"""A ripgrep that never answers (a hung filesystem, a stopped process) cannot hang the
server-side search tool: past ``RG_SECONDS`` it is killed and the Python scan answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lynkr_cli.serve.tools import files
from lynkr_cli.serve.tools.base import ToolContext
from lynkr_cli.settings import get_settings


async def test_a_stuck_ripgrep_is_killed_and_the_python_scan_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("def main():\n    return 42\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pids = tmp_path / "rg.pid"
    fake = bin_dir / "rg"
    fake.write_text(f"#!/bin/sh\necho $$ > {pids}\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(files, "RG_SECONDS", 0.5)
    settings = get_settings({"gateway.workspace_root": str(root)})
    out = await files.search({"pattern": "return"}, ToolContext(settings, root.resolve()))
    assert out == "app.py:2:     return 42"
    pid = int(pids.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)
