"""``azure-anthropic``: Claude on Azure AI Foundry, ``…/anthropic/v1/messages``.

Auth is ``x-api-key``, or with ``provider.token_command`` an Entra ID token
(scope ``https://ai.azure.com/.default``) as ``Authorization: Bearer``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr

from lynkr_cli.serve.providers.anthropic import DEFAULT_ENDPOINT, AnthropicConfig
from lynkr_cli.serve.providers.base import Provider, ProviderConfig, Route, env, secret


def messages_url(endpoint: str) -> str:
    """Accept the resource base, ``…/anthropic``, or the full messages URL."""
    url = endpoint.rstrip("/")
    if url.endswith("/v1/messages"):
        return url
    if not url.endswith("/anthropic"):
        url += "/anthropic"
    return url + "/v1/messages"


class AzureAnthropicConfig(ProviderConfig):
    """``provider.azure-anthropic.*``; the flat names (``provider.azure_anthropic_endpoint``)
    still work. When unset, the ``anthropic`` provider's endpoint and key are used."""

    flat_names = True
    endpoint: str = Field(
        "", json_schema_extra=env("LYNKR_AZURE_ANTHROPIC_ENDPOINT", "AZURE_ANTHROPIC_ENDPOINT")
    )
    api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_AZURE_ANTHROPIC_API_KEY", "AZURE_ANTHROPIC_API_KEY")
    )


class AzureAnthropicProvider(Provider):
    """Native passthrough, minus the billing block and ``cache_control.scope``.

    The endpoint and key come from ``AZURE_ANTHROPIC_ENDPOINT``/``AZURE_ANTHROPIC_API_KEY``;
    when those are unset, from ``ANTHROPIC_ENDPOINT``/``ANTHROPIC_API_KEY``, as the Lynkr
    article configures Azure (``PROVIDER=azure_anthropic`` with the Anthropic names).
    """

    name = "azure-anthropic"
    wire = "anthropic"
    settings_model = AzureAnthropicConfig
    config: AzureAnthropicConfig
    strip_billing = True
    strip_cache_scope = True
    bearer_token = True
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "azure-anthropic": {
            "description": "Azure AI Foundry's Anthropic endpoint (x-api-key auth)",
            "base_url": "{endpoint}",
            "key": "{key}",
            "key_field": "ANTHROPIC_API_KEY",
            "notes": "The model is the Foundry deployment name.",
            "inputs": [
                {"id": "endpoint",
                 "prompt": "Foundry endpoint (https://<resource>.services.ai.azure.com/anthropic)",
                 "env": ["AZURE_ANTHROPIC_ENDPOINT"],
                 "setting": "provider.azure-anthropic.endpoint", "url": True},
                {"id": "key", "prompt": "Azure API key", "secret": True,
                 "env": ["AZURE_ANTHROPIC_API_KEY"], "setting": "provider.azure-anthropic.api_key"},
            ],
        },
    }  # fmt: skip

    def _anthropic(self) -> AnthropicConfig:
        config = self.settings.config("anthropic")
        return config if isinstance(config, AnthropicConfig) else AnthropicConfig()

    def endpoint(self) -> tuple[str, str]:
        """The endpoint in use and the variable it came from ("" when neither is set)."""
        if self.config.endpoint:
            return self.config.endpoint, "AZURE_ANTHROPIC_ENDPOINT"
        fallback = self._anthropic().endpoint
        if fallback and fallback != DEFAULT_ENDPOINT:
            return fallback, "ANTHROPIC_ENDPOINT"
        return "", "AZURE_ANTHROPIC_ENDPOINT"

    def key(self) -> tuple[str, str]:
        """The API key in use and the variable it came from."""
        if secret(self.config.api_key):
            return secret(self.config.api_key), "AZURE_ANTHROPIC_API_KEY"
        if secret(self._anthropic().api_key):
            return secret(self._anthropic().api_key), "ANTHROPIC_API_KEY"
        return "", "AZURE_ANTHROPIC_API_KEY"

    def missing(self) -> list[str]:
        out = []
        if not self.endpoint()[0]:
            out.append("AZURE_ANTHROPIC_ENDPOINT")
        if self.token is None and not self.key()[0]:
            out.append("AZURE_ANTHROPIC_API_KEY")
        return out

    def url(self, route: Route) -> str:
        return messages_url(self.endpoint()[0])

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token
        return {"x-api-key": self.key()[0]}

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return self.key()[1]

    def url_setting(self) -> str:
        return self.endpoint()[1]

    def count_tokens_url(self, route: Route) -> str | None:
        return self.url(route) + "/count_tokens"
