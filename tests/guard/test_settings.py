"""The [guard] settings: defaults, sources, and errors that name the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr_cli.errors import ConfigError
from lynkr_cli.settings import load_settings


def test_defaults_warn_on_secrets_and_pii(tmp_path: Path) -> None:
    guard = load_settings(environ={}, cwd=tmp_path).settings.guard
    assert guard.mode == "warn" and guard.kinds == ["secrets", "pii"]


def test_environment_and_toml(tmp_path: Path) -> None:
    (tmp_path / "lynkr.toml").write_text('[guard]\nmode = "redact"\nkinds = ["secrets"]\n')
    loaded = load_settings(environ={"LYNKR_GUARD_KINDS": "pii,private_ip"}, cwd=tmp_path)
    assert loaded.settings.guard.mode == "redact"
    assert loaded.settings.guard.kinds == ["pii", "private_ip"]
    assert loaded.sources["guard.kinds"] == "env LYNKR_GUARD_KINDS"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LYNKR_GUARD_MODE": "deny"}, "expected one of 'off', 'warn', 'redact' or 'block'"),
        ({"LYNKR_GUARD_KINDS": "secrets,emails"}, "unknown guard kind 'emails'"),
    ],
)
def test_bad_values_say_what_and_where(tmp_path: Path, env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env, cwd=tmp_path)
    assert says in err.value.message and "LYNKR_GUARD_" in err.value.message
