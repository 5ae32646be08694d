"""The logic behind ``lynkr switch NAME``: find or create the profile, plan, write, report.

No Typer or Rich here: ``command.py`` passes a ``prompt`` callable when a
terminal is attached and renders what these functions return.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.settings import load_settings
from lynkr_cli.switch import backups, conflicts, mcpwrite, presets, profiles, prompts, targets
from lynkr_cli.switch.profiles import Profile


@dataclass
class Created:
    profile: Profile
    sources: dict[str, str]
    settings_file: Path | None
    notes: list[str] = field(default_factory=list)


def obtain(
    conn: sqlite3.Connection,
    name: str,
    *,
    values: Mapping[str, str],
    changes: Mapping[str, Any],
    prompt: presets.Prompter | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Profile, Created | None]:
    """The stored profile ``name``; on first use of a preset name, create it from the preset."""
    existing = profiles.find(conn, name)
    if existing is not None:
        if changes:
            existing = profiles.update(conn, name, **changes)
        return existing, None
    if name.lower() not in {p.lower() for p in presets.load_presets()}:
        raise NotFoundError(
            f"no profile or preset named '{name}'",
            hint="`lynkr switch` lists profiles, `lynkr switch presets` lists presets, "
            "`lynkr switch add NAME --base-url URL` creates one.",
        )
    created = create_from_preset(
        conn,
        presets.get_preset(name),
        name,
        values=values,
        changes=changes,
        prompt=prompt,
        environ=environ,
    )
    return created.profile, created


def create_from_preset(
    conn: sqlite3.Connection,
    preset: presets.Preset,
    name: str,
    *,
    values: Mapping[str, str],
    changes: Mapping[str, Any],
    prompt: presets.Prompter | None,
    environ: Mapping[str, str] | None = None,
) -> Created:
    loaded = load_settings()
    key = changes.get("key")
    resolution = presets.resolve(
        preset,
        name,
        loaded,
        values=values,
        environ=os.environ if environ is None else environ,
        base_url=str(changes.get("base_url") or ""),
        key=key.get_secret_value() if isinstance(key, SecretStr) else "",
        prompt=prompt,
    )
    if resolution.missing:
        raise presets.missing_error(preset, resolution.missing)
    profile = replace(resolution.profile, **changes)
    profiles.save(conn, profile)
    written = presets.persist_settings(resolution.to_persist)
    return Created(profile, resolution.sources, written, resolution.notes)


@dataclass
class Switched:
    profile: Profile
    scope: str
    path: Path
    plan: targets.FileEdit
    backup: Path | None = None
    written: bool = False
    shadowed_by: list[conflicts.Finding] = field(default_factory=list)
    others: list[targets.FileEdit] = field(default_factory=list)  # MCP configs, CLAUDE.md
    others_written: list[tuple[bool, Path | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def edits(self) -> list[targets.FileEdit]:
        return [self.plan, *self.others]

    def diff(self) -> str:
        return "".join(edit.diff() for edit in self.edits if edit.changed)

    def as_dict(self) -> dict[str, Any]:
        files = []
        for index, edit in enumerate(self.others):
            written, backup = (
                self.others_written[index] if index < len(self.others_written) else (False, None)
            )
            files.append(
                {
                    "path": str(edit.path),
                    "what": edit.label,
                    "changed": edit.changed,
                    "written": written,
                    "set": edit.set_keys,
                    "removed": edit.removed_keys,
                    "backup": str(backup) if backup else None,
                    "retries": edit.retries,
                }
            )
        return {
            "profile": self.profile.name,
            "scope": self.scope,
            "path": str(self.path),
            "changed": self.plan.changed,
            "written": self.written,
            "set": self.plan.set_keys,
            "removed": self.plan.removed_keys,
            "backup": str(self.backup) if self.backup else None,
            "retries": self.plan.retries,
            "shadowed_by": [f.as_dict() for f in self.shadowed_by],
            "files": files,
            "notes": self.notes,
        }


def switch(
    conn: sqlite3.Connection,
    profile: Profile,
    scope: targets.Scope,
    *,
    dry_run: bool = False,
    cwd: Path | None = None,
) -> Switched:
    """Write ``profile`` into the settings file of ``scope`` (or only plan it).

    The profile's enabled MCP servers go into the matching Claude configuration, and
    on a user switch its prompt preset into ``~/.claude/CLAUDE.md``. Every file is
    planned (and refused, if corrupt) before the first one is written.
    """
    here = cwd or Path.cwd()
    path = targets.settings_path(scope, here)
    env = profile.env()
    # Read, write and record under one lock, so two switches at once cannot leave the
    # database naming one profile while the file holds the other.
    with targets.switch_lock():
        label = f"{scope} settings"
        change = targets.env_edit(path, env, targets.managed_keys(conn, path, profile), label)
        change.after_commit = lambda c: profiles.record_activation(
            c, str(path), scope, profile.name, list(env)
        )
        result = Switched(profile, scope, path, change)
        result.others = mcpwrite.scope_edits(conn, profile.name, scope, here)
        result.others += _prompt_edits(conn, profile, scope, result.notes)
        result.notes += [note for edit in result.others for note in edit.notes]
        result.shadowed_by = conflicts.shadowing(scope, {}, here)
        if dry_run:
            return result
        op = backups.new_op()
        result.written, result.backup = targets.commit(conn, change, op)
        result.others_written = [targets.commit(conn, edit, op) for edit in result.others]
    return result


def _prompt_edits(
    conn: sqlite3.Connection, profile: Profile, scope: str, notes: list[str]
) -> list[targets.FileEdit]:
    if not profile.prompt:
        return []
    if scope != "user":
        notes.append(
            f"prompt preset '{profile.prompt}' goes into ~/.claude/CLAUDE.md on a user-scope "
            f"switch (or `lynkr switch prompt use {profile.prompt}`)"
        )
        return []
    preset = prompts.find(conn, profile.prompt)
    if preset is None:
        notes.append(
            f"profile '{profile.name}' names prompt preset '{profile.prompt}', which does not "
            "exist here; CLAUDE.md left as it is (`lynkr switch prompt add`)"
        )
        return []
    return [prompts.edit_use(preset)]


def bypasses(environ: Mapping[str, str], cwd: Path) -> list[str]:
    """What would make Claude Code ignore the profile just written, as sentences."""
    seen = conflicts.effective(environ, cwd)
    out = [
        f"{name} in {seen[name][1]} makes Claude Code ignore ANTHROPIC_BASE_URL"
        for name in conflicts.THIRD_PARTY
        if name in seen and conflicts.truthy(seen[name][0])
    ]
    out += [
        f"apiKeyHelper in {found.where} supplies the key instead of the profile"
        for found in conflicts.api_key_helpers(cwd)
    ]
    return out


@dataclass
class ScopeState:
    scope: str
    path: Path
    profile: str | None
    in_sync: bool
    base_url: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "path": str(self.path),
            "profile": self.profile,
            "in_sync": self.in_sync,
            "base_url": self.base_url,
        }


def current(conn: sqlite3.Connection, cwd: Path | None = None) -> list[ScopeState]:
    """Per scope: which profile lynkr last wrote there, and whether the file still says so."""
    out = []
    for scope in targets.SCOPES:
        path = targets.settings_path(scope, cwd or Path.cwd())
        env = targets.file_env(path)
        found = profiles.activation_for(conn, str(path))
        name = found.profile if found else None
        in_sync = False
        if name is not None:
            stored = profiles.find(conn, name)
            in_sync = stored is not None and all(env.get(k) == v for k, v in stored.env().items())
        out.append(ScopeState(scope, path, name, in_sync, env.get("ANTHROPIC_BASE_URL", "")))
    return out


def run_argv(profile: Profile, command: list[str], private_dir: str) -> list[str]:
    """``command``, with ``--settings FILE`` added when it is Claude Code.

    Claude Code 2.x lets the ``env`` of its settings files override its own
    environment, so for ``claude`` the profile also goes in as flag settings (the
    highest file layer). Managed variables the profile does not set are blanked
    there, so a key in ~/.claude/settings.json cannot leak into this run. The file
    lives in a private temporary directory (0700, file 0600) the caller removes.
    """
    if not command or Path(command[0]).name not in ("claude", "claude.exe", "claude.cmd"):
        return list(command)
    env = {name: "" for name in profiles.MANAGED_VARS} | profile.env()
    path = Path(private_dir) / "settings.json"
    targets.atomic_write(path, json.dumps({"env": env}))
    return [command[0], "--settings", str(path), *command[1:]]


def run_env(profile: Profile, base: Mapping[str, str]) -> dict[str, str]:
    """The environment for ``lynkr switch run``: the profile's, stale managed keys dropped."""
    env = {k: v for k, v in base.items() if k not in profiles.MANAGED_VARS}
    env.update(profile.env())
    return env


