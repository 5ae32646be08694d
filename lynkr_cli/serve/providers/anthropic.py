"""``anthropic``: api.anthropic.com or any Anthropic-compatible Messages endpoint."""

from __future__ import annotations

from lynkr_cli.serve.providers.base import Provider, Route, secret


class AnthropicProvider(Provider):
    """Native passthrough with ``x-api-key``; betas and unknown fields go through untouched.

    The URL comes from ``ANTHROPIC_ENDPOINT`` (the full messages URL), never from
    ``ANTHROPIC_BASE_URL``: that is the client's variable and points at lynkr itself.
    """

    name = "anthropic"
    wire = "anthropic"
    strip_billing = False  # Anthropic itself issued the block; it belongs there.

    def missing(self) -> list[str]:
        return [] if secret(self.settings.anthropic_api_key) else ["ANTHROPIC_API_KEY"]

    def url(self, route: Route) -> str:
        return self.settings.anthropic_endpoint

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": secret(self.settings.anthropic_api_key)}

    def credential_setting(self) -> str:
        return "ANTHROPIC_API_KEY (lynkr's upstream key; ANTHROPIC_ENDPOINT for the URL)"

    def url_setting(self) -> str:
        return "ANTHROPIC_ENDPOINT"

    def default_model(self) -> str:
        return self.settings.model_default

    def count_tokens_url(self, route: Route) -> str | None:
        return self.settings.anthropic_endpoint.rstrip("/") + "/count_tokens"
