"""The one settings model every command shares, and where each value came from.

Precedence, highest first: command-line flags, the environment, ``.env`` in the
working directory, ``lynkr.toml`` in the working directory, ``lynkr.toml`` in the
user config directory, then the defaults below.

Every field can be set from the environment as ``LYNKR_<SECTION>_<FIELD>``
(``LYNKR_SERVER_PORT``). Many also have a short canonical name (``LYNKR_PORT``)
and the names Lynkr users already export (``PORT``); those are listed per field
in ``json_schema_extra["env"]``, first match wins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from lynkr_cli import paths, snapshot
from lynkr_cli.errors import ConfigError
from lynkr_cli.sources import CONFIG_FILENAME as CONFIG_FILENAME  # noqa: PLC0414 (re-exported)
from lynkr_cli.sources import Layer, dotenv_file, dotenv_layer, env_layer, toml_layer
from lynkr_cli.sources import config_files as config_files  # noqa: PLC0414
from lynkr_cli.sources import explicit_config_file as explicit_config_file  # noqa: PLC0414
from lynkr_cli.sources import set_config_file as set_config_file  # noqa: PLC0414


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _parse_mapping(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        if text.startswith("{"):
            return json.loads(text)
        # "glob=target,glob=target"
        pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
        return {k.strip(): v.strip() for k, v in pairs}
    return value


CommaList = Annotated[list[str], BeforeValidator(_split_list)]
StrMapping = Annotated[dict[str, str], BeforeValidator(_parse_mapping)]


def env(*names: str) -> dict[str, Any]:
    """Extra environment names for a field, canonical first, then compatibility aliases."""
    return {"env": list(names)}


class Section(BaseModel):
    # defer_build: a command that reuses the snapshot (snapshot.py) never validates, so
    # the validators are built on the first validation instead of at import.
    model_config = ConfigDict(extra="forbid", validate_default=True, defer_build=True)


class ServerSettings(Section):
    host: str = Field("127.0.0.1", json_schema_extra=env("LYNKR_HOST"))
    port: int = Field(8080, ge=0, le=65535, json_schema_extra=env("LYNKR_PORT", "PORT"))
    api_key: SecretStr | None = Field(None, json_schema_extra=env("LYNKR_API_KEY"))
    insecure: bool = Field(False, json_schema_extra=env("LYNKR_INSECURE"))
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0, json_schema_extra=env("LYNKR_MAX_BODY"))
    grace_seconds: float = Field(10.0, ge=0, json_schema_extra=env("LYNKR_GRACE_SECONDS"))
    # Browser safety: Host names (besides loopback) and Origins a request may carry.
    allowed_hosts: CommaList = Field(
        default_factory=list, json_schema_extra=env("LYNKR_ALLOWED_HOSTS")
    )
    allowed_origins: CommaList = Field(
        default_factory=list, json_schema_extra=env("LYNKR_ALLOWED_ORIGINS")
    )
    # Slow or idle clients: a connection that sends no complete request head within
    # head_timeout (after connecting, or after its last answer) is closed; a body that
    # stalls for body_timeout is a 408.
    head_timeout: float = Field(30.0, gt=0, json_schema_extra=env("LYNKR_HEAD_TIMEOUT"))
    body_timeout: float = Field(30.0, gt=0, json_schema_extra=env("LYNKR_BODY_TIMEOUT"))
    max_connections: int = Field(1024, ge=1, json_schema_extra=env("LYNKR_MAX_CONNECTIONS"))
    default_max_tokens: int = Field(4096, ge=1, json_schema_extra=env("LYNKR_DEFAULT_MAX_TOKENS"))
    ping_interval: float = Field(10.0, gt=0, json_schema_extra=env("LYNKR_PING_INTERVAL"))
    access_log: bool = Field(True, json_schema_extra=env("LYNKR_ACCESS_LOG"))
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", json_schema_extra=env("LYNKR_LOG_LEVEL", "LOG_LEVEL")
    )
    # auto: one human line per request on a terminal, JSON lines when piped
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", json_schema_extra=env("LYNKR_LOG_FORMAT")
    )


def provider_name(value: Any) -> Any:
    """Provider names take ``_`` and ``-`` alike (``azure_anthropic``), in any case."""
    if isinstance(value, str):
        return value.strip().lower().replace("_", "-")
    if isinstance(value, list):
        return [provider_name(v) for v in value]
    return value


class ProviderSettings(Section):
    name: Annotated[str, BeforeValidator(provider_name)] = Field(
        "", json_schema_extra=env("LYNKR_PROVIDER", "MODEL_PROVIDER", "PROVIDER")
    )
    model_default: str = Field("", json_schema_extra=env("LYNKR_MODEL", "MODEL_DEFAULT"))
    model_map: StrMapping = Field(default_factory=dict, json_schema_extra=env("LYNKR_MODEL_MAP"))
    fallback: Annotated[CommaList, AfterValidator(provider_name)] = Field(
        default_factory=list, json_schema_extra=env("LYNKR_FALLBACK")
    )

    anthropic_endpoint: str = Field(
        "https://api.anthropic.com/v1/messages",
        json_schema_extra=env("LYNKR_ANTHROPIC_ENDPOINT", "ANTHROPIC_ENDPOINT"),
    )
    anthropic_api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )
    azure_anthropic_endpoint: str = Field(
        "", json_schema_extra=env("LYNKR_AZURE_ANTHROPIC_ENDPOINT", "AZURE_ANTHROPIC_ENDPOINT")
    )
    azure_anthropic_api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_AZURE_ANTHROPIC_API_KEY", "AZURE_ANTHROPIC_API_KEY")
    )
    databricks_api_base: str = Field(
        "", json_schema_extra=env("LYNKR_DATABRICKS_API_BASE", "DATABRICKS_API_BASE")
    )
    databricks_api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_DATABRICKS_API_KEY", "DATABRICKS_API_KEY")
    )
    databricks_endpoint_path: str = Field(
        "", json_schema_extra=env("LYNKR_DATABRICKS_ENDPOINT_PATH", "DATABRICKS_ENDPOINT_PATH")
    )
    databricks_mode: Literal["chat", "anthropic"] = Field(
        "chat", json_schema_extra=env("LYNKR_DATABRICKS_MODE", "DATABRICKS_MODE")
    )
    openai_endpoint: str = Field(
        "https://api.openai.com/v1/chat/completions",
        json_schema_extra=env("LYNKR_OPENAI_ENDPOINT", "OPENAI_ENDPOINT"),
    )
    openai_api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_model: str = Field("", json_schema_extra=env("LYNKR_OPENAI_MODEL", "OPENAI_MODEL"))
    ollama_endpoint: str = Field(
        "http://127.0.0.1:11434", json_schema_extra=env("LYNKR_OLLAMA_ENDPOINT", "OLLAMA_ENDPOINT")
    )
    ollama_model: str = Field("", json_schema_extra=env("LYNKR_OLLAMA_MODEL", "OLLAMA_MODEL"))

    # A command printing a bearer token (Entra ID, Databricks OAuth), run without a shell;
    # azure-anthropic, databricks and openai then send it instead of their key.
    token_command: str = Field("", json_schema_extra=env("LYNKR_TOKEN_COMMAND"))
    token_ttl_seconds: float = Field(300.0, gt=0, json_schema_extra=env("LYNKR_TOKEN_TTL_SECONDS"))
    # "" (unset): HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY; "none": never; else the proxy URL
    proxy: SecretStr | None = Field(None, json_schema_extra=env("LYNKR_UPSTREAM_PROXY"))
    connect_timeout: float = Field(10.0, gt=0, json_schema_extra=env("LYNKR_CONNECT_TIMEOUT"))
    first_byte_timeout: float = Field(
        300.0, gt=0, json_schema_extra=env("LYNKR_FIRST_BYTE_TIMEOUT")
    )
    idle_timeout: float = Field(300.0, gt=0, json_schema_extra=env("LYNKR_IDLE_TIMEOUT"))
    total_timeout: float = Field(1800.0, gt=0, json_schema_extra=env("LYNKR_TOTAL_TIMEOUT"))
    max_retries: int = Field(2, ge=0, le=10, json_schema_extra=env("LYNKR_MAX_RETRIES"))
    retry_max_wait: float = Field(30.0, ge=0, json_schema_extra=env("LYNKR_RETRY_MAX_WAIT"))


class CacheSettings(Section):
    enabled: bool = Field(True, json_schema_extra=env("LYNKR_CACHE", "PROMPT_CACHE_ENABLED"))
    ttl_ms: int = Field(300_000, ge=0, json_schema_extra=env("PROMPT_CACHE_TTL_MS"))
    max_entries: int = Field(1000, ge=1, json_schema_extra=env("PROMPT_CACHE_MAX_ENTRIES"))
    size_limit_mb: int = Field(256, ge=1, json_schema_extra=env("LYNKR_CACHE_SIZE_MB"))
    directory: Path | None = Field(None, json_schema_extra=env("LYNKR_CACHE_DIR"))
    # An answer larger than this is not stored (both backends: disk and Redis).
    max_entry_kb: int = Field(1024, ge=1, json_schema_extra=env("LYNKR_CACHE_MAX_ENTRY_KB"))
    # Redis for the prompt cache and the rate-limit counters of several instances
    # (docs/scale-out.md). A URL may hold a password: a secret.
    redis_url: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_REDIS_URL", "LYNKR_CACHE_URL")
    )


class PolicySettings(Section):
    git_allow_commit: bool = Field(True, json_schema_extra=env("POLICY_GIT_ALLOW_COMMIT"))
    git_allow_push: bool = Field(False, json_schema_extra=env("POLICY_GIT_ALLOW_PUSH"))
    git_allow_pull: bool = Field(True, json_schema_extra=env("POLICY_GIT_ALLOW_PULL"))
    git_allow_force_push: bool = Field(False, json_schema_extra=env("POLICY_GIT_ALLOW_FORCE_PUSH"))
    git_allow_protected_push: bool = Field(
        False, json_schema_extra=env("POLICY_GIT_ALLOW_PROTECTED_PUSH")
    )
    git_protected_branches: CommaList = Field(
        default_factory=lambda: ["main", "master"],
        json_schema_extra=env("POLICY_GIT_PROTECTED_BRANCHES"),
    )
    git_require_tests: bool = Field(False, json_schema_extra=env("POLICY_GIT_REQUIRE_TESTS"))
    git_test_command: str = Field("", json_schema_extra=env("POLICY_GIT_TEST_COMMAND"))
    git_commit_regex: str = Field("", json_schema_extra=env("POLICY_GIT_COMMIT_REGEX"))
    git_block_secrets: bool = Field(True, json_schema_extra=env("POLICY_GIT_BLOCK_SECRETS"))
    tools_allow_write: bool = Field(False, json_schema_extra=env("POLICY_TOOLS_ALLOW_WRITE"))
    tools_allow_exec: bool = Field(False, json_schema_extra=env("POLICY_TOOLS_ALLOW_EXEC"))
    test_timeout: float = Field(600.0, gt=0, json_schema_extra=env("POLICY_TEST_TIMEOUT"))


class McpSettings(Section):
    server_manifest: Path | None = Field(None, json_schema_extra=env("MCP_SERVER_MANIFEST"))
    manifest_dirs: CommaList = Field(
        default_factory=lambda: ["~/.claude/mcp"], json_schema_extra=env("MCP_MANIFEST_DIRS")
    )
    servers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    call_timeout: float = Field(60.0, gt=0, json_schema_extra=env("MCP_CALL_TIMEOUT"))
    startup_timeout: float = Field(30.0, gt=0, json_schema_extra=env("MCP_STARTUP_TIMEOUT"))
    health_interval: float = Field(30.0, gt=0, json_schema_extra=env("MCP_HEALTH_INTERVAL"))


class IndexSettings(Section):
    db_path: Path | None = Field(None, json_schema_extra=env("LYNKR_INDEX_DB"))
    max_file_bytes: int = Field(1_000_000, gt=0, json_schema_extra=env("LYNKR_INDEX_MAX_FILE"))
    workers: int = Field(0, ge=0, json_schema_extra=env("LYNKR_INDEX_WORKERS"))
    claude_md: bool = Field(True, json_schema_extra=env("LYNKR_INDEX_CLAUDE_MD"))


class GatewaySettings(Section):
    workspace_root: Path | None = Field(
        None, json_schema_extra=env("LYNKR_WORKSPACE", "WORKSPACE_ROOT")
    )
    tools_mode: Literal["auto", "always", "never"] = Field(
        "auto", json_schema_extra=env("LYNKR_TOOLS_MODE")
    )
    max_steps: int = Field(8, ge=1, json_schema_extra=env("LYNKR_TOOLS_MAX_STEPS"))
    max_tool_calls: int = Field(24, ge=1, json_schema_extra=env("LYNKR_TOOLS_MAX_CALLS"))
    max_seconds: float = Field(300.0, gt=0, json_schema_extra=env("LYNKR_TOOLS_MAX_SECONDS"))
    tool_timeout: float = Field(60.0, gt=0, json_schema_extra=env("LYNKR_TOOL_TIMEOUT"))
    # Extra environment names (or PREFIX_* patterns) the gateway's tool subprocesses receive.
    tool_env_pass: CommaList = Field(
        default_factory=list, json_schema_extra=env("LYNKR_TOOL_ENV_PASS")
    )
    database_url: SecretStr | None = Field(None, json_schema_extra=env("LYNKR_DATABASE_URL"))


# claude-code-router's Router names, accepted in lynkr.toml beside lynkr's own.
SETTING_ALIASES = {
    "routing.longContext": "routing.long_context",
    "routing.longContextThreshold": "routing.long_context_threshold",
    "routing.webSearch": "routing.web_search",
}


def route_target(value: str) -> tuple[str, str]:
    """``provider/model``, ``provider,model``, ``provider:model`` or ``provider`` alone as
    (provider, model): the provider ends at the first ``/``, ``,`` or ``:``, so a model
    keeps its own (``openai/anthropic/claude-sonnet-4``, ``ollama/qwen3:8b``)."""
    text = value.strip()
    cuts = [i for i in (text.find(sep) for sep in "/,:") if i >= 0]
    cut = min(cuts, default=len(text))
    return provider_name(text[:cut]), text[cut + 1 :].strip()


def _route_target(value: str) -> str:
    text = value.strip()
    if text:
        provider, _model = route_target(text)
        if not provider or not provider.replace("-", "").replace(".", "").isalnum():
            raise PydanticCustomError(
                "route_target",
                "expected provider/model (or provider,model as claude-code-router writes it)",
            )
    return text


RouteTarget = Annotated[str, AfterValidator(_route_target)]


class RoutingSettings(Section):
    """Scenario routing (docs/routing.md): the upstream for each kind of request."""

    default: RouteTarget = Field("", json_schema_extra=env("LYNKR_ROUTE_DEFAULT"))
    background: RouteTarget = Field("", json_schema_extra=env("LYNKR_ROUTE_BACKGROUND"))
    think: RouteTarget = Field("", json_schema_extra=env("LYNKR_ROUTE_THINK"))
    long_context: RouteTarget = Field("", json_schema_extra=env("LYNKR_ROUTE_LONG_CONTEXT"))
    long_context_threshold: int = Field(
        60000, ge=1, json_schema_extra=env("LYNKR_ROUTE_LONG_CONTEXT_THRESHOLD")
    )
    web_search: RouteTarget = Field("", json_schema_extra=env("LYNKR_ROUTE_WEB_SEARCH"))


class TeamSettings(Section):
    """The team gateway: issued keys, limits, usage and audit (docs/team-gateway.md)."""

    key_cache_ttl: float = Field(5.0, gt=0, le=300, json_schema_extra=env("LYNKR_KEY_CACHE_TTL"))
    audit: Literal["off", "metadata", "full"] = Field(
        "metadata", json_schema_extra=env("LYNKR_AUDIT")
    )
    audit_retention_days: float = Field(
        90.0, ge=0, json_schema_extra=env("LYNKR_AUDIT_RETENTION_DAYS")
    )
    audit_max_body_kb: int = Field(256, ge=1, json_schema_extra=env("LYNKR_AUDIT_MAX_BODY_KB"))
    usage_batch_size: int = Field(100, ge=1, le=10_000, json_schema_extra=env("LYNKR_USAGE_BATCH"))
    usage_flush_seconds: float = Field(
        1.0, gt=0, le=60, json_schema_extra=env("LYNKR_USAGE_FLUSH_SECONDS")
    )
    # glob -> {input, output, cache_write, cache_write_1h, cache_read} in USD per million tokens
    prices: Annotated[dict[str, dict[str, Any]], BeforeValidator(_parse_mapping)] = Field(
        default_factory=dict, json_schema_extra=env("LYNKR_PRICES")
    )
    prices_file: Path | None = Field(None, json_schema_extra=env("LYNKR_PRICES_FILE"))
    metrics_key: SecretStr | None = Field(None, json_schema_extra=env("LYNKR_METRICS_KEY"))


def _guard_kinds(value: list[str]) -> list[str]:
    from lynkr_cli.guard.kinds import resolve_kinds

    resolve_kinds(value)  # ValueError naming the unknown kind
    return value


class GuardSettings(Section):
    """What the gateway does with secrets and personal data in a request (docs/guard.md)."""

    # LYNKR_GUARD_MODE, LYNKR_GUARD_KINDS (the section's own names)
    mode: Literal["off", "warn", "redact", "block"] = "warn"
    kinds: Annotated[CommaList, AfterValidator(_guard_kinds)] = Field(
        default_factory=lambda: ["secrets", "pii"]
    )


class Settings(BaseModel):
    """Everything lynkr can be told. Build it with :func:`load_settings`.

    A plain pydantic model: :func:`load_settings` merges the sources itself so it can
    say where each value came from. (pydantic-settings' BaseSettings would add ~80 ms
    of imports to every command, asyncio and argparse among them, for sources we bypass.)
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    server: ServerSettings = Field(default_factory=ServerSettings)
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    team: TeamSettings = Field(default_factory=TeamSettings)
    guard: GuardSettings = Field(default_factory=GuardSettings)


