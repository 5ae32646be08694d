"""The plugin hooks. Built-in commands use exactly these, like any third-party plugin.

Every hook takes either the Typer root app or a ``register`` callback:

- ``register_commands(app)``: call ``app.add_typer(sub, name=...)`` or ``app.command()``.
- ``register_providers(register)``: ``register(name, provider_class)``; the class is a
  :class:`lynkr_cli.serve.providers.base.Provider` declaring its own settings model
  (``provider.<name>.*``). Settings validation calls this hook on every command: keep
  its imports light.
- ``register_tools(register)``: ``register(tool_spec)`` with a :class:`lynkr_cli.registry.ToolSpec`.
- ``register_doctor_checks(register)``: ``register(check)`` with a
  :class:`lynkr_cli.registry.DoctorCheck`.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("lynkr")


@hookspec
def register_commands(app: Any) -> None:
    """Add commands or command groups to the root Typer app."""


@hookspec
def register_providers(register: Any) -> None:
    """Register upstream provider classes: ``register(name, cls)`` (see docs/plugins.md)."""


@hookspec
def register_tools(register: Any) -> None:
    """Register server-side tools for the gateway: ``register(ToolSpec(...))``."""


@hookspec
def register_doctor_checks(register: Any) -> None:
    """Register ``lynkr doctor`` checks: ``register(DoctorCheck(...))``."""
