"""Built-in plugin: the gateway's provider families, registered like any plugin's.

Adding a provider is its module under ``providers/`` and one line below. The modules are
imported inside the hook, so ``lynkr --help`` never pays for them; settings validation
asks for them (each provider declares its own settings).
"""

from __future__ import annotations

import importlib
from typing import Any

from lynkr_cli import hookimpl

BUILTIN_PROVIDERS = (
    "lynkr_cli.serve.providers.anthropic:AnthropicProvider",
    "lynkr_cli.serve.providers.azure_anthropic:AzureAnthropicProvider",
    "lynkr_cli.serve.providers.databricks:DatabricksProvider",
    "lynkr_cli.serve.providers.openai:OpenAIProvider",
    "lynkr_cli.serve.providers.ollama:OllamaProvider",
)


@hookimpl
def register_providers(register: Any) -> None:
    for spec in BUILTIN_PROVIDERS:
        module, _, name = spec.partition(":")
        cls = getattr(importlib.import_module(module), name)
        register(cls.name, cls)
