"""Anthropic Messages <-> OpenAI chat completions, in both directions and while streaming.

The gateway calls these for OpenAI-format upstreams (OpenAI, Azure OpenAI, vLLM, Ollama,
Databricks chat mode); docs/translation.md lists every mapping rule.
"""

from __future__ import annotations

from .common import UpstreamStreamError, strip_billing_header
from .events import accumulate, anthropic_message_to_events
from .request import to_openai_request
from .response import from_openai_response
from .stream import StreamTranslator

__all__ = [
    "StreamTranslator",
    "UpstreamStreamError",
    "accumulate",
    "anthropic_message_to_events",
    "from_openai_response",
    "strip_billing_header",
    "to_openai_request",
]
