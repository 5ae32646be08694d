"""The ``[team]`` settings: environment names, lynkr.toml price tables, bad values."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from lynkr_cli.errors import ConfigError
from lynkr_cli.settings import TeamSettings, load_settings
from lynkr_cli.team.api import Team
from lynkr_cli.team.types import Usage


def test_defaults() -> None:
    team = load_settings(environ={}, cwd=Path("/nonexistent")).settings.team
    assert (team.key_cache_ttl, team.audit, team.audit_retention_days) == (5.0, "metadata", 90)
    assert (team.usage_batch_size, team.usage_flush_seconds) == (0, 1.0)
    assert team.metrics_key is None and team.prices == {}


def test_batch_size_is_automatic_unless_set() -> None:
    def team(**env: str) -> TeamSettings:
        return load_settings(environ=env, cwd=Path("/nonexistent")).settings.team

    assert team().batch_size() == 3000
    assert team(LYNKR_AUDIT="off").batch_size() == 3000
    assert team(LYNKR_AUDIT="full").batch_size() == 100  # two bodies a record
    assert team(LYNKR_USAGE_BATCH="7", LYNKR_AUDIT="full").batch_size() == 7


def test_environment_names() -> None:
    env = {
        "LYNKR_AUDIT": "full",
        "LYNKR_KEY_CACHE_TTL": "2",
        "LYNKR_AUDIT_RETENTION_DAYS": "0",
        "LYNKR_USAGE_BATCH": "10",
        "LYNKR_METRICS_KEY": "metrics-secret-123",
        "LYNKR_PRICES": '{"my-model*": {"input": 1, "output": "2.5"}}',
    }
    team = load_settings(environ=env, cwd=Path("/nonexistent")).settings.team
    assert (team.audit, team.key_cache_ttl, team.audit_retention_days) == ("full", 2.0, 0)
    assert team.usage_batch_size == 10 and team.prices["my-model*"]["output"] == "2.5"
    assert team.batch_size() == 10
    assert team.metrics_key is not None and team.metrics_key.get_secret_value().startswith("m")


def test_price_tables_in_lynkr_toml_reach_the_team(workdir: Path) -> None:
    (workdir / "prices.toml").write_text('[[model]]\nmatch = "local-*"\ninput = 1\noutput = 1\n')
    (workdir / "lynkr.toml").write_text(
        '[team.prices."databricks-claude-*"]\ninput = 3\noutput = "15"\ncache_read = 0.3\n\n'
        '[team]\nprices_file = "prices.toml"\naudit = "off"\n'
    )
    settings = load_settings(environ={}).settings
    team = Team.open(settings)
    assert team.cost("databricks-claude-x", Usage(output_tokens=10**6)) == Decimal(15)
    assert team.cost("local-llm", Usage(input_tokens=10**6)) == Decimal(1)
    assert team.settings.audit == "off"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"LYNKR_AUDIT": "everything"}, "team.audit"),
        ({"LYNKR_KEY_CACHE_TTL": "0"}, "team.key_cache_ttl"),
        ({"LYNKR_USAGE_BATCH": "-1"}, "team.usage_batch_size"),
    ],
)
def test_bad_values_name_their_setting(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env, cwd=Path("/nonexistent"))
    assert needle in info.value.message


def test_a_bad_price_override_stops_the_team_from_opening() -> None:
    env = {"LYNKR_PRICES": '{"x*": {"input": "lots", "output": 1}}'}
    settings = load_settings(environ=env, cwd=Path("/nonexistent")).settings
    with pytest.raises(ConfigError, match="not a price"):
        Team.open(settings)


def test_the_recorder_takes_the_automatic_batch_size(open_team: Callable[..., Team]) -> None:
    assert open_team().recorder.batch_size == 3000
    assert open_team(audit="full").recorder.batch_size == 100
    assert open_team(usage_batch_size=25).recorder.batch_size == 25
