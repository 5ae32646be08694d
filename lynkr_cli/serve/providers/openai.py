"""``openai``: any chat-completions endpoint, through translation."""

from __future__ import annotations

from pydantic import Field, SecretStr

from lynkr_cli.serve.providers.base import Provider, ProviderConfig, Route, env, secret


class OpenAIConfig(ProviderConfig):
    """``provider.openai.*``; the flat names (``provider.openai_endpoint``) still work."""

    flat_names = True
    endpoint: str = Field(
        "https://api.openai.com/v1/chat/completions",
        json_schema_extra=env("LYNKR_OPENAI_ENDPOINT", "OPENAI_ENDPOINT"),
    )
    api_key: SecretStr | None = Field(
        None, json_schema_extra=env("LYNKR_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    model: str = Field("", json_schema_extra=env("LYNKR_OPENAI_MODEL", "OPENAI_MODEL"))


class OpenAIProvider(Provider):
    """OpenAI, Azure OpenAI, vLLM, OpenRouter, DeepSeek: ``OPENAI_ENDPOINT`` is the full URL."""

    name = "openai"
    wire = "openai"
    settings_model = OpenAIConfig
    config: OpenAIConfig
    bearer_token = True  # quirks: OpenAI's own API (the default)

    def missing(self) -> list[str]:
        # A local vLLM needs no key; the real OpenAI does.
        if (
            "api.openai.com" in self.config.endpoint
            and self.token is None
            and not secret(self.config.api_key)
        ):
            return ["OPENAI_API_KEY"]
        return []

    def url(self, route: Route) -> str:
        return self.config.endpoint

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token (Entra ID for Azure OpenAI)
        key = secret(self.config.api_key)
        if not key:
            return {}
        if ".openai.azure.com" in self.config.endpoint:
            return {"api-key": key}  # Azure OpenAI's own header
        return {"authorization": f"Bearer {key}"}

    def default_model(self) -> str:
        return self.config.model or self.settings.model_default or "gpt-4o"

    def url_setting(self) -> str:
        return "OPENAI_ENDPOINT"

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return "OPENAI_API_KEY"