@dataclass
class Imported:
    saved: list[Profile] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def import_profiles(
    conn: sqlite3.Connection,
    found: list[Profile],
    *,
    accept_risky: Callable[[Profile, list[tuple[str, str]]], bool],
    replace_existing: bool = False,
) -> Imported:
    """Save imported profiles; risky ones only when ``accept_risky`` says so."""
    out = Imported()
    for profile in found:
        risky = risky_variables(profile)
        if risky and not accept_risky(profile, risky):
            out.skipped.append(
                {"name": profile.name, "reason": "risky variables not accepted (--yes)"}
            )
            continue
        if profiles.find(conn, profile.name) and not replace_existing:
            out.skipped.append(
                {"name": profile.name, "reason": "a profile has this name (--replace)"}
            )
            continue
        profiles.save(conn, profile, replace_existing=replace_existing)
        out.saved.append(profile)
    return out


def risky_variables(profile: Profile) -> list[tuple[str, str]]:
    """(name, why) for everything in a profile that deserves a second look before saving."""
    risky = conflicts.risky(profile.extra_env)
    if conflicts.insecure_base_url(profile.base_url):
        risky.append(
            ("ANTHROPIC_BASE_URL", "is plain http to another host: the key travels in the clear")
        )
    return risky


def parse_pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict; anything else is a usage error."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{what} {item!r} is not NAME=VALUE")
        out[name.strip()] = value
    return out


