"""A temporary HOME and working directory, and a helper running `lynkr doctor --json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def doctor(invoke: Any, home: Path) -> Callable[..., tuple[int, dict[str, Any], str]]:
    """Run doctor with --json; return (exit code, {check name: result}, stderr)."""

    def run(*args: str) -> tuple[int, dict[str, Any], str]:
        result = invoke("doctor", "--json", "--timeout", "2", *args)
        doc = json.loads(result.stdout)
        assert doc["ok"] == (result.exit_code == 0)
        return result.exit_code, {c["name"]: c for c in doc["checks"]}, result.stdout

    return run
