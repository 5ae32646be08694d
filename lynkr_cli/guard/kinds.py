"""The guard's kinds and modes, by name only (imported by settings: no regex here).

A kind is one detector (``aws_access_key``, ``email``). ``guard.kinds`` lists kinds or
the groups below; ``private_ip`` is in no default group because private addresses in
logs and configs are rarely worth hiding from a model (opt in with ``pii,private_ip``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Mode = Literal["off", "warn", "redact", "block"]
MODES: tuple[Mode, ...] = ("off", "warn", "redact", "block")

SECRET_KINDS = (
    "private_key", "aws_access_key", "aws_secret_key", "gcp_api_key",
    "gcp_service_account_key", "azure_storage_key", "azure_client_secret", "github_token",
    "slack_token", "slack_webhook", "anthropic_api_key", "openai_api_key", "databricks_token",
    "url_password", "secret_assignment",
)  # fmt: skip
PII_KINDS = ("email", "phone", "credit_card", "iban")
OPT_IN_KINDS = ("private_ip",)
ALL_KINDS = (*SECRET_KINDS, *PII_KINDS, *OPT_IN_KINDS)

GROUPS: dict[str, tuple[str, ...]] = {
    "secrets": SECRET_KINDS,
    "pii": PII_KINDS,
    "all": ALL_KINDS,
}
DEFAULT_KINDS: tuple[str, ...] = ("secrets", "pii")


def resolve_kinds(names: Iterable[str]) -> frozenset[str]:
    """The kinds named by ``names`` (kinds or groups). Raises ValueError naming a typo."""
    chosen: set[str] = set()
    for raw in names:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        if name in GROUPS:
            chosen.update(GROUPS[name])
        elif name in ALL_KINDS:
            chosen.add(name)
        else:
            known = ", ".join((*GROUPS, *ALL_KINDS))
            raise ValueError(f"unknown guard kind '{raw}' (known: {known})")
    return frozenset(chosen)