def check_base_url(url: str) -> str:
    """A base URL typed by the user: Claude Code appends /v1/messages, so /v1 is wrong."""
    value = url.strip()
    stripped = value.rstrip("/")
    for suffix in ("/v1/messages", "/v1"):
        if stripped.endswith(suffix):
            fixed = stripped[: -len(suffix)]
            raise UsageError(
                f"base URL {value!r} ends in {suffix}: Claude Code adds /v1/messages itself, "
                f"so every request would go to …{suffix}/v1/messages",
                hint=f"Use --base-url {fixed}",
            )
    if value and "://" not in value:
        raise UsageError(
            f"base URL {value!r} has no scheme",
            hint=f"Use --base-url https://{value}",
        )
    return value


def field_changes(  # noqa: PLR0917
    base_url: str | None = None,
    key: str | None = None,
    key_field: str | None = None,
    model: str | None = None,
    haiku_model: str | None = None,
    sonnet_model: str | None = None,
    opus_model: str | None = None,
    notes: str | None = None,
    prompt: str | None = None,
) -> dict[str, Any]:
    """The profile fields given as options; ``--key -`` reads the key from stdin."""
    if key == "-":
        key = sys.stdin.readline().strip()
    raw = {
        "base_url": check_base_url(base_url) if base_url is not None else None,
        "key": SecretStr(key) if key else None,
        "key_field": key_field,
        "model": model,
        "haiku_model": haiku_model,
        "sonnet_model": sonnet_model,
        "opus_model": opus_model,
        "notes": notes,
        "prompt": prompt,
    }
    return {k: v for k, v in raw.items() if v is not None}
