"""Anthropic Messages <-> OpenAI chat completions, in both directions and while streaming.

Outbound, for OpenAI-format upstreams (OpenAI, Azure OpenAI, vLLM, Ollama, Databricks chat
mode): ``to_openai_request``, ``from_openai_response``, ``StreamTranslator``. Inbound, for
OpenAI-format clients on ``POST /v1/chat/completions``: ``from_chat_request``,
``to_chat_completion``, ``ChatStreamWriter`` and the error, rate-limit and models-list
shapes in ``openai_api``. Both directions read the same mapping tables (``maps``);
docs/translation.md and docs/openai-clients.md list every rule.
"""

from __future__ import annotations

from lynkr_cli.serve.billing import strip_billing

from .chat_request import ChatRequest, from_chat_request
from .chat_response import to_chat_completion
from .chat_stream import DONE, KEEPALIVE, ChatStreamWriter
from .common import ChatRequestError, UpstreamStreamError
from .events import accumulate, anthropic_message_to_events
from .openai_api import (
    error_frame,
    openai_error,
    openai_error_event,
    openai_models,
    openai_ratelimit_headers,
    wants_openai_shape,
)
from .request import to_openai_request
from .response import from_openai_response
from .stream import StreamTranslator

__all__ = [
    "DONE",
    "KEEPALIVE",
    "ChatRequest",
    "ChatRequestError",
    "ChatStreamWriter",
    "StreamTranslator",
    "UpstreamStreamError",
    "accumulate",
    "anthropic_message_to_events",
    "error_frame",
    "from_chat_request",
    "from_openai_response",
    "openai_error",
    "openai_error_event",
    "openai_models",
    "openai_ratelimit_headers",
    "strip_billing",
    "to_chat_completion",
    "to_openai_request",
    "wants_openai_shape",
]
