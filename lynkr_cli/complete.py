"""Shell completion of names: profiles, presets, providers, MCP servers, doctor checks, symbols.

Each function is a Typer ``autocompletion`` callback: it gets the word being typed
(and the click context, by the parameter name ``ctx``) and returns the candidates
that start with it, as ``(value, help)`` pairs. They run inside a completing shell,
so they never raise, never print, never build anything (the index is read only if it
exists), and import their package only when called: ``lynkr --help`` pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

Candidates = list[tuple[str, str]]


def _quiet(fn: Callable[..., Iterable[tuple[str, str]]]) -> Callable[..., Candidates]:
    """Filter by the typed prefix, and turn any failure into no candidates."""

    @wraps(fn)
    def wrapper(ctx: Any = None, incomplete: str = "") -> Candidates:
        try:
            found = fn(ctx, incomplete or "")
            return sorted({v: h for v, h in found if v.startswith(incomplete or "")}.items())
        except Exception:  # a completing shell must never see a traceback
            return []

    return wrapper


@_quiet
def profiles(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """Profile names of ``lynkr switch``."""
    from lynkr_cli.switch.api import profile_names

    return profile_names()  # no database is created by completing


@_quiet
def presets(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """Preset names ``lynkr switch NAME`` can create a profile from."""
    from lynkr_cli.switch.api import preset_names

    return [(name, f"preset: {description}") for name, description in preset_names()]


@_quiet
def profiles_and_presets(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """What ``lynkr switch NAME`` accepts: a profile, or a preset on first use."""
    return [*presets(ctx, incomplete), *profiles(ctx, incomplete)]


@_quiet
def providers(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """Provider families for ``lynkr serve --provider``, plugins' included."""
    from lynkr_cli.registry import providers as registered

    return [(name, "provider") for name in registered()]


@_quiet
def mcp_servers(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """MCP servers found by ``lynkr mcp list`` (nothing is started)."""
    from lynkr_cli.mcp.api import discover
    from lynkr_cli.settings import get_settings

    found = discover(get_settings()).servers.values()
    return [(s.name, s.transport + (" (disabled)" if s.disabled else "")) for s in found]


@_quiet
def doctor_names(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """Doctor groups and check names for ``lynkr doctor --only``."""
    from lynkr_cli.registry import doctor_checks

    checks = doctor_checks()
    groups = {(c.group, "group") for c in checks}
    return [*groups, *((c.name, f"check ({c.group})") for c in checks)]


@_quiet
def symbols(ctx: Any, incomplete: str) -> Iterable[tuple[str, str]]:
    """Symbol names from an existing index of ``--root`` (default: here); none to build."""
    from lynkr_cli.index import api

    if not incomplete:
        return []  # every symbol of a repository is no help
    root = (getattr(ctx, "params", None) or {}).get("root") or "."
    rows = api.search(root, incomplete, limit=200)
    return [(r["name"], f"{r['kind']} {r['path']}:{r['line']}") for r in rows]
