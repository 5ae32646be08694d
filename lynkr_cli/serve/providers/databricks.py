"""``databricks``: model serving, in mode ``chat`` (OpenAI format) or ``anthropic`` (native)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from lynkr_cli.serve.providers.base import (
    Provider,
    ProviderConfig,
    Quirks,
    Route,
    env,
    secret,
)
from lynkr_cli.settings import ProviderSettings

_WORKSPACE = {
    "id": "workspace",
    "prompt": "Databricks workspace URL (https://<workspace>.cloud.databricks.com)",
    "env": ["DATABRICKS_API_BASE", "DATABRICKS_HOST"],
    "setting": "provider.databricks.api_base",
    "url": True,
}
_TOKEN = {
    "id": "token",
    "prompt": "Databricks token (dapi...)",
    "secret": True,
    "env": ["DATABRICKS_API_KEY", "DATABRICKS_TOKEN"],
    "setting": "provider.databricks.api_key",
}


class DatabricksConfig(ProviderConfig):
    """``provider.databricks.*``; the flat names (``provider.databricks_api_base``, which
    ``lynkr switch`` wrote) still work."""

    flat_names = True
    api_base: str = Field(
        "", json_schema_extra=env("LYNKR_DATABRICKS_API_BASE", "DATABRICKS_API_BASE")
    )
    api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_DATABRICKS_API_KEY", "DATABRICKS_API_KEY")
    )
    endpoint_path: str = Field(
        "", json_schema_extra=env("LYNKR_DATABRICKS_ENDPOINT_PATH", "DATABRICKS_ENDPOINT_PATH")
    )
    mode: Literal["chat", "anthropic"] = Field(
        "chat", json_schema_extra=env("LYNKR_DATABRICKS_MODE", "DATABRICKS_MODE")
    )


class DatabricksProvider(Provider):
    """Bearer-token auth against ``<workspace>/serving-endpoints``.

    - mode ``chat`` (Lynkr's default): ``/serving-endpoints/<endpoint>/invocations``
      in chat-completions format; ``DATABRICKS_ENDPOINT_PATH`` overrides the path.
    - mode ``anthropic``: ``/serving-endpoints/anthropic/v1/messages``, native, with
      the endpoint name as ``model``.
    """

    name = "databricks"
    settings_model = DatabricksConfig
    config: DatabricksConfig
    # Claude-backed chat endpoints: Anthropic's `thinking` object, strict about fields.
    quirks = Quirks(
        label="databricks",
        image_urls=False,
        file_parts=False,
        max_stop_sequences=None,
        user_field=False,
        reasoning_models=False,
        thinking="anthropic",
        system_mid_conversation=False,
    )
    strip_billing = True
    bearer_token = True
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "databricks": {
            "description": "Claude Code -> the local lynkr gateway -> Databricks "
            "(run `lynkr serve`)",
            "base_url": "http://127.0.0.1:{port}",
            "key": "{gateway_key}",
            "key_field": "ANTHROPIC_API_KEY",
            "notes": "The gateway holds the Databricks token; "
            "Claude Code only sees the gateway key.",
            "gateway": {"provider.name": "databricks"},
            "inputs": [{**_WORKSPACE, "persist": True}, {**_TOKEN, "persist": True}],
        },
        "databricks-direct": {
            "description": "Claude Code -> Databricks /serving-endpoints/anthropic, no gateway",
            "base_url": "{workspace}/serving-endpoints/anthropic",
            "key": "{token}",
            "key_field": "ANTHROPIC_AUTH_TOKEN",
            "model": "databricks-claude-sonnet-4-5",
            "sonnet_model": "databricks-claude-sonnet-4-5",
            "extra_env": {"CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS": "1"},
            "notes": "Only pay-per-token Anthropic models and external models "
            "answer on this route.",
            "inputs": [_WORKSPACE, _TOKEN],
        },
    }  # fmt: skip

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.wire = "anthropic" if self.config.mode == "anthropic" else "openai"

    def missing(self) -> list[str]:
        out = []
        if not self.config.api_base:
            out.append("DATABRICKS_API_BASE")
        if self.token is None and not secret(self.config.api_key):
            out.append("DATABRICKS_API_KEY")
        return out

    @property
    def native(self) -> bool:
        return self.config.mode == "anthropic"

    def _base(self) -> str:
        return self.config.api_base.rstrip("/")

    def url(self, route: Route) -> str:
        if self.native:
            return f"{self._base()}/serving-endpoints/anthropic/v1/messages"
        path = self.config.endpoint_path
        if path and route.upstream_model == self.default_model():
            return self._base() + "/" + path.lstrip("/")
        return f"{self._base()}/serving-endpoints/{route.upstream_model}/invocations"

    def url_setting(self) -> str:
        return "DATABRICKS_API_BASE"

    def default_model(self) -> str:
        if self.settings.model_default:
            return self.settings.model_default
        # "/serving-endpoints/<name>/invocations" names the endpoint.
        parts = [p for p in self.config.endpoint_path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "serving-endpoints":
            return parts[1]
        return "databricks-claude-sonnet-4-5"

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token
        return {"authorization": f"Bearer {secret(self.config.api_key)}"}

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return "DATABRICKS_API_KEY"
