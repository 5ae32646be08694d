"""What plugins register besides commands: providers, server tools and doctor checks.

These types are the plugin API; a third-party plugin imports them from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from lynkr_cli import console
from lynkr_cli.plugins import get_manager

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


def providers() -> dict[str, type[Any]]:
    """Provider classes by name, built-ins first; a later plugin may override a name."""
    return {name: cls for name, cls in _collect("register_providers")}


def tools() -> dict[str, ToolSpec]:
    """Server-side tools by name."""
    return {spec.name: spec for (spec,) in _collect("register_tools")}


def doctor_checks() -> list[DoctorCheck]:
    """Doctor checks in registration order."""
    return [check for (check,) in _collect("register_doctor_checks")]
