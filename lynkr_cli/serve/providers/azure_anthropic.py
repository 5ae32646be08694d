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
    """Native passthrough, minus the billing block and ``cache_control.scope``.

    The endpoint and key come from ``AZURE_ANTHROPIC_ENDPOINT``/``AZURE_ANTHROPIC_API_KEY``;
    when those are unset, from ``ANTHROPIC_ENDPOINT``/``ANTHROPIC_API_KEY``, as the Lynkr
    article configures Azure (``PROVIDER=azure_anthropic`` with the Anthropic names).
    """

    name = "azure-anthropic"
    wire = "anthropic"
    strip_billing = True
    strip_cache_scope = True
    bearer_token = True

    def endpoint(self) -> tuple[str, str]:
        """The endpoint in use and the variable it came from ("" when neither is set)."""
        s = self.settings
        if s.azure_anthropic_endpoint:
            return s.azure_anthropic_endpoint, "AZURE_ANTHROPIC_ENDPOINT"
        default = type(s).model_fields["anthropic_endpoint"].default
        if s.anthropic_endpoint and s.anthropic_endpoint != default:
            return s.anthropic_endpoint, "ANTHROPIC_ENDPOINT"
        return "", "AZURE_ANTHROPIC_ENDPOINT"

    def key(self) -> tuple[str, str]:
        """The API key in use and the variable it came from."""
        s = self.settings
        if secret(s.azure_anthropic_api_key):
            return secret(s.azure_anthropic_api_key), "AZURE_ANTHROPIC_API_KEY"
        if secret(s.anthropic_api_key):
            return secret(s.anthropic_api_key), "ANTHROPIC_API_KEY"
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
