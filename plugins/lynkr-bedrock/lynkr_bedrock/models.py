"""Claude model names, as clients send them, to Bedrock model ids and inference profiles.

``provider.model_map`` decides first (``"claude-sonnet-*" = "bedrock:us.anthropic.…"``);
what reaches the provider and is not already a Bedrock id (``anthropic.…``,
``us.anthropic.…``, an ARN) is looked up here: the known Claude models by name (dated,
or the undated aliases Claude Code and the SDKs use; a newer ``claude-…`` name as
``anthropic.<name>-v1:0``, the catalogue's pattern), then prefixed with the
cross-region inference profile (``us.``, ``eu.``, ``apac.``, ``global.``) that
``provider.bedrock.inference_profile`` names or, on ``auto``, the region implies.
"""

from __future__ import annotations

import re

# Bedrock's ids for Anthropic's models (its model catalogue), by Anthropic's dated name.
KNOWN = {
    "claude-opus-4-5-20251101": "anthropic.claude-opus-4-5-20251101-v1:0",
    "claude-haiku-4-5-20251001": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "claude-sonnet-4-5-20250929": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "claude-opus-4-1-20250805": "anthropic.claude-opus-4-1-20250805-v1:0",
    "claude-opus-4-20250514": "anthropic.claude-opus-4-20250514-v1:0",
    "claude-sonnet-4-20250514": "anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-3-7-sonnet-20250219": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "claude-3-5-haiku-20241022": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "claude-3-5-sonnet-20241022": "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "claude-3-5-sonnet-20240620": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "claude-3-haiku-20240307": "anthropic.claude-3-haiku-20240307-v1:0",
}
# Anthropic's undated aliases, as the dated model they name.
ALIASES = {
    "claude-opus-4-5": "claude-opus-4-5-20251101",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-opus-4-1": "claude-opus-4-1-20250805",
    "claude-opus-4-0": "claude-opus-4-20250514",
    "claude-sonnet-4-0": "claude-sonnet-4-20250514",
    "claude-3-7-sonnet-latest": "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-latest": "claude-3-5-haiku-20241022",
    "claude-3-5-sonnet-latest": "claude-3-5-sonnet-20241022",
}
# Bedrock's own ids: a model (``anthropic.…``), a profile (``us.anthropic.…``), an ARN.
_BEDROCK_ID = re.compile(r"^(arn:|([a-z]{2,6}\.)?[a-z0-9-]+\.[a-z0-9])")
_CLAUDE = re.compile(r"^claude-[a-z0-9-]+$")
# The cross-region profile a region's requests go through, by the region's prefix.
PROFILES = {"us": "us", "eu": "eu", "ap": "apac", "ca": "us", "sa": "us", "us-gov": "us-gov"}


def bedrock_model_id(model: str, profile: str, region: str) -> str:
    """The Bedrock id for ``model``; a ValueError naming the fix when it has none."""
    name = model.strip()
    if _BEDROCK_ID.match(name):
        return name
    name = re.sub(r"\[[^\]]*\]$", "", name)  # Claude Code's context marker: "…[1m]"
    name = ALIASES.get(name, name)
    base = KNOWN.get(name)
    if base is None and _CLAUDE.match(name):
        # A model newer than this table: the catalogue's pattern. When Bedrock names it
        # otherwise, its 404 says so and provider.model_map fixes it.
        base = f"anthropic.{name}-v1:0"
    if base is None:
        raise ValueError(
            f"model {model!r} has no Bedrock id: map it in provider.model_map "
            f'("{model}" = "bedrock:us.anthropic.claude-…-v1:0"), or set LYNKR_MODEL'
        )
    prefix = inference_profile(profile, region)
    return f"{prefix}.{base}" if prefix else base


def inference_profile(setting: str, region: str) -> str:
    """The cross-region profile prefix: the setting, or on ``auto`` the region's."""
    value = setting.strip().lower()
    if value == "none":
        return ""
    if value != "auto":
        return value
    for head in sorted(PROFILES, key=len, reverse=True):
        if region.startswith(head + "-"):
            return PROFILES[head]
    return ""
