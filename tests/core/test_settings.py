"""One settings model: precedence, aliases, sources, masking and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import paths
from lynkr_cli.errors import ConfigError, ExitCode
from lynkr_cli.settings import load_settings, mask_secret


def test_defaults(workdir: Path) -> None:
    loaded = load_settings()
    s = loaded.settings
    assert s.server.host == "127.0.0.1"
    assert s.server.port == 8080
    assert s.policy.git_allow_push is False
    assert s.policy.git_protected_branches == ["main", "master"]
    assert s.provider.anthropic_endpoint == "https://api.anthropic.com/v1/messages"
    assert loaded.sources["server.port"] == "default"


def test_precedence_flags_env_dotenv_project_user(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = paths.config_dir()
    user.mkdir(parents=True)
    (user / "lynkr.toml").write_text(
        '[server]\nport = 1001\nhost = "0.0.0.0"\n[cache]\nttl_ms = 5\n[index]\nworkers = 3\n'
    )
    (workdir / "lynkr.toml").write_text("[server]\nport = 1002\n[cache]\nttl_ms = 6\n")
    (workdir / ".env").write_text("PORT=1003\nPROMPT_CACHE_TTL_MS=7\n")
    monkeypatch.setenv("LYNKR_PORT", "1004")

    loaded = load_settings({"server.port": 1005})
    s = loaded.settings
    assert s.server.port == 1005 and loaded.sources["server.port"] == "flag"
    assert s.cache.ttl_ms == 7 and ".env" in loaded.sources["cache.ttl_ms"]
    assert s.index.workers == 3 and str(user) in loaded.sources["index.workers"]
    assert s.server.host == "0.0.0.0"

    loaded = load_settings()
    assert loaded.settings.server.port == 1004
    assert loaded.sources["server.port"] == "env LYNKR_PORT"

    monkeypatch.delenv("LYNKR_PORT")
    assert load_settings().settings.server.port == 1003
    (workdir / ".env").unlink()
    loaded = load_settings()
    assert loaded.settings.server.port == 1002
    assert loaded.sources["server.port"] == f"file {workdir / 'lynkr.toml'}"


@pytest.mark.parametrize(
    ("env", "key", "expected"),
    [
        ({"PROVIDER": "databricks"}, "provider.name", "databricks"),
        ({"MODEL_PROVIDER": "openai"}, "provider.name", "openai"),
        ({"DATABRICKS_API_BASE": "https://x"}, "provider.databricks_api_base", "https://x"),
        ({"DATABRICKS_ENDPOINT_PATH": "/p"}, "provider.databricks_endpoint_path", "/p"),
        (
            {"AZURE_ANTHROPIC_ENDPOINT": "https://a"},
            "provider.azure_anthropic_endpoint",
            "https://a",
        ),
        (
            {"ANTHROPIC_ENDPOINT": "https://e/v1/messages"},
            "provider.anthropic_endpoint",
            "https://e/v1/messages",
        ),
        ({"OPENAI_ENDPOINT": "http://o"}, "provider.openai_endpoint", "http://o"),
        ({"OPENAI_MODEL": "gpt-x"}, "provider.openai_model", "gpt-x"),
        ({"OLLAMA_ENDPOINT": "http://ol"}, "provider.ollama_endpoint", "http://ol"),
        ({"OLLAMA_MODEL": "qwen"}, "provider.ollama_model", "qwen"),
        ({"MODEL_DEFAULT": "m"}, "provider.model_default", "m"),
        ({"PORT": "9999"}, "server.port", 9999),
        ({"WORKSPACE_ROOT": "/w"}, "gateway.workspace_root", Path("/w")),
        ({"POLICY_GIT_ALLOW_PUSH": "true"}, "policy.git_allow_push", True),
        ({"POLICY_GIT_REQUIRE_TESTS": "1"}, "policy.git_require_tests", True),
        ({"POLICY_GIT_TEST_COMMAND": "pytest -q"}, "policy.git_test_command", "pytest -q"),
        ({"PROMPT_CACHE_ENABLED": "false"}, "cache.enabled", False),
        ({"PROMPT_CACHE_TTL_MS": "1000"}, "cache.ttl_ms", 1000),
        ({"MCP_SERVER_MANIFEST": "/m.json"}, "mcp.server_manifest", Path("/m.json")),
        ({"MCP_MANIFEST_DIRS": "/a,/b"}, "mcp.manifest_dirs", ["/a", "/b"]),
        ({"LYNKR_SERVER_HOST": "::1"}, "server.host", "::1"),
        (
            {"LYNKR_MODEL_MAP": "claude-haiku-*=openai:gpt-4o-mini"},
            "provider.model_map",
            {"claude-haiku-*": "openai:gpt-4o-mini"},
        ),
    ],
)
def test_lynkr_aliases(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], key: str, expected: Any
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loaded = load_settings()
    section, name = key.split(".")
    assert getattr(getattr(loaded.settings, section), name) == expected
    assert loaded.sources[key] == f"env {next(iter(env))}"


def test_canonical_name_beats_alias(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER", "openai")
    monkeypatch.setenv("LYNKR_PROVIDER", "databricks")
    assert load_settings().settings.provider.name == "databricks"


def test_secrets_are_secretstr(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_API_KEY", "dapi0123456789abcdef")
    s = load_settings().settings
    assert "dapi0123456789abcdef" not in repr(s)
    assert s.provider.databricks_api_key is not None
    assert s.provider.databricks_api_key.get_secret_value() == "dapi0123456789abcdef"


def test_invalid_env_value_names_variable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "server.port" in message and "env PORT" in message and "'eighty'" in message
    assert "integer" in message
    assert "validation error" not in message.lower()
    assert info.value.exit_code == ExitCode.CONFIG


def test_invalid_literal_lists_choices(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LYNKR_TOOLS_MODE", "sometimes")
    with pytest.raises(ConfigError, match="expected one of 'auto', 'always' or 'never'"):
        load_settings()


def test_unknown_toml_key_and_bad_toml(workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'server\.prot'"):
        load_settings()
    (workdir / "lynkr.toml").write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_secret_value_never_in_error(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "lynkr.toml").write_text('[provider]\nopenai_api_key = ["sk-secretsecret123"]\n')
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "sk-secretsecret123" not in str(info.value)


def test_config_show_json_masks_secrets(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-abcdefghijklmnop")
    monkeypatch.setenv("LYNKR_API_KEY", "gateway-key-1234567890")
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    assert "abcdefghijklmnop" not in result.stdout
    assert "gateway-key-1234567890" not in result.stdout
    doc = json.loads(result.stdout)
    key = doc["settings"]["provider.openai"]["api_key"]  # a provider's own section
    assert key == {"value": "****mnop", "source": "env OPENAI_API_KEY"}
    assert doc["settings"]["server"]["port"] == {"value": 8080, "source": "default"}


def test_config_show_human_masks_secrets(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-verysecretvalue99")
    result = invoke("config", "show")
    assert result.exit_code == 0
    assert "verysecretvalue" not in result.stdout
    assert "provider.anthropic.api_key" in result.stdout


def test_config_show_invalid_exits_3(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, invoke: Any
) -> None:
    monkeypatch.setenv("PROMPT_CACHE_TTL_MS", "-5")
    result = invoke("config", "show", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]  # --json: the error is the one document
    assert error["code"] == "config" and error["exit"] == 3
    assert "PROMPT_CACHE_TTL_MS" in error["message"] and error["hint"]
    assert "cache.ttl_ms" in result.stderr and "PROMPT_CACHE_TTL_MS" in result.stderr


def test_global_config_flag(workdir: Path, invoke: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text("[server]\nport = 7777\n")
    result = invoke("--config", str(cfg), "config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["settings"]["server"]["port"]["value"] == 7777


def test_config_path_json(workdir: Path, invoke: Any, lynkr_home: Path) -> None:
    result = invoke("config", "path", "--json")
    doc = json.loads(result.stdout)
    assert doc["data_dir"] == str(lynkr_home / "data")
    assert doc["database"] == str(lynkr_home / "data" / "lynkr.db")
    assert doc["config_files"] == []


def test_mcp_servers_table_from_toml(workdir: Path) -> None:
    (workdir / "lynkr.toml").write_text(
        '[mcp.servers.time]\ncommand = "mcp-server-time"\nargs = []\n'
    )
    servers = load_settings().settings.mcp.servers
    assert servers == {"time": {"command": "mcp-server-time", "args": []}}


def test_mask_secret() -> None:
    assert mask_secret("short") == "****"
    assert mask_secret("sk-1234567890abcd") == "****abcd"
    assert mask_secret(None) is None
