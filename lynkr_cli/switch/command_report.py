"""What ``lynkr switch NAME`` says after writing: the files, and why it might not work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lynkr_cli import console

_say = console.say


def switched(result: Any) -> None:
    """Report a switch (an :class:`~lynkr_cli.switch.activate.Switched`) on the terminal."""
    profile = result.profile
    verb = "switched" if result.written else "already on"
    _say(f"{verb} {profile.name} ({profile.base_url or 'no base URL'}) in {result.path}")
    backed_up = bool(result.backup)
    for edit, (written, backup) in zip(result.others, result.others_written, strict=False):
        backed_up = backed_up or bool(backup)
        if written:
            _say(f"  {edit.label}: {_keys(edit)} in {edit.path}")
    if backed_up:
        console.info("backups taken (undo with `lynkr switch restore`)")
    for note in result.notes:
        console.warn(note)
    warn_conflicts(result)


def _keys(edit: Any) -> str:
    parts = []
    if edit.set_keys:
        parts.append("wrote " + ", ".join(edit.set_keys))
    if edit.removed_keys:
        parts.append("removed " + ", ".join(edit.removed_keys))
    return "; ".join(parts) or "updated"


def warn_conflicts(result: Any) -> None:
    """Everything that would make Claude Code ignore what was just written."""
    from lynkr_cli.switch import activate, conflicts

    cwd, home = Path.cwd(), Path.home()
    for finding in result.shadowed_by:
        console.warn(f"{finding.name} in {finding.where} overrides this {result.scope} setting")
    for sentence in activate.bypasses(os.environ, cwd):
        console.warn(sentence)
    for found in conflicts.stale_after_switch(result.profile.env(), home, cwd):
        console.warn(_stale_sentence(found, result.profile))
    for found in conflicts.unread_names(os.environ, home, cwd):
        right = conflicts.UNREAD[found.name]
        console.warn(
            f"{found.name} ({found.where}) is not read by Claude Code, which reads {right}; "
            f"the profile's {right} is in {result.path} now: delete or change that line"
        )


def _stale_sentence(found: Any, profile: Any) -> str:
    from lynkr_cli.switch import conflicts

    if found.name in conflicts.THIRD_PARTY:
        return (
            f"{found.name}={found.value} in {found.where} makes Claude Code ignore "
            "ANTHROPIC_BASE_URL in every shell that reads it: remove that line"
        )
    if found.name in profile.env():
        return (
            f"{found.name}={found.value} in {found.where} differs from profile "
            f"'{profile.name}' (Claude Code takes the settings file's, other tools the "
            "shell's): remove or update that line"
        )
    return (
        f"{found.name}={found.value} in {found.where} still reaches Claude Code (profile "
        f"'{profile.name}' does not set it): remove that line"
    )


def hint_unread_vars() -> None:
    """The Lynkr article's CLAUDE_CODE_ENDPOINT does nothing: offer the command that works."""
    import os

    from lynkr_cli.settings import load_settings
    from lynkr_cli.switch import conflicts

    found = conflicts.unread_names(os.environ, Path.home(), Path.cwd())
    if not found:
        return
    try:
        port = load_settings().settings.server.port
    except Exception:  # invalid settings are `lynkr doctor`'s to report
        port = 8080
    for item in found:
        fix = conflicts.endpoint_fix(item.value, port)
        console.warn(
            f"{item.name}={item.value} ({item.where}) is not read by Claude Code; it reads "
            f"{conflicts.UNREAD[item.name]}. Fix: {fix}"
        )


def warn_settings_override() -> None:
    """Claude Code lets settings files override its environment: say so for --shell."""
    from lynkr_cli.switch import conflicts

    for found in conflicts.settings_files(Path.cwd()):
        console.warn(
            f"{found.name} in {found.where} overrides shell exports inside Claude Code; "
            "`lynkr switch run NAME -- claude` or `lynkr switch NAME` avoids that"
        )
