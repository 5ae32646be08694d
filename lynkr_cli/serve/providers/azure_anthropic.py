"""``azure-anthropic``: Claude on Azure AI Foundry, ``…/anthropic/v1/messages``.

Auth is ``x-api-key``, or with ``provider.token_command`` an Entra ID token
(scope ``https://ai.azure.com/.default``) as ``Authorization: Bearer``.
"""

from __future__ import annotations

from lynkr_cli.serve.providers.base import Provider, Route, secret


def messages_url(endpoint: str) -> str:
    """Accept the resource base, ``…/anthropic``, or the full messages URL."""
    url = endpoint.rstrip("/")
    if url.endswith("/v1/messages"):
        return url
    if not url.endswith("/anthropic"):
        url += "/anthropic"
    return url + "/v1/messages"


class AzureAnthropicProvider(Provider):
    """Native passthrough, minus the billing block and ``cache_control.scope``."""

    name = "azure-anthropic"
    wire = "anthropic"
    strip_billing = True
    strip_cache_scope = True
    bearer_token = True

    def missing(self) -> list[str]:
        out = []
        if not self.settings.azure_anthropic_endpoint:
            out.append("AZURE_ANTHROPIC_ENDPOINT")
        if self.token is None and not secret(self.settings.azure_anthropic_api_key):
            out.append("AZURE_ANTHROPIC_API_KEY")
        return out

    def url(self, route: Route) -> str:
        return messages_url(self.settings.azure_anthropic_endpoint)

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token
        return {"x-api-key": secret(self.settings.azure_anthropic_api_key)}

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return "AZURE_ANTHROPIC_API_KEY"

    def count_tokens_url(self, route: Route) -> str | None:
        return self.url(route) + "/count_tokens"
