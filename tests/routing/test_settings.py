"""``[routing]``: claude-code-router's names, environment names, validation, and the
start-up check for unknown providers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lynkr_cli.errors import ConfigError, ExitCode
from lynkr_cli.serve.scenarios import check_routing
from lynkr_cli.settings import load_settings, route_target
from tests.routing.helpers import known, settings


def write(workdir: Path, text: str) -> None:
    (workdir / "lynkr.toml").write_text(text)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("openai/gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("openai,gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("openai:gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("ollama/qwen3:8b", ("ollama", "qwen3:8b")),
        ("openai/anthropic/claude-sonnet-4", ("openai", "anthropic/claude-sonnet-4")),
        ("databricks", ("databricks", "")),
        (" Azure_Anthropic , claude-opus-4-1 ", ("azure-anthropic", "claude-opus-4-1")),
    ],
)
def test_target_forms(value: str, parsed: tuple[str, str]) -> None:
    assert route_target(value) == parsed


def test_defaults_are_claude_code_routers(workdir: Path) -> None:
    r = load_settings(environ={}).settings.routing
    assert (r.default, r.background, r.think, r.long_context, r.web_search) == ("",) * 5
    assert r.long_context_threshold == 60000


def test_claude_code_router_names_in_toml(workdir: Path) -> None:
    write(
        workdir,
        '[routing]\ndefault = "databricks,databricks-claude-sonnet-4-5"\n'
        'longContext = "anthropic,claude-sonnet-4-5"\nlongContextThreshold = 100000\n'
        'webSearch = "openai,gpt-4o-search-preview"\n',
    )
    loaded = load_settings(environ={})
    r = loaded.settings.routing
    assert r.long_context == "anthropic,claude-sonnet-4-5"
    assert r.long_context_threshold == 100000
    assert r.web_search == "openai,gpt-4o-search-preview"
    origin = f"file {workdir / 'lynkr.toml'}"
    assert loaded.sources["routing.long_context"] == origin
    assert loaded.sources["routing.long_context_threshold"] == origin


def test_both_spellings_in_one_file_is_an_error(workdir: Path) -> None:
    write(workdir, '[routing]\nlongContext = "openai/a"\nlong_context = "openai/b"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(environ={})
    assert "sets both routing.longContext and routing.long_context" in err.value.message
    assert err.value.exit_code == ExitCode.CONFIG


def test_environment_beats_the_file_whatever_its_spelling(workdir: Path) -> None:
    write(workdir, '[routing]\nwebSearch = "openai/a"\n')
    environ = {"LYNKR_ROUTE_WEB_SEARCH": "ollama/qwen3", "LYNKR_ROUTE_BACKGROUND": "openai"}
    loaded = load_settings(environ=environ)
    assert loaded.settings.routing.web_search == "ollama/qwen3"
    assert loaded.sources["routing.web_search"] == "env LYNKR_ROUTE_WEB_SEARCH"
    assert loaded.settings.routing.background == "openai"
    loaded = load_settings(environ={"LYNKR_ROUTING_THINK": "openai/o3"})
    assert loaded.settings.routing.think == "openai/o3"


@pytest.mark.parametrize("value", ["bad provider/x", "/gpt-4o", ",gpt-4o", "op!enai/x"])
def test_a_malformed_target_names_the_setting(workdir: Path, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"LYNKR_ROUTE_THINK": value})
    assert "routing.think" in err.value.message
    assert "LYNKR_ROUTE_THINK" in err.value.message
    assert "expected provider/model" in err.value.message


def test_threshold_must_be_positive(workdir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"LYNKR_ROUTE_LONG_CONTEXT_THRESHOLD": "0"})
    assert "routing.long_context_threshold" in err.value.message


def test_unknown_keys_in_routing_are_errors(workdir: Path) -> None:
    write(workdir, '[routing]\nimage = "openai/gpt-4o"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(environ={})
    assert "unknown setting 'routing.image'" in err.value.message


def test_check_routing_names_an_unknown_provider_and_its_source(workdir: Path) -> None:
    write(workdir, '[routing]\nbackground = "opnai/gpt-4o-mini"\n')
    loaded = load_settings(environ={})
    with pytest.raises(ConfigError) as err:
        check_routing(loaded.settings, known(), loaded.sources)
    message = err.value.message
    assert "routing.background = 'opnai/gpt-4o-mini'" in message
    assert f"(from file {workdir / 'lynkr.toml'})" in message
    assert "unknown provider 'opnai'" in message
    assert err.value.hint is not None and "openai" in err.value.hint
    assert err.value.exit_code == ExitCode.CONFIG


def test_check_routing_accepts_registered_providers() -> None:
    s = settings({"default": "azure_anthropic/claude", "think": "ollama", "background": "openai"})
    check_routing(s, known())


def test_config_show_lists_routing(invoke: object, workdir: Path) -> None:
    write(workdir, '[routing]\nlongContext = "anthropic/claude-sonnet-4-5"\n')
    result = invoke("config", "show", "--json")  # type: ignore[operator]
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    text = json.dumps(doc)
    assert "anthropic/claude-sonnet-4-5" in text
    assert "routing" in text
