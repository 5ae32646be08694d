"""lynkr: a self-hosted backend for the Claude Code CLI, and the tools around it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    # pluggy costs ~10 ms to import; only plugin modules need the marker, so it is made
    # on first use and `from lynkr_cli import hookimpl` keeps working.
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("lynkr")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'lynkr_cli' has no attribute {name!r}")
