"""``ollama``: a local Ollama through its OpenAI-compatible ``/v1/chat/completions``."""

from __future__ import annotations

from pydantic import Field

from lynkr_cli.serve.providers.base import Provider, ProviderConfig, Quirks, Route, env


class OllamaConfig(ProviderConfig):
    """``provider.ollama.*``; the flat names (``provider.ollama_endpoint``) still work."""

    flat_names = True
    endpoint: str = Field(
        "http://127.0.0.1:11434", json_schema_extra=env("LYNKR_OLLAMA_ENDPOINT", "OLLAMA_ENDPOINT")
    )
    model: str = Field("", json_schema_extra=env("LYNKR_OLLAMA_MODEL", "OLLAMA_MODEL"))


class OllamaProvider(Provider):
    """No key; OpenAI's format, without image URLs, PDFs, ``user`` or reasoning effort."""

    name = "ollama"
    wire = "openai"
    settings_model = OllamaConfig
    config: OllamaConfig
    quirks = Quirks(
        label="ollama",
        image_urls=False,
        file_parts=False,
        max_stop_sequences=None,
        user_field=False,
        reasoning_models=False,
        thinking="none",
    )

    def url(self, route: Route) -> str:
        base = self.config.endpoint.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if not base.endswith("/v1"):
            base += "/v1"
        return base + "/chat/completions"

    def default_model(self) -> str:
        return self.config.model or self.settings.model_default or "llama3.1"

    def credential_setting(self) -> str:
        return "OLLAMA_ENDPOINT"

    def url_setting(self) -> str:
        return "OLLAMA_ENDPOINT"
