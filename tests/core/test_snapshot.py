"""The settings snapshot (``snapshot.py``): a load with the same inputs reuses what an
earlier load validated, gives the very same settings, and notices every input change.

Real files (``lynkr.toml``, ``.env``) in a temporary working directory, the real
settings model and the real snapshot file in the test's ``LYNKR_HOME``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import settings, snapshot
from lynkr_cli.errors import ConfigError

TOML = """
[server]
port = 9001
allowed_hosts = ["lynkr.internal"]

[provider]
name = "Azure_Anthropic"
model_map = { "claude-*" = "gpt-4o" }
token_command = "print-token --scope api"

[mcp.servers.github]
command = "gh-mcp"
env = { GITHUB_TOKEN = "ghp_tomlsecret0123456789" }

[index]
db_path = "idx/index.db"
workers = 2

[routing]
longContext = "openai/gpt-4.1"
"""
ENV = {
    "LYNKR_INDEX_MAX_FILE": "2000",
    "POLICY_GIT_PROTECTED_BRANCHES": "main,release",
    "ANTHROPIC_API_KEY": "sk-ant-envsecret-0123456789",
    "LYNKR_CACHE_URL": "redis://user:cachepass@host:6379/0",
    "LYNKR_DATABASE_URL": "postgresql://u:dbpass@h/db",
}


@pytest.fixture
def inputs(workdir: Path) -> Path:
    (workdir / "lynkr.toml").write_text(TOML, encoding="utf-8")
    (workdir / ".env").write_text("LYNKR_ROUTE_THINK=openai/o3\nPORT=9002\n", encoding="utf-8")
    return workdir


def stored(home: Path) -> str:
    return (home / "cache" / snapshot.FILENAME).read_text(encoding="utf-8")


def validations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the loads that validated (built Settings through pydantic)."""
    counted: list[int] = []
    real = settings.Settings.__init__

    def counting(self: Any, **data: Any) -> None:
        counted.append(1)
        real(self, **data)

    monkeypatch.setattr(settings.Settings, "__init__", counting)
    return counted


