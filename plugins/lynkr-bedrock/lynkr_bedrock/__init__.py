"""lynkr-bedrock: Amazon Bedrock as an upstream provider for ``lynkr serve``.

This module is what the entry point loads on every ``lynkr`` command, so it imports
nothing but the hook marker; the provider (and botocore, much later) load when asked.
"""

from __future__ import annotations

from typing import Any

from lynkr_cli import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_providers(register: Any) -> None:
    from lynkr_bedrock.provider import BedrockProvider

    register(BedrockProvider.name, BedrockProvider)
