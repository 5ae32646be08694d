"""Built-in plugin: the gateway's provider families, registered like any plugin's.

Provider modules import aiohttp-free code only, but they are still imported inside
the hook so that ``lynkr --help`` never pays for them.
"""

from __future__ import annotations

from typing import Any

from lynkr_cli import hookimpl


@hookimpl
def register_providers(register: Any) -> None:
    from lynkr_cli.serve.providers.anthropic import AnthropicProvider
    from lynkr_cli.serve.providers.azure_anthropic import AzureAnthropicProvider
    from lynkr_cli.serve.providers.databricks import DatabricksProvider
    from lynkr_cli.serve.providers.openai import OllamaProvider, OpenAIProvider

    for cls in (
        AnthropicProvider,
        AzureAnthropicProvider,
        DatabricksProvider,
        OpenAIProvider,
        OllamaProvider,
    ):
        register(cls.name, cls)