def test_same_inputs_same_settings_without_validation(
    inputs: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = validations(monkeypatch)
    first = settings.load_settings(environ=ENV, overrides={"server.port": 7000})
    second = settings.load_settings(environ=ENV, overrides={"server.port": 7000})
    assert len(counted) == 1  # the second load validated nothing
    assert second.settings == first.settings
    assert second.settings.model_dump() == first.settings.model_dump()
    assert (second.sources, second.files, second.raw) == (first.sources, first.files, first.raw)
    restored = second.settings
    assert restored.server.port == 7000 and restored.provider.name == "azure-anthropic"
    assert restored.index.db_path == Path("idx/index.db") and restored.index.max_file_bytes == 2000
    assert restored.policy.git_protected_branches == ["main", "release"]
    assert restored.routing.long_context == "openai/gpt-4.1"
    assert restored.provider.anthropic_api_key is not None
    assert restored.provider.anthropic_api_key.get_secret_value() == ENV["ANTHROPIC_API_KEY"]
    assert settings.secret_values(restored) == settings.secret_values(first.settings)
    assert restored.mcp.servers["github"]["env"]["GITHUB_TOKEN"].startswith("ghp_")
    restored.mcp.servers["github"]["env"].clear()  # a copy: the inputs are not changed
    assert second.raw["mcp.servers"]["github"]["env"]


def test_no_secret_and_no_free_text_is_written(inputs: Path, lynkr_home: Path) -> None:
    settings.load_settings(environ=ENV)
    text = stored(lynkr_home)
    for secret in ("sk-ant-envsecret", "ghp_tomlsecret", "cachepass", "dbpass", "print-token"):
        assert secret not in text
    mode = (lynkr_home / "cache" / snapshot.FILENAME).stat().st_mode
    assert mode & 0o077 == 0


def test_a_new_free_text_value_is_read_not_recalled(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = validations(monkeypatch)
    settings.load_settings(environ=ENV)
    changed = ENV | {"ANTHROPIC_API_KEY": "sk-ant-rotated-9876543210"}
    loaded = settings.load_settings(environ=changed)
    assert len(counted) == 1
    key = loaded.settings.provider.anthropic_api_key
    assert key is not None and key.get_secret_value() == "sk-ant-rotated-9876543210"


@pytest.mark.parametrize(
    "change",
    [
        "env value",  # a checked setting's variable
        "env set",  # a free-text variable appears
        "toml edit",
        "dotenv edit",
        "toml gone",
        "flag",
        "explicit config",
        "sys.path",
        "module edit",
    ],
)
def test_every_input_change_is_noticed(
    change: str, inputs: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    counted = validations(monkeypatch)
    environ, overrides = dict(ENV), {"server.port": None}
    probe = tmp_path / "probe.py"
    probe.write_text("x = 1\n")
    monkeypatch.setitem(sys.modules, "lynkr_cli.snapshot_probe", types.ModuleType("probe"))
    sys.modules["lynkr_cli.snapshot_probe"].__file__ = str(probe)
    settings.load_settings(environ=environ, overrides=overrides)
    settings.load_settings(environ=environ, overrides=overrides)
    assert len(counted) == 1
    if change == "env value":
        environ["LYNKR_INDEX_MAX_FILE"] = "3000"
    elif change == "env set":
        environ["OPENAI_API_KEY"] = "sk-openai"
    elif change == "toml edit":
        (inputs / "lynkr.toml").write_text(TOML.replace("workers = 2", "workers = 3"))
    elif change == "dotenv edit":
        (inputs / ".env").write_text("PORT=9003\n")
    elif change == "toml gone":
        (inputs / "lynkr.toml").unlink()
    elif change == "flag":
        overrides = {"server.port": 7001}
    elif change == "explicit config":
        named = tmp_path / "named.toml"
        named.write_text("[server]\nport = 9100\n")
        settings.set_config_file(named)
    elif change == "sys.path":
        monkeypatch.syspath_prepend(str(tmp_path))  # a distribution could be there
    else:
        probe.write_text("x = 2  # edited\n")
    again = settings.load_settings(environ=environ, overrides=overrides)
    assert len(counted) == 2
    assert again.settings == settings.Settings(**settings._nest(again.raw))


def test_invalid_settings_are_never_recorded(
    inputs: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = ENV | {"LYNKR_INDEX_WORKERS": "-1"}
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"index\.workers"):
            settings.load_settings(environ=bad)
    assert not (lynkr_home / "cache" / snapshot.FILENAME).exists()
    (inputs / "lynkr.toml").write_text("[server]\nnot_a_setting = 1\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="unknown setting"):
            settings.load_settings(environ={})


def test_a_section_that_cannot_be_kept_is_validated_each_time(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TOML date in mcp.servers is no JSON: that section is not recorded, the settings
    are validated every time, and the other sections are still there for section()."""
    (workdir / "lynkr.toml").write_text("[mcp.servers.x]\nsince = 2024-01-01\n")
    counted = validations(monkeypatch)
    settings.load_settings()
    settings.load_settings()
    assert len(counted) == 2
    assert snapshot.section("mcp") is None
    assert snapshot.section("index").workers == 0


def test_section_before_the_cli(inputs: Path, lynkr_home: Path) -> None:
    """snapshot.section() answers in a process that never imports pydantic."""
    env = {"PATH": os.environ["PATH"], "LYNKR_HOME": str(lynkr_home), **ENV}
    load = "from lynkr_cli import settings; settings.load_settings()"
    subprocess.run([sys.executable, "-c", load], cwd=inputs, env=env, timeout=60, check=True)
    code = (
        "import sys; from lynkr_cli import snapshot; conf = snapshot.section('index'); "
        "print(conf.db_path, conf.workers, conf.max_file_bytes, conf.claude_md); "
        "print(snapshot.section('provider')); assert 'pydantic' not in sys.modules"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=inputs, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    # provider has values read from their source (the key, the token command): not here.
    assert proc.stdout.splitlines() == ["idx/index.db 2 2000 True", "None"]


def test_a_damaged_snapshot_is_ignored_and_replaced(
    inputs: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = validations(monkeypatch)
    settings.load_settings(environ=ENV)
    path = lynkr_home / "cache" / snapshot.FILENAME
    for damage in ("{not json", json.dumps({"format": 99}), json.dumps([1, 2]), ""):
        path.write_text(damage)
        assert settings.load_settings(environ=ENV).settings.server.port == 9002
    assert len(counted) == 5
    assert json.loads(path.read_text())["format"] == snapshot.FORMAT


def test_recent_inputs_are_kept(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted = validations(monkeypatch)
    for port in range(snapshot.KEEP + 1):
        settings.load_settings(environ={"PORT": str(8000 + port)})
    assert len(counted) == snapshot.KEEP + 1
    settings.load_settings(environ={"PORT": str(8000 + snapshot.KEEP)})  # the latest: kept
    settings.load_settings(environ={"PORT": "8001"})  # among the last KEEP: kept
    assert len(counted) == snapshot.KEEP + 1
    settings.load_settings(environ={"PORT": "8000"})  # the oldest: dropped
    assert len(counted) == snapshot.KEEP + 2


def test_field_kinds_follow_the_model() -> None:
    table = settings.fields()
    assert table["server.host"].kind == snapshot.FREE
    assert table["server.port"].kind == snapshot.CHECKED
    assert table["provider.name"].kind == snapshot.CHECKED  # a validator normalises it
    assert table["mcp.servers"].kind == snapshot.CHECKED
    for section, name in settings.iter_fields():
        kind = table[f"{section}.{name}"].kind
        assert (kind in (snapshot.SECRET, snapshot.OPAQUE)) == settings.is_secret(section, name)
        assert table[f"{section}.{name}"].env == tuple(settings.field_env_names(section, name))


PROVIDER_TOML = """
[provider]
name = "databricks"
openai_model = "gpt-4.1"  # a built-in's flat name: provider.openai.model

[provider.databricks]
api_base = "https://adb-1.azuredatabricks.net"
mode = "anthropic"
api_key = "dapi-tomlsecret-0123456789"
"""


def test_providers_own_settings_are_recalled(
    workdir: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[provider.<name>] tables, flat names in files and flags, and a proxy: each provider's
    config comes back as the provider section's extras, its free text read again."""
    (workdir / "lynkr.toml").write_text(PROVIDER_TOML, encoding="utf-8")
    environ = {"LYNKR_UPSTREAM_PROXY": "socks5h://u:proxypass@127.0.0.1:1080"}
    flags = {"provider.anthropic_endpoint": "https://anthropic.internal/v1/messages"}
    counted = validations(monkeypatch)
    first = settings.load_settings(environ=environ, overrides=flags)
    second = settings.load_settings(environ=environ, overrides=flags)
    assert len(counted) == 1  # the proxy (a secret) did not make the section unrecordable
    assert second.settings == first.settings
    restored = second.settings.provider
    assert restored.config("databricks") == first.settings.provider.config("databricks")
    assert restored.databricks_mode == "anthropic"
    assert restored.databricks_api_key.get_secret_value() == "dapi-tomlsecret-0123456789"
    assert restored.openai_model == "gpt-4.1"
    assert restored.anthropic_endpoint == "https://anthropic.internal/v1/messages"
    assert second.sources["provider.databricks_api_base"] == f"file {workdir / 'lynkr.toml'}"
    assert second.sources["provider.anthropic.endpoint"] == "flag"
    text = stored(lynkr_home)
    for secret in ("dapi-tomlsecret", "proxypass", "adb-1", "gpt-4.1", "anthropic.internal"):
        assert secret not in text
    assert settings.fields()["provider.proxy"].kind == snapshot.SECRET
    assert settings.fields()["provider.databricks.mode"].kind == snapshot.CHECKED
