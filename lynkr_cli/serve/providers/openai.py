"""``openai`` and ``ollama``: any chat-completions endpoint, through translation."""

from __future__ import annotations

from lynkr_cli.serve.providers.base import Provider, Route, secret


class OpenAIProvider(Provider):
    """OpenAI, Azure OpenAI, vLLM, OpenRouter, DeepSeek: ``OPENAI_ENDPOINT`` is the full URL."""

    name = "openai"
    wire = "openai"
    flavor = "openai"
    bearer_token = True

    def missing(self) -> list[str]:
        # A local vLLM needs no key; the real OpenAI does.
        if (
            "api.openai.com" in self.settings.openai_endpoint
            and self.token is None
            and not secret(self.settings.openai_api_key)
        ):
            return ["OPENAI_API_KEY"]
        return []

    def url(self, route: Route) -> str:
        return self.settings.openai_endpoint

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token (Entra ID for Azure OpenAI)
        key = secret(self.settings.openai_api_key)
        if not key:
            return {}
        if ".openai.azure.com" in self.settings.openai_endpoint:
            return {"api-key": key}  # Azure OpenAI's own header
        return {"authorization": f"Bearer {key}"}

    def default_model(self) -> str:
        return self.settings.openai_model or self.settings.model_default or "gpt-4o"

    def url_setting(self) -> str:
        return "OPENAI_ENDPOINT"

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return "OPENAI_API_KEY"


class OllamaProvider(Provider):
    """A local Ollama through its OpenAI-compatible ``/v1/chat/completions``."""

    name = "ollama"
    wire = "openai"
    flavor = "ollama"

    def url(self, route: Route) -> str:
        base = self.settings.ollama_endpoint.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if not base.endswith("/v1"):
            base += "/v1"
        return base + "/chat/completions"

    def auth_headers(self) -> dict[str, str]:
        return {}

    def default_model(self) -> str:
        return self.settings.ollama_model or self.settings.model_default or "llama3.1"

    def credential_setting(self) -> str:
        return "OLLAMA_ENDPOINT"

    def url_setting(self) -> str:
        return "OLLAMA_ENDPOINT"
