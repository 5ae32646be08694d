"""The Python API of ``lynkr switch``: what doctor, shell completion and other packages call.

Profiles and presets (nothing is created: without a database there are no profiles)::

    profile_names() -> list[tuple[name, base_url]]
    preset_names() -> list[tuple[name, description]]
    active_scopes(cwd) -> list[ScopeState]        # which profile each settings file holds

Where Claude Code's ``ANTHROPIC_*`` values come from (each returns :class:`Finding` s
with ``name, value (masked), where``)::

    effective(environ, cwd) -> {name: (value, source)}   # what Claude Code will use
    scan_all(environ, home, cwd), process_env(environ), rc_files(home), dotenv_files(cwd),
    claude_json(home), api_key_helpers(cwd), settings_files(cwd)

Claude Code's settings files: ``SCOPES``, ``settings_path(scope, cwd)``, ``read_text(path)``
and ``parse_settings(text, path)`` (ConfigError for a file Claude Code would skip).
Reaching an endpoint: ``reach(url, timeout)``, ``probe_request(url, ...)`` ->
:class:`ProbeResult`, and ``tls_failure(exc)``. Sharing: :class:`Profile`,
``validate_profile(profile)`` and ``export_link(profile, ...)`` (a ``ccswitch://`` link).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lynkr_cli.switch.activate import ScopeState
    from lynkr_cli.switch.conflicts import (
        THIRD_PARTY,
        Finding,
        api_key_helpers,
        claude_json,
        dotenv_files,
        effective,
        insecure_base_url,
        process_env,
        rc_files,
        scan_all,
        settings_files,
        truthy,
    )
    from lynkr_cli.switch.links import export_link
    from lynkr_cli.switch.probe import ANTHROPIC_VERSION, PROBE_MODEL, ProbeResult, reach
    from lynkr_cli.switch.probe import _tls_failure as tls_failure
    from lynkr_cli.switch.probe import request as probe_request
    from lynkr_cli.switch.profiles import Profile
    from lynkr_cli.switch.profiles import validate as validate_profile
    from lynkr_cli.switch.targets import SCOPES, read_text, settings_path
    from lynkr_cli.switch.targets import parse as parse_settings

# Where each name above lives. Imported on first use: shell completion imports this module
# for profile names, and must not pay for the settings-file parser and the TLS probe.
_LAZY: dict[str, tuple[str, str]] = {
    **{
        name: ("conflicts", name)
        for name in (
            "THIRD_PARTY",
            "Finding",
            "api_key_helpers",
            "claude_json",
            "dotenv_files",
            "effective",
            "export_link",
            "insecure_base_url",
            "process_env",
            "rc_files",
            "scan_all",
            "settings_files",
            "truthy",
        )
    },
    **{name: ("probe", name) for name in ("ANTHROPIC_VERSION", "PROBE_MODEL", "ProbeResult")},
    "reach": ("probe", "reach"),
    "tls_failure": ("probe", "_tls_failure"),
    "probe_request": ("probe", "request"),
    **{name: ("targets", name) for name in ("SCOPES", "read_text", "settings_path")},
    "parse_settings": ("targets", "parse"),
    "Profile": ("profiles", "Profile"),
    "validate_profile": ("profiles", "validate"),
    "export_link": ("links", "export_link"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(f"lynkr_cli.switch.{module}"), attr)


__all__ = [
    "ANTHROPIC_VERSION",
    "PROBE_MODEL",
    "Profile",
    "SCOPES",
    "THIRD_PARTY",
    "Finding",
    "ProbeResult",
    "active_scopes",
    "api_key_helpers",
    "claude_json",
    "dotenv_files",
    "effective",
    "export_link",
    "insecure_base_url",
    "parse_settings",
    "preset_names",
    "probe_request",
    "process_env",
    "profile_names",
    "rc_files",
    "reach",
    "read_text",
    "scan_all",
    "settings_files",
    "settings_path",
    "tls_failure",
    "truthy",
    "validate_profile",
]


def profile_names() -> list[tuple[str, str]]:
    """``(name, base_url)`` of every profile; none (and no database made) before the first."""
    from lynkr_cli import paths
    from lynkr_cli.switch import profiles

    if not paths.app_db_path().is_file():
        return []
    conn = profiles.connect()
    try:
        return [(p.name, p.base_url or "") for p in profiles.list_all(conn)]
    finally:
        conn.close()


def preset_names() -> list[tuple[str, str]]:
    """``(name, description)`` of every preset a profile can be made from."""
    from lynkr_cli.switch import presets

    return [(name, p.description) for name, p in presets.load_presets().items()]


def active_scopes(cwd: Path) -> list[ScopeState]:
    """Per settings scope: the profile lynkr last wrote there, and whether it still holds."""
    from lynkr_cli.switch import activate, profiles

    conn = profiles.connect()
    try:
        return activate.current(conn, cwd)
    finally:
        conn.close()
