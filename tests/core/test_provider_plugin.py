"""A provider from a third-party plugin owns its settings, like the built-ins.

The plugin is a real installed distribution (``tests/plugindist.py``): one module with
a provider class and its settings model, and one registration line. It is configured
through ``lynkr.toml`` (``[provider.echo]``) and its own environment names; provenance,
masking, validation, ``serve --help``, ``doctor``, ``switch`` presets and the gateway
itself all learn about it from the provider alone.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import anthropic
import pytest

from lynkr_cli import plugins, settings
from tests.plugindist import install
from tests.serve.conftest import fake, gateway

__all__ = ["fake", "gateway"]  # fixtures re-exported for this module

PLUGIN = """
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from lynkr_cli import hookimpl
from lynkr_cli.serve.providers.base import Provider, ProviderConfig, Route, env, secret


class EchoConfig(ProviderConfig):
    url: str = Field("", json_schema_extra=env("ECHO_URL"))
    token: SecretStr | None = Field(None, json_schema_extra=env("ECHO_TOKEN", "ECHO_KEY"))
    flavour: Literal["plain", "fancy"] = "plain"


class EchoProvider(Provider):
    name = "echo"
    wire = "anthropic"
    settings_model = EchoConfig
    config: EchoConfig
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "echo-gateway": {
            "description": "Claude Code -> lynkr -> echo",
            "base_url": "http://127.0.0.1:{port}",
            "key": "{gateway_key}",
            "key_field": "ANTHROPIC_API_KEY",
            "gateway": {"provider.name": "echo"},
            "inputs": [{"id": "url", "prompt": "Echo URL", "env": ["ECHO_URL"],
                        "setting": "provider.echo.url", "persist": True}],
        }
    }

    def missing(self) -> list[str]:
        return [] if self.config.url else ["ECHO_URL"]

    def url(self, route: Route) -> str:
        return self.config.url.rstrip("/") + "/v1/messages"

    def url_setting(self) -> str:
        return "ECHO_URL"

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": secret(self.config.token), "x-flavour": self.config.flavour}


@hookimpl
def register_providers(register):
    register("echo", EchoProvider)
"""

TOKEN = "echo-token-0123456789abcdef"


@pytest.fixture
def echo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    install(site, "lynkr-echo", "lynkr_echo_provider", textwrap.dedent(PLUGIN), entry="echo")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "echo")
    plugins.reset()


def test_configured_through_toml_and_the_environment(
    echo: None, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "lynkr.toml").write_text('[provider.echo]\nurl = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("ECHO_KEY", TOKEN)  # the second of its names
    loaded = settings.load_settings()
    config: Any = loaded.settings.provider.config("echo")
    assert config.url == "http://127.0.0.1:9" and config.token.get_secret_value() == TOKEN
    assert loaded.sources["provider.echo.url"] == f"file {workdir / 'lynkr.toml'}"
    assert loaded.sources["provider.echo.token"] == "env ECHO_KEY"
    assert loaded.sources["provider.echo.flavour"] == "default"
    assert settings.field_env_names("provider.echo", "token") == [
        "LYNKR_PROVIDER_ECHO_TOKEN", "ECHO_TOKEN", "ECHO_KEY"]  # fmt: skip
    assert settings.is_secret("provider.echo", "token")
    assert TOKEN in settings.secret_values(loaded.settings)  # scrubbed from every error


def test_config_show_masks_its_secret_and_names_sources(
    echo: None, workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    monkeypatch.setenv("ECHO_TOKEN", TOKEN)
    monkeypatch.setenv("LYNKR_PROVIDER_ECHO_FLAVOUR", "fancy")
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    assert TOKEN not in result.stdout
    section = json.loads(result.stdout)["settings"]["provider.echo"]
    assert section["token"] == {"value": "****cdef", "source": "env ECHO_TOKEN"}
    assert section["flavour"] == {"value": "fancy", "source": "env LYNKR_PROVIDER_ECHO_FLAVOUR"}


def test_its_model_validates_toml_and_environment(
    echo: None, workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    monkeypatch.setenv("ECHO_TOKEN", TOKEN)
    (workdir / "lynkr.toml").write_text('[provider.echo]\nflavour = "odd"\nport = 1\n')
    result = invoke("config", "show")
    assert result.exit_code == 3
    assert "invalid provider.echo.flavour = 'odd'" in result.stderr
    assert "expected one of 'plain' or 'fancy'" in result.stderr
    assert "unknown setting 'provider.echo.port'" in result.stderr
    assert TOKEN not in result.stderr


def test_a_section_for_a_provider_not_installed_says_so(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "lynkr.toml").write_text('[provider.echo]\nurl = "http://x"\n')
    with pytest.raises(Exception, match="no provider named 'echo' is loaded") as info:
        settings.load_settings()
    assert "lynkr plugins" in str(info.value)


def test_serve_help_doctor_and_switch_learn_it_from_the_provider(
    echo: None, workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    assert "echo" in invoke("serve", "--help").stdout
    monkeypatch.setenv("LYNKR_PROVIDER", "echo")
    doctor = invoke("doctor", "--only", "credentials", "--json")
    check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "credentials")
    assert check["status"] == "fail" and "ECHO_URL" in check["summary"]
    assert "[provider.echo]" in check["fix"]
    presets = json.loads(invoke("switch", "presets", "--json").stdout)
    assert "echo-gateway" in [p["name"] for p in presets]


async def test_the_gateway_serves_it(
    echo: None, workdir: Path, monkeypatch: pytest.MonkeyPatch, gateway: Any, fake: Any
) -> None:
    up = await fake(wire="anthropic", path="/v1/messages", auth_value=TOKEN)
    monkeypatch.setenv("ECHO_TOKEN", TOKEN)
    (workdir / "lynkr.toml").write_text(f'[provider.echo]\nurl = "{up.url}"\nflavour = "fancy"\n')
    gw = await gateway(**{"provider.name": "echo"})
    async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="c", max_retries=0) as sdk:
        msg = await sdk.messages.create(
            model="claude-x", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )
    assert msg.content[0].text == "Hello from upstream"  # type: ignore[union-attr]
    assert up.problems == [] and up.seen[0].headers["x-flavour"] == "fancy"


def test_a_legacy_flat_key_is_rewritten_by_switch_in_place(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    """``[provider] databricks_api_base`` (what lynkr switch wrote before) still works, and
    the next switch writes ``[provider.databricks]`` in its place, not beside it."""
    import tomllib

    from lynkr_cli import paths

    config = paths.config_dir() / "lynkr.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[provider]\ndatabricks_api_base = "https://old.example"\n')
    loaded = settings.load_settings()
    assert loaded.settings.provider.config("databricks").api_base == "https://old.example"  # type: ignore[attr-defined]
    assert loaded.sources["provider.databricks_api_base"] == f"file {config}"  # the old key
    result = invoke("switch", "databricks", "--set", "workspace=https://new.example",
                    "--set", "token=dapi0123456789abcdef0123456789abcdef")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = tomllib.loads(config.read_text())["provider"]
    assert "databricks_api_base" not in doc
    assert doc["databricks"]["api_base"] == "https://new.example"
    assert settings.load_settings().settings.provider.databricks_api_base == "https://new.example"


def test_both_spellings_in_one_file_are_an_error(workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text(
        '[provider]\nanthropic_api_key = "a"\n[provider.anthropic]\napi_key = "b"\n'
    )
    with pytest.raises(Exception, match=r"sets both provider\.anthropic_api_key") as info:
        settings.load_settings()
    assert "provider.anthropic.api_key" in str(info.value)
