"""What plugins register besides commands: providers, server tools and doctor checks.

These types are the plugin API; a third-party plugin imports them from here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from lynkr_cli import console
from lynkr_cli.plugins import PluginManager, build, current, get_manager

ToolPolicy = Literal["read", "write", "exec"]
CheckStatus = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class ToolSpec:
    """A server-side tool the gateway can offer the model."""

    name: str
    description: str
    input_schema: dict[str, Any]
    policy: ToolPolicy
    run: Callable[..., Awaitable[Any]]


@dataclass
class CheckResult:
    """One finding of a doctor check. Every warning and failure carries a fix.

    Build it with :meth:`ok`, :meth:`warn`, :meth:`fail` or :meth:`skip`; keyword
    arguments become ``details`` (shown by ``lynkr doctor --json``).
    """

    name: str
    status: CheckStatus
    summary: str
    fix: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, name: str, summary: str, **details: Any) -> CheckResult:
        return cls(name, "ok", summary, None, details)

    @classmethod
    def warn(cls, name: str, summary: str, fix: str, **details: Any) -> CheckResult:
        return cls(name, "warn", summary, fix, details)

    @classmethod
    def fail(cls, name: str, summary: str, fix: str, **details: Any) -> CheckResult:
        return cls(name, "fail", summary, fix, details)

    @classmethod
    def skip(cls, name: str, summary: str, **details: Any) -> CheckResult:
        """Not run (not configured, or ``--deep`` only): ``summary`` says why."""
        return cls(name, "skip", summary, None, details)


@dataclass(frozen=True)
class DoctorCheck:
    """A named check; ``run(ctx)`` returns one or more results."""

    name: str
    run: Callable[..., Any]
    group: str = "general"
    deep_only: bool = False


def _collect(hook: str) -> list[tuple[Any, ...]]:
    items: list[tuple[Any, ...]] = []
    get_manager().call(hook, warn=console.warn, register=lambda *args: items.append(args))
    return items


# The built-in plugin that registers the built-in providers (see ``providers``).
PROVIDER_PLUGINS = ("lynkr_cli.serve.plugin",)
_providers: tuple[object, dict[str, type[Any]]] | None = None
_provider_managers: dict[tuple[Any, ...], PluginManager] = {}


def providers() -> dict[str, type[Any]]:
    """Provider classes by name, built-ins first; a later plugin may override a name.

    Collected once per plugin manager: settings validation asks on every load. Before
    anything has loaded the plugins (``lynkr index``'s fast path, a library caller) only
    the plugins that can register providers are loaded (the built-in providers' and the
    entry points): the command modules, and Typer with them, are not imported for it."""
    global _providers
    manager = current() or _provider_manager()
    if _providers is None or _providers[0] is not manager:
        found: dict[str, type[Any]] = {}
        manager.call(
            "register_providers",
            warn=console.warn,
            register=lambda name, cls: found.__setitem__(provider_name(name), cls),
        )
        _providers = (manager, found)
    return dict(_providers[1])


def _provider_manager() -> PluginManager:
    key = (os.environ.get("LYNKR_LOAD_PLUGINS"), tuple(sys.path))
    manager = _provider_managers.get(key)
    if manager is None:
        manager = _provider_managers[key] = build(PROVIDER_PLUGINS)
    return manager


def provider_name(value: str) -> str:
    """Provider names take ``_`` and ``-`` alike (``azure_anthropic``), in any case."""
    return value.strip().lower().replace("_", "-")


def tools() -> dict[str, ToolSpec]:
    """Server-side tools by name."""
    return {spec.name: spec for (spec,) in _collect("register_tools")}


def doctor_checks() -> list[DoctorCheck]:
    """Doctor checks in registration order."""
    return [check for (check,) in _collect("register_doctor_checks")]