SECTIONS: dict[str, type[Section]] = {
    name: info.default_factory  # type: ignore[misc]
    for name, info in Settings.model_fields.items()
}


def field_env_names(section: str, name: str) -> list[str]:
    """Every environment name that sets ``section.name``, highest priority first."""
    info = SECTIONS[section].model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    names = [str(n) for n in extra.get("env", []) or []]  # type: ignore[union-attr]
    return [f"LYNKR_{section.upper()}_{name.upper()}", *names]


def iter_fields() -> Iterator[tuple[str, str]]:
    for section, model in SECTIONS.items():
        for name in model.model_fields:
            yield section, name


def is_secret(section: str, name: str) -> bool:
    annotation = str(SECTIONS[section].model_fields[name].annotation)
    return "SecretStr" in annotation


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret's value (keys, tokens, proxy credentials), for masking."""
    values = []
    for section, name in iter_fields():
        value = getattr(getattr(settings, section), name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedSettings:
    settings: Settings
    sources: dict[str, str]
    files: list[Path]
    raw: dict[str, Any]


def _layers(
    overrides: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    cwd: Path,
    table: snapshot.Fields,
) -> tuple[list[Layer], list[Path]]:
    names = {key: spec.env for key, spec in table.items()}
    files = config_files(cwd, explicit_config_file())
    layers = [_toml_layer(p) for p in files]
    dotenv = dotenv_file(cwd)
    if dotenv.is_file():
        files.append(dotenv)
        layers.append(dotenv_layer(dotenv, names))
    layers.append(env_layer(environ, "env", names))
    if overrides:
        flag_layer = Layer("flags")
        for key, value in overrides.items():
            if value is not None:
                flag_layer.values[key] = value
                flag_layer.origins[key] = "flag"
        layers.append(flag_layer)
    return layers, files


def _toml_layer(path: Path) -> Layer:
    layer = toml_layer(path)
    _canonical_names(layer, path)
    return layer


def _canonical_names(layer: Layer, path: Path) -> None:
    """Rename claude-code-router's spellings (``longContext``) to lynkr's, in place."""
    for alias, name in SETTING_ALIASES.items():
        if alias not in layer.values:
            continue
        if name in layer.values:
            raise ConfigError(
                f"{path} sets both {alias} and {name}",
                hint=f"Keep one: {alias} is claude-code-router's name for {name}.",
            )
        layer.values[name] = layer.values.pop(alias)
        layer.origins[name] = layer.origins.pop(alias)


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        section, _, name = dotted.partition(".")
        if not name:
            nested[section] = value
            continue
        nested.setdefault(section, {})[name] = value
    return nested


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> LoadedSettings:
    """Merge every source and validate once, or take the values an earlier load
    validated from the same inputs (``snapshot.py``). Raises ConfigError naming the
    bad value's source."""
    env_map = os.environ if environ is None else environ
    where = cwd or Path.cwd()
    table = fields()

    def inputs() -> str | None:
        explicit = explicit_config_file()
        return snapshot.inputs_text(
            table,
            env_map,
            cwd=where,
            explicit=explicit,
            config_dir=paths.config_dir(),
            overrides=overrides,
        )

    text = inputs()  # before the files are read: what is recorded is what was read
    layers, files = _layers(overrides, env_map, where, table)
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        merged.update(layer.values)
        origins.update(layer.origins)
    settings = _restore(text, merged) if text is not None else None
    if settings is None:
        try:
            settings = Settings(**_nest(merged))
        except ValidationError as exc:
            raise _config_error(exc, merged, origins) from None
        if text is not None and inputs() == text:  # no file changed meanwhile
            _record(text, settings, merged, table)
    shown = {f"{s}.{n}": origins.get(f"{s}.{n}", "default") for s, n in iter_fields()}
    return LoadedSettings(settings, shown, files, merged)


# --------------------------------------------------------------------------- the snapshot

_FREE_TEXT = (
    (str, snapshot.FREE),
    (str | None, snapshot.FREE),
    (SecretStr, snapshot.SECRET),
    (SecretStr | None, snapshot.SECRET),
)


def fields() -> dict[str, snapshot.Field]:
    """Every setting's environment names, and how the snapshot keeps its value."""
    table = {}
    for section, name in iter_fields():
        kind = _kind(SECTIONS[section], name)
        table[f"{section}.{name}"] = snapshot.Field(tuple(field_env_names(section, name)), kind)
    return table


def _kind(model: type[BaseModel], name: str) -> str:
    """Free text (any string is valid as it is), or checked by validation."""
    info = model.model_fields[name]
    hooks = model.__pydantic_decorators__
    if not info.metadata and not (hooks.field_validators or hooks.model_validators):
        for annotation, kind in _FREE_TEXT:
            if info.annotation == annotation:
                return kind
    return snapshot.OPAQUE if "SecretStr" in str(info.annotation) else snapshot.CHECKED


def _record(
    text: str, settings: Settings, merged: Mapping[str, Any], table: snapshot.Fields
) -> None:
    """Keep what was validated from ``text``; a section that cannot be kept is skipped."""
    kept: dict[str, dict[str, list[Any]]] = {}
    for section, model in SECTIONS.items():
        values = getattr(settings, section)
        try:
            kept[section] = {
                name: _kept(f"{section}.{name}", getattr(values, name), merged, table)
                for name in model.model_fields
            }
        except snapshot.Unrecordable:
            continue
    modules = {cls.__module__ for cls in (Settings, *SECTIONS.values())}
    snapshot.remember(text, str(paths.config_dir()), table, kept, modules)


def _kept(key: str, value: Any, merged: Mapping[str, Any], table: snapshot.Fields) -> list[Any]:
    kind = table[key].kind
    if key in merged and kind in (snapshot.FREE, snapshot.SECRET):
        return [kind]  # read from its source again: never written down
    if isinstance(value, SecretStr) or (key in merged and kind == snapshot.OPAQUE):
        raise snapshot.Unrecordable(key)
    return snapshot.encode(value, merged.get(key), from_input=key in merged)


def _restore(text: str, merged: Mapping[str, Any]) -> Settings | None:
    """The settings recorded for ``text``, built without validation; None if not all kept."""
    recorded = snapshot.recall(text)
    if recorded is None or set(recorded) != set(SECTIONS):
        return None
    built: dict[str, Any] = {}
    try:
        for section, model in SECTIONS.items():
            items = recorded[section]
            if set(items) != set(model.model_fields):
                return None
            values: dict[str, Any] = {}
            for name, item in items.items():
                value = snapshot.decode(item, merged, f"{section}.{name}")
                values[name] = SecretStr(value) if item[0] == snapshot.SECRET else value
            built[section] = model.model_construct(None, **values)
    except snapshot.Miss:
        return None
    return Settings.model_construct(None, **built)


def get_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The effective settings for a command; ``overrides`` are its flags by dotted key."""
    return load_settings(overrides).settings


def _config_error(
    exc: ValidationError, merged: Mapping[str, Any], origins: Mapping[str, str]
) -> ConfigError:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc[:2])
        origin = origins.get(key, "default")
        shown = "" if key not in merged else f" = {_shown_value(key, merged[key])}"
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown setting '{'.'.join(loc)}' (from {origin})")
            continue
        lines.append(f"invalid {key}{shown} (from {origin}): {_expected(error)}")
    return ConfigError(
        "invalid settings:\n  " + "\n  ".join(lines),
        hint="Fix the value at its source; `lynkr config show` lists every setting.",
    )


def _shown_value(key: str, value: Any) -> str:
    section, _, name = key.partition(".")
    if section in SECTIONS and name in SECTIONS[section].model_fields and is_secret(section, name):
        return "'****'"
    return repr(value)


def _expected(error: Any) -> str:
    message = str(error.get("msg", "invalid value"))
    if error["type"] == "literal_error":
        return "expected one of " + message.removeprefix("Input should be ")
    return message[0].lower() + message[1:] if message else message


# --------------------------------------------------------------------------- reporting


def mask_secret(value: str | None) -> str | None:
    """``sk-…wxyz``-style masking: enough to tell keys apart, never enough to use one."""
    if not value:
        return value
    if len(value) < 12:
        return "****"
    return f"****{value[-4:]}"


def masked_dump(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every setting as JSON-ready data, secrets masked."""
    out: dict[str, dict[str, Any]] = {}
    for section, name in iter_fields():
        value = getattr(getattr(settings, section), name)
        if isinstance(value, SecretStr):
            value = mask_secret(value.get_secret_value())
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, dict):
            from lynkr_cli.logs import redact

            value = redact(value)
        out.setdefault(section, {})[name] = value
    return out
