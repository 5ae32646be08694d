"""The git, index and test-runner tools: thin adapters over ``lynkr git`` and ``lynkr index``."""

from __future__ import annotations

from lynkr_cli.registry import ToolSpec


def dev_tools() -> list[ToolSpec]:
    return []
