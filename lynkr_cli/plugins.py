"""The plugin manager: built-in plugins first, then the entry-point group ``lynkr``.

``LYNKR_LOAD_PLUGINS`` is an allow-list of entry-point names (comma-separated);
set but empty, no third-party plugin loads. A plugin that fails to import, or
raises inside a hook, is reported as a warning naming it; the CLI keeps working.

Importing this module is cheap (pluggy and importlib.metadata load when a manager
is built), so that ``entry.py`` can ask :func:`third_party_would_load` before Typer.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from lynkr_cli import __version__

if TYPE_CHECKING:
    from importlib import metadata

    import pluggy

PROJECT = "lynkr"
ENTRY_POINT_GROUP = "lynkr"

# Modules holding the built-in hook implementations, loaded in this order.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "lynkr_cli.core.command",
    "lynkr_cli.serve.command",
    "lynkr_cli.serve.plugin",
    "lynkr_cli.mcp.command",
    "lynkr_cli.tasks.command",
    "lynkr_cli.serve.tools.builtin",
    "lynkr_cli.git.command",
    "lynkr_cli.switch.command",
    "lynkr_cli.doctor.command",
    "lynkr_cli.doctor.checks",
    "lynkr_cli.switch.checks",
    "lynkr_cli.index.command",
    "lynkr_cli.route.command",
    "lynkr_cli.team.command",
    "lynkr_cli.guard.command",
)


@dataclass
class PluginInfo:
    name: str
    version: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class PluginManager:
    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo]
    warnings: list[str]

    def call(self, hook: str, warn: Callable[[str], None] | None = None, **kwargs: Any) -> None:
        """Call every implementation of ``hook`` in load order, isolating failures."""
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            try:
                impl.function(**kwargs)
            except Exception as exc:
                message = f"plugin '{impl.plugin_name}' failed in {hook}: {exc!r}"
                self.warnings.append(message)
                info = self.infos.get(impl.plugin_name)
                if info is not None and info.error is None:
                    info.error = message
                if warn is not None:
                    warn(message)

    def list(self) -> list[PluginInfo]:
        for name, info in self.infos.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.hooks = sorted(c.name for c in self.pm.get_hookcallers(plugin) or [])
        return list(self.infos.values())


def allow_list() -> set[str] | None:
    value = os.environ.get("LYNKR_LOAD_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _entry_points() -> Iterable[metadata.EntryPoint]:
    if not _may_declare_plugins():
        return ()  # without importlib.metadata, which reads every distribution (~10 ms)
    from importlib import metadata

    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def _may_declare_plugins() -> bool:
    """False only when no distribution on ``sys.path`` can declare a plugin: none of their
    ``entry_points.txt`` has the ``[lynkr]`` section. A few stat and read calls; any
    doubt (a zip on the path, an unreadable folder) is a "maybe", which
    importlib.metadata then settles."""
    section = f"[{ENTRY_POINT_GROUP}]".encode()
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True  # a zip archive: only importlib.metadata reads those
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            return True
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as handle:
                        if section in handle.read():
                            return True
                except (FileNotFoundError, NotADirectoryError):
                    continue
                except OSError:
                    return True
    return False


def third_party_would_load() -> bool:
    """Whether :func:`build` would load an entry-point plugin (declared, and allowed by
    ``LYNKR_LOAD_PLUGINS`` when that is set), without loading anything."""
    allowed = allow_list()
    if allowed == set():
        return False
    return any(allowed is None or point.name in allowed for point in _entry_points())


def build(builtins: Iterable[str] = BUILTIN_PLUGINS) -> PluginManager:
    """A fresh manager with the built-ins and the allowed entry-point plugins loaded."""
    import pluggy

    from lynkr_cli import hookspecs

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    manager = PluginManager(pm, {}, [])
    for module_name in builtins:
        _load(manager, module_name, partial(importlib.import_module, module_name), __version__)
    allowed = allow_list()
    for ep in _entry_points():
        if allowed is not None and ep.name not in allowed:
            continue
        version = ep.dist.version if ep.dist is not None else "unknown"
        _load(manager, ep.name, ep.load, version, builtin=False)
    return manager


def _load(
    manager: PluginManager,
    name: str,
    loader: Callable[[], Any],
    version: str,
    *,
    builtin: bool = True,
) -> None:
    info = PluginInfo(name=name, version=version, builtin=builtin)
    manager.infos[name] = info
    try:
        manager.pm.register(loader(), name=name)
    except Exception as exc:
        info.error = f"plugin '{name}' failed to load: {exc!r}"
        manager.warnings.append(info.error)


_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    """The process-wide manager, built on first use (never at import time)."""
    global _manager
    if _manager is None:
        _manager = build()
    return _manager


def current() -> PluginManager | None:
    """The process-wide manager if something has built it, else None (nothing loads)."""
    return _manager


def reset() -> None:
    """Forget the loaded plugins (tests)."""
    global _manager
    _manager = None
