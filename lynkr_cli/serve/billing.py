"""Claude Code's per-request attribution block, ``x-anthropic-billing-header: …``.

It changes on every request, so it stays out of cache keys, and it means nothing to an
upstream other than Anthropic. The one detector: the cache key, the providers
(``providers.base`` re-exports it for plugins) and the OpenAI translation all use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BILLING_PREFIX = "x-anthropic-billing-header"


def has_billing_block(body: Mapping[str, Any]) -> bool:
    """``body``'s system holds the attribution block."""
    system = body.get("system")
    if isinstance(system, str):
        return system.lstrip().startswith(BILLING_PREFIX)
    return isinstance(system, list) and any(is_billing_block(b) for b in system)


def is_billing_block(block: Any) -> bool:
    """A system block that is the attribution block (leading whitespace allowed)."""
    return (
        isinstance(block, dict)
        and block.get("type", "text") == "text"
        and isinstance(block.get("text"), str)
        and block["text"].lstrip().startswith(BILLING_PREFIX)
    )


def strip_billing(system: Any) -> Any:
    """``system`` without Claude Code's per-request attribution block: the block from a
    list, the first line from a string that starts with it (what follows is kept). Other
    shapes are returned unchanged."""
    if isinstance(system, str):
        if not system.lstrip().startswith(BILLING_PREFIX):
            return system
        _, _, rest = system.lstrip().partition("\n")
        return rest.lstrip("\n")
    if isinstance(system, list):
        return [b for b in system if not is_billing_block(b)]
    return system
