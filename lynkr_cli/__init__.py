"""lynkr: a self-hosted backend for the Claude Code CLI, and the tools around it."""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("lynkr")

__all__ = ["__version__", "hookimpl"]
