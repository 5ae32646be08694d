"""``anthropic``: api.anthropic.com or any Anthropic-compatible Messages endpoint."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr

from lynkr_cli.serve.providers.base import Provider, ProviderConfig, Route, env, secret

DEFAULT_ENDPOINT = "https://api.anthropic.com/v1/messages"


class AnthropicConfig(ProviderConfig):
    """``provider.anthropic.*``; the flat names (``provider.anthropic_api_key``) still work."""

    flat_names = True
    endpoint: str = Field(
        DEFAULT_ENDPOINT, json_schema_extra=env("LYNKR_ANTHROPIC_ENDPOINT", "ANTHROPIC_ENDPOINT")
    )
    api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY")
    )


class AnthropicProvider(Provider):
    """Native passthrough with ``x-api-key``; betas and unknown fields go through untouched.

    The URL comes from ``ANTHROPIC_ENDPOINT`` (the full messages URL), never from
    ``ANTHROPIC_BASE_URL``: that is the client's variable and points at lynkr itself.
    """

    name = "anthropic"
    wire = "anthropic"
    settings_model = AnthropicConfig
    config: AnthropicConfig
    strip_billing = False  # Anthropic itself issued the block; it belongs there.
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "anthropic": {
            "description": "Anthropic's own API",
            "base_url": "https://api.anthropic.com",
            "key": "{key}",
            "key_field": "ANTHROPIC_API_KEY",
            "inputs": [
                {"id": "key", "prompt": "Anthropic API key (sk-ant-...)", "secret": True,
                 "env": ["ANTHROPIC_API_KEY"], "setting": "provider.anthropic.api_key"},
            ],
        },
    }  # fmt: skip

    def missing(self) -> list[str]:
        return [] if secret(self.config.api_key) else ["ANTHROPIC_API_KEY"]

    def url(self, route: Route) -> str:
        return self.config.endpoint

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": secret(self.config.api_key)}

    def credential_setting(self) -> str:
        return "ANTHROPIC_API_KEY (lynkr's upstream key; ANTHROPIC_ENDPOINT for the URL)"

    def url_setting(self) -> str:
        return "ANTHROPIC_ENDPOINT"

    def count_tokens_url(self, route: Route) -> str | None:
        return self.config.endpoint.rstrip("/") + "/count_tokens"
