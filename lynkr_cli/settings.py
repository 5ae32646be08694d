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
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
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
    # Whether the section's model validators may refuse or change its fields' values:
    # if so the snapshot records even its free-text fields as validated (``_kind``).
    model_validators_see_fields: ClassVar[bool] = True


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


class ProviderConfig(BaseModel):
    """A provider's own settings: the model a provider class names as ``settings_model``.

    Its fields are ``provider.<name>.<field>`` (``[provider.<name>]`` in ``lynkr.toml``,
    ``LYNKR_PROVIDER_<NAME>_<FIELD>`` in the environment, plus the names a field lists
    with :func:`env`); a ``SecretStr`` field is a secret (masked by ``lynkr config show``,
    scrubbed from every error). ``flat_names`` (the built-ins only) also accepts
    ``provider.<name>_<field>``, the spelling of lynkr before providers owned their
    settings, which ``lynkr switch`` wrote into ``lynkr.toml``.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True, defer_build=True)
    flat_names: ClassVar[bool] = False


class ProviderSettings(Section):
    """What every provider shares; each provider's own fields are its ``ProviderConfig``,
    held here by name (:meth:`config`), validated against the registered providers."""

    model_config = ConfigDict(extra="allow", validate_default=True)
    # Its model validators only place and check the providers' own tables (the extras).
    model_validators_see_fields: ClassVar[bool] = False

    name: Annotated[str, BeforeValidator(provider_name)] = Field(
        "", json_schema_extra=env("LYNKR_PROVIDER", "MODEL_PROVIDER", "PROVIDER")
    )
    model_default: str = Field("", json_schema_extra=env("LYNKR_MODEL", "MODEL_DEFAULT"))
    model_map: StrMapping = Field(default_factory=dict, json_schema_extra=env("LYNKR_MODEL_MAP"))
    fallback: Annotated[CommaList, AfterValidator(provider_name)] = Field(
        default_factory=list, json_schema_extra=env("LYNKR_FALLBACK")
    )

    # A command printing a bearer token (Entra ID, Databricks OAuth), run without a shell;
    # azure-anthropic, databricks and openai then send it instead of their key.
    token_command: str = Field("", json_schema_extra=env("LYNKR_TOKEN_COMMAND"))
    token_ttl_seconds: float = Field(300.0, gt=0, json_schema_extra=env("LYNKR_TOKEN_TTL_SECONDS"))
    # "" (unset): HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY; "none": never; else the proxy URL
    proxy: SecretStr | None = Field(None, json_schema_extra=env("LYNKR_UPSTREAM_PROXY"))
    # auto: the gateway's own HTTP/1.1 client, aiohttp's where a proxy needs it (https, SOCKS)
    transport: Literal["auto", "http1", "aiohttp"] = Field(
        "auto", json_schema_extra=env("LYNKR_UPSTREAM_TRANSPORT")
    )
    connect_timeout: float = Field(10.0, gt=0, json_schema_extra=env("LYNKR_CONNECT_TIMEOUT"))
    first_byte_timeout: float = Field(
        300.0, gt=0, json_schema_extra=env("LYNKR_FIRST_BYTE_TIMEOUT")
    )
    idle_timeout: float = Field(300.0, gt=0, json_schema_extra=env("LYNKR_IDLE_TIMEOUT"))
    total_timeout: float = Field(1800.0, gt=0, json_schema_extra=env("LYNKR_TOTAL_TIMEOUT"))
    max_retries: int = Field(2, ge=0, le=10, json_schema_extra=env("LYNKR_MAX_RETRIES"))
    retry_max_wait: float = Field(30.0, ge=0, json_schema_extra=env("LYNKR_RETRY_MAX_WAIT"))

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """``databricks_api_key=…`` (a built-in's flat name) as ``databricks={api_key: …}``."""
        if not isinstance(data, Mapping):
            return data
        out: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            if key in cls.model_fields:
                out[key] = value
                continue
            flat = split_flat_name(key)
            if flat is not None:
                nested.setdefault(flat[0], {})[flat[1]] = value
            else:
                name = provider_name(key)
                if isinstance(value, Mapping):
                    nested.setdefault(name, {}).update(value)
                else:
                    out[key] = value
        for name, values in nested.items():
            out[name] = values
        return out

    @model_validator(mode="after")
    def _validate_configs(self) -> ProviderSettings:
        extra = self.__pydantic_extra__
        assert extra is not None
        models = provider_configs()
        errors: list[Any] = []
        for key, value in list(extra.items()):
            model = models.get(key)
            if model is None:
                errors.append(_unknown_provider(key, value, models))
                continue
            if isinstance(value, model):
                continue
            try:
                extra[key] = model.model_validate(value)
            except ValidationError as exc:
                errors += [_nested_error(key, e) for e in exc.errors()]
        if errors:
            raise ValidationError.from_exception_data("ProviderSettings", errors)
        for key, model in models.items():
            if key not in extra:
                extra[key] = model()
        return self

    def config(self, name: str) -> ProviderConfig:
        """Provider ``name``'s own settings (its defaults when it registered after these
        settings were made)."""
        extra = self.__pydantic_extra__ or {}
        found = extra.get(name)
        if isinstance(found, ProviderConfig):
            return found
        model = provider_configs().get(name, ProviderConfig)
        return model()

    def configs(self) -> dict[str, ProviderConfig]:
        """Every provider's own settings, by provider name."""
        extra = self.__pydantic_extra__ or {}
        return {k: v for k, v in extra.items() if isinstance(v, ProviderConfig)}

    # The built-ins' flat names as attributes (``settings.provider.anthropic_endpoint``),
    # for code written before providers owned their settings.
    def __getattr__(self, item: str) -> Any:
        flat = split_flat_name(item) if not item.startswith("_") else None
        if flat is not None:
            return getattr(self.config(flat[0]), flat[1])
        return super().__getattr__(item)  # type: ignore[misc]

    def __setattr__(self, item: str, value: Any) -> None:
        flat = None if item in type(self).model_fields else split_flat_name(item)
        if flat is not None:
            setattr(self.config(flat[0]), flat[1], value)
            return
        super().__setattr__(item, value)


def provider_configs() -> dict[str, type[ProviderConfig]]:
    """The settings model of every registered provider, by provider name."""
    from lynkr_cli.registry import providers

    out: dict[str, type[ProviderConfig]] = {}
    for name, cls in providers().items():
        model = getattr(cls, "settings_model", None)
        if isinstance(model, type) and issubclass(model, ProviderConfig):
            out[name] = model
    return out


def split_flat_name(key: str) -> tuple[str, str] | None:
    """``databricks_api_base`` → ("databricks", "api_base") for a built-in's flat name."""
    best: tuple[str, str] | None = None
    for name, model in provider_configs().items():
        if not model.flat_names:
            continue
        prefix = name.replace("-", "_") + "_"
        rest = key[len(prefix) :]
        found = key.startswith(prefix) and rest in model.model_fields
        if found and (best is None or len(name) > len(best[0])):
            best = (name, rest)
    return best


def _unknown_provider(key: str, value: Any, models: Mapping[str, Any]) -> Any:
    known = ", ".join(sorted(models)) or "none"
    if isinstance(value, Mapping):
        message = (
            f"no provider named '{key}' is loaded (loaded: {known}); install its plugin "
            "(`lynkr plugins` lists them) or remove the section"
        )
    else:
        message = "Extra inputs are not permitted"
        return {"type": "extra_forbidden", "loc": (key,), "input": value}
    return {"type": PydanticCustomError("unknown_provider", message), "loc": (key,), "input": value}


def _nested_error(section: str, error: Any) -> Any:
    """One error of a provider's model, located under the provider's name: pydantic's own
    type when it can be rebuilt (``literal_error`` …), else its message as a custom error."""
    detail: dict[str, Any] = {
        "type": error["type"],
        "loc": (section, *error["loc"]),
        "input": error.get("input"),
    }
    if error.get("ctx") is not None:
        detail["ctx"] = error["ctx"]
    try:
        ValidationError.from_exception_data("probe", [detail])  # type: ignore[list-item]
    except (TypeError, KeyError, ValueError):
        message = str(error.get("msg", "invalid value")).replace("{", "{{").replace("}", "}}")
        detail["type"] = PydanticCustomError(error["type"], message)
        detail.pop("ctx", None)
    return detail


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
    # 0: automatic (batch_size()): 3,000 records, or 100 in full audit mode (two bodies each)
    usage_batch_size: int = Field(0, ge=0, le=10_000, json_schema_extra=env("LYNKR_USAGE_BATCH"))
    usage_flush_seconds: float = Field(
        1.0, gt=0, le=60, json_schema_extra=env("LYNKR_USAGE_FLUSH_SECONDS")
    )
    # process: batches are written by a child process (team/writer.py); thread: in-process
    usage_writer: Literal["process", "thread"] = Field(
        "process", json_schema_extra=env("LYNKR_USAGE_WRITER")
    )
    # idle: the writer process runs only on CPU time nothing else wants (Linux's
    # SCHED_IDLE), back to normal as soon as it falls behind; normal: always normal
    usage_writer_priority: Literal["idle", "normal"] = Field(
        "idle", json_schema_extra=env("LYNKR_USAGE_WRITER_PRIORITY")
    )

    def batch_size(self) -> int:
        """Records per usage/audit write: ``usage_batch_size``, or when it is 0 (the
        default) 3,000, and 100 in ``full`` audit mode, where each record holds two
        bodies. Batches go out when full or every ``usage_flush_seconds``, so below
        ~100 requests a second the size changes nothing; above, larger batches cost
        the writer less per record (a transaction and a wake-up per batch)."""
        if self.usage_batch_size:
            return self.usage_batch_size
        return 100 if self.audit == "full" else 3000

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


def sections() -> dict[str, type[BaseModel]]:
    """Every section by dotted name: the fixed ones, then ``provider.<name>`` for each
    registered provider that declares its own settings."""
    out: dict[str, type[BaseModel]] = {}
    for section, model in SECTIONS.items():
        out[section] = model
        if section == "provider":
            for name, config in provider_configs().items():
                out[f"provider.{name}"] = config
    return out


def field_info(section: str, name: str) -> FieldInfo:
    return sections()[section].model_fields[name]


def field_env_names(section: str, name: str) -> list[str]:
    """Every environment name that sets ``section.name``, highest priority first."""
    info = field_info(section, name)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    names = [str(n) for n in extra.get("env", []) or []]  # type: ignore[union-attr]
    prefix = section.upper().replace(".", "_").replace("-", "_")
    return [f"LYNKR_{prefix}_{name.upper()}", *names]


def iter_fields() -> Iterator[tuple[str, str]]:
    """Every (section, field), provider sections (``provider.<name>``) included."""
    for section, model in sections().items():
        for name in model.model_fields:
            yield section, name


def is_secret(section: str, name: str) -> bool:
    annotation = str(field_info(section, name).annotation)
    return "SecretStr" in annotation


def section_of(settings: Settings, section: str) -> BaseModel:
    """The section ``section`` of ``settings`` (``provider.databricks`` included)."""
    head, _, provider = section.partition(".")
    if provider:
        return settings.provider.config(provider)
    value: BaseModel = getattr(settings, head)
    return value


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret's value (keys, tokens, proxy credentials), for masking."""
    values = []
    for section, name in iter_fields():
        value = getattr(section_of(settings, section), name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values


# --------------------------------------------------------------------------- loading


class Sources(dict[str, str]):
    """Where each setting came from, by dotted key; a built-in provider's flat name
    (``provider.databricks_api_base``) finds its setting (``provider.databricks.api_base``)."""

    def __missing__(self, key: str) -> str:
        canonical = canonical_key(key)
        if canonical == key:
            raise KeyError(key)
        return self[canonical]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass
class LoadedSettings:
    settings: Settings
    sources: dict[str, str]
    files: list[Path]
    raw: dict[str, Any]


def canonical_key(dotted: str) -> str:
    """A settings key as ``load_settings`` keys it: a built-in provider's flat name
    (``provider.databricks_api_base``) as its own (``provider.databricks.api_base``), and
    ``provider.azure_anthropic.endpoint`` with the provider's name as registered."""
    section, _, rest = dotted.partition(".")
    if section != "provider" or not rest or rest in ProviderSettings.model_fields:
        return dotted
    name, dot, field_name = rest.partition(".")
    if dot:
        return f"provider.{provider_name(name)}.{field_name}"
    flat = split_flat_name(rest)
    return f"provider.{flat[0]}.{flat[1]}" if flat is not None else dotted


def _provider_tables(layer: Layer) -> None:
    """A provider's own table (``[provider.databricks]``) as one key per field, in place:
    ``sources.toml_layer`` keeps every table below a section as one value."""
    for key, value in list(layer.values.items()):
        section, _, name = key.partition(".")
        own = section == "provider" and name and name not in ProviderSettings.model_fields
        if not own or "." in name or not isinstance(value, Mapping):
            continue
        del layer.values[key]
        origin = layer.origins.pop(key)
        for field_name, field_value in value.items():
            layer.values[f"{key}.{field_name}"] = field_value
            layer.origins[f"{key}.{field_name}"] = origin


def _canonical_layer(layer: Layer, where: str) -> None:
    """Rename every key of a layer to its canonical form, in place; two spellings of one
    setting in one layer are an error naming both."""
    seen: dict[str, str] = {}
    for key in list(layer.values):
        canonical = canonical_key(key)
        if canonical in seen and seen[canonical] != key:
            raise ConfigError(
                f"{where} sets both {seen[canonical]} and {key}",
                hint=f"Keep one: {key if key != canonical else seen[canonical]} is the older "
                f"spelling of {canonical}.",
            )
        seen[canonical] = key
        if canonical != key:
            layer.values[canonical] = layer.values.pop(key)
            layer.origins[canonical] = layer.origins.pop(key)


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
    _provider_tables(layer)
    _canonical_names(layer, path)
    _canonical_layer(layer, str(path))
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
        table = nested.setdefault(section, {})
        if section == "provider" and "." in name:  # provider.<name>.<field>
            provider, _, name = name.partition(".")
            table = table.setdefault(provider, {})
        table[name] = value
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
    if overrides:  # a flag may name a built-in provider's setting by its flat name
        overrides = {canonical_key(key): value for key, value in overrides.items()}

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
    shown = Sources({f"{s}.{n}": origins.get(f"{s}.{n}", "default") for s, n in iter_fields()})
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
    known = sections()  # provider.<name> included: each provider's own settings
    for section, name in iter_fields():
        kind = _kind(known[section], name)
        table[f"{section}.{name}"] = snapshot.Field(tuple(field_env_names(section, name)), kind)
    return table


def _kind(model: type[BaseModel], name: str) -> str:
    """Free text (any string is valid as it is), or checked by validation."""
    info = model.model_fields[name]
    hooks = model.__pydantic_decorators__
    whole = bool(hooks.model_validators) and getattr(model, "model_validators_see_fields", True)
    if not info.metadata and not (hooks.field_validators or whole):
        for annotation, kind in _FREE_TEXT:
            if info.annotation == annotation:
                return kind
    return snapshot.OPAQUE if "SecretStr" in str(info.annotation) else snapshot.CHECKED


def _record(
    text: str, settings: Settings, merged: Mapping[str, Any], table: snapshot.Fields
) -> None:
    """Keep what was validated from ``text``; a section that cannot be kept is skipped."""
    kept: dict[str, dict[str, list[Any]]] = {}
    known = sections()
    for section, model in known.items():
        values = section_of(settings, section)
        try:
            kept[section] = {
                name: _kept(f"{section}.{name}", getattr(values, name), merged, table)
                for name in model.model_fields
            }
        except snapshot.Unrecordable:
            continue
    modules = {cls.__module__ for cls in (Settings, *known.values())}
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
    known = sections()
    if recorded is None or set(recorded) != set(known):
        return None
    found: dict[str, dict[str, Any]] = {}
    try:
        for section, model in known.items():
            items = recorded[section]
            if set(items) != set(model.model_fields):
                return None
            values: dict[str, Any] = {}
            for name, item in items.items():
                value = snapshot.decode(item, merged, f"{section}.{name}")
                values[name] = SecretStr(value) if item[0] == snapshot.SECRET else value
            found[section] = values
    except snapshot.Miss:
        return None
    # Each provider's own settings are the provider section's extras, by provider name.
    configs: dict[str, Any] = {
        section.partition(".")[2]: known[section].model_construct(None, **found.pop(section))
        for section in list(found)
        if "." in section
    }
    built: dict[str, Any] = {s: SECTIONS[s].model_construct(None, **v) for s, v in found.items()}
    built["provider"] = ProviderSettings.model_construct(None, **found["provider"], **configs)
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
        nested = (
            loc[0] == "provider" and len(loc) > 2 and loc[1] not in ProviderSettings.model_fields
        )
        key = ".".join(loc[:3] if nested else loc[:2])
        origin = origins.get(key) or next(
            (where for k, where in origins.items() if k.startswith(key + ".")), "default"
        )
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
    section, _, name = key.rpartition(".")
    known = sections()
    if section in known and name in known[section].model_fields and is_secret(section, name):
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
        value = getattr(section_of(settings, section), name)
        if isinstance(value, SecretStr):
            value = mask_secret(value.get_secret_value())
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, dict):
            from lynkr_cli.logs import redact

            value = redact(value)
        out.setdefault(section, {})[name] = value
    return out
