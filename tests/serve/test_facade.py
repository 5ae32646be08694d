"""serve's facade (`lynkr_cli.serve.api`): every name it offers resolves, and importing it
loads no part of the gateway (doctor and route import it on every run)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lynkr_cli.serve import api


def test_every_offered_name_resolves() -> None:
    for name in api.__all__:
        assert getattr(api, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = api.nothing  # type: ignore[attr-defined]


def test_importing_the_facade_loads_no_gateway() -> None:
    code = (
        "import sys, lynkr_cli.serve.api as a; a.Proxy; a.TokenCommand; "
        "heavy = ('aiohttp', 'lynkr_cli.serve.state'); "
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
