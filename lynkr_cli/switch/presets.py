"""Presets, and turning one into a profile.

A preset comes from a provider (its ``presets``: ``databricks``, ``azure-anthropic``,
``anthropic``, a plugin's) or, for endpoints lynkr does not serve itself, from
``presets.json``; both have the same shape.

A preset names the inputs it needs (a workspace URL, a token). First use resolves
each from ``--set id=value``, then the environment, then lynkr's own settings,
then a prompt when a terminal is attached; anything still missing is named in
one error with the variable that would supply it. Inputs marked ``persist`` are
for the gateway (``lynkr serve``), so they go to the user ``lynkr.toml``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from lynkr_cli import paths
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.settings import CONFIG_FILENAME, LoadedSettings, canonical_key, section_of
from lynkr_cli.switch.profiles import KeyField, Profile

DEFAULT_GATEWAY_KEY = "lynkr-local"  # any value works when the gateway has no api_key


@dataclass(frozen=True)
class Input:
    id: str
    prompt: str
    secret: bool = False
    env: tuple[str, ...] = ()
    setting: str = ""
    persist: bool = False
    url: bool = False


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    base_url: str
    key: str
    key_field: KeyField
    inputs: tuple[Input, ...] = ()
    model: str = ""
    haiku_model: str = ""
    sonnet_model: str = ""
    opus_model: str = ""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    gateway: Mapping[str, str] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "base_url": self.base_url,
            "key_field": self.key_field,
            "model": self.model,
            "inputs": [
                {"id": i.id, "prompt": i.prompt, "env": list(i.env), "setting": i.setting}
                for i in self.inputs
            ],
            "extra_env": dict(self.extra_env),
            "notes": self.notes,
        }


def load_presets() -> dict[str, Preset]:
    """The registered providers' presets, then those of ``presets.json``."""
    from lynkr_cli.registry import providers

    text = resources.files("lynkr_cli.switch").joinpath("presets.json").read_text("utf-8")
    found: dict[str, dict[str, Any]] = {}
    for cls in providers().values():
        found.update(getattr(cls, "presets", None) or {})
    for name, raw in json.loads(text).items():
        found.setdefault(name, raw)
    out: dict[str, Preset] = {}
    for name, raw in found.items():
        raw = dict(raw)
        inputs = tuple(
            Input(**{**item, "env": tuple(item.get("env", ()))}) for item in raw.pop("inputs", [])
        )
        out[name] = Preset(name=name, inputs=inputs, **raw)
    return out


def get_preset(name: str) -> Preset:
    """A preset by name, in any case."""
    presets = load_presets()
    name = next((key for key in presets if key.lower() == name.lower()), name)
    if name not in presets:
        raise NotFoundError(
            f"no preset named '{name}'",
            hint=f"Presets: {', '.join(presets)}. `lynkr switch presets` describes them.",
        )
    return presets[name]


def normalize_url(value: str) -> str:
    """Strip what Claude Code appends itself: a trailing /v1/messages, /v1 or slash."""
    url = value.strip().rstrip("/")
    for suffix in ("/v1/messages", "/v1"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def checked_url(item: Input, value: str) -> tuple[str, str]:
    """A URL input made usable, and a note when it was changed in a way worth saying.

    The Databricks UI shows workspaces as a bare host (``adb-1.azuredatabricks.net``);
    that gets ``https://`` (said on stderr), since a URL without a scheme would make
    every later request fail. Anything else that is not http(s) is refused (exit 2).
    """
    raw = value.strip()
    note = ""
    if raw and "://" not in raw:
        raw = "https://" + raw
        note = f"{item.id}: added https:// to '{value.strip()}' (URLs need a scheme)"
    url = normalize_url(raw)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", url):
        raise UsageError(
            f"{item.id} {value.strip()!r} is not an http(s) URL",
            hint=f"Give it as https://host[/path], e.g. --set {item.id}=https://adb-1.example.net",
        )
    return url, note


@dataclass
class Resolution:
    profile: Profile
    sources: dict[str, str]
    to_persist: dict[str, str]
    missing: list[Input]
    notes: list[str] = field(default_factory=list)


Prompter = Callable[[Input], str]


def _setting_value(loaded: LoadedSettings, dotted: str) -> str:
    section, _, name = canonical_key(dotted).rpartition(".")
    value = getattr(section_of(loaded.settings, section), name, "")
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return str(value or "")


def _lookup(
    item: Input, values: Mapping[str, str], environ: Mapping[str, str], loaded: LoadedSettings
) -> tuple[str, str]:
    if values.get(item.id):
        return values[item.id], f"--set {item.id}"
    # lynkr's own settings first: what `lynkr serve` will read needs no copy on disk.
    if item.setting and _setting_value(loaded, item.setting):
        source = loaded.sources.get(canonical_key(item.setting), "default")
        return _setting_value(loaded, item.setting), f"setting {item.setting} ({source})"
    for name in item.env:
        if environ.get(name):
            return environ[name], f"env {name}"
    return "", ""


def _needed(preset: Preset, *, has_base_url: bool, has_key: bool) -> list[Input]:
    used = set()
    if not has_base_url:
        used |= set(re.findall(r"\{(\w+)\}", preset.base_url))
    if not has_key:
        used |= set(re.findall(r"\{(\w+)\}", preset.key))
    return [i for i in preset.inputs if i.id in used or i.persist]


def resolve(
    preset: Preset,
    name: str,
    loaded: LoadedSettings,
    *,
    values: Mapping[str, str],
    environ: Mapping[str, str],
    base_url: str = "",
    key: str = "",
    prompt: Prompter | None = None,
) -> Resolution:
    """Build the profile ``name`` from ``preset``; report inputs nobody supplied."""
    unknown = set(values) - {i.id for i in preset.inputs}
    if unknown:
        ids = ", ".join(i.id for i in preset.inputs) or "none"
        raise UsageError(
            f"preset '{preset.name}' has no input {', '.join(sorted(unknown))}",
            hint=f"Its inputs: {ids}.",
        )
    found: dict[str, str] = {}
    sources: dict[str, str] = {}
    to_persist: dict[str, str] = {}
    missing: list[Input] = []
    notes: list[str] = []
    for item in _needed(preset, has_base_url=bool(base_url), has_key=bool(key)):
        value, source = _lookup(item, values, environ, loaded)
        if not value and prompt is not None:
            value, source = prompt(item).strip(), "prompt"
        if not value:
            missing.append(item)
            continue
        if item.url:
            value, note = checked_url(item, value)
            if note and source.startswith(("setting", "env")):
                note += f"; `lynkr serve` still reads the original from {source}: fix it there"
            if note:
                notes.append(note)
        found[item.id] = value
        sources[item.id] = source
        if item.persist and item.setting and not source.startswith("setting"):
            to_persist[item.setting] = found[item.id]
    found |= _builtins(loaded)
    profile = Profile(
        name=name,
        base_url=base_url or _fill(preset.base_url, found),
        key=SecretStr(key or _fill(preset.key, found)) if (key or preset.key) else None,
        key_field=preset.key_field,
        model=preset.model,
        haiku_model=preset.haiku_model,
        sonnet_model=preset.sonnet_model,
        opus_model=preset.opus_model,
        extra_env=dict(preset.extra_env),
        notes=preset.notes,
        preset=preset.name,
    )
    for dotted, value in preset.gateway.items():
        if loaded.sources.get(canonical_key(dotted), "default") == "default":
            to_persist.setdefault(dotted, value)
    return Resolution(profile, sources, to_persist, missing, notes)


def _builtins(loaded: LoadedSettings) -> dict[str, str]:
    server = loaded.settings.server
    gateway_key = server.api_key.get_secret_value() if server.api_key else DEFAULT_GATEWAY_KEY
    return {"port": str(server.port), "gateway_key": gateway_key}


def _fill(template: str, values: Mapping[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ""), template)


def missing_error(preset: Preset, missing: list[Input]) -> UsageError:
    lines = []
    for item in missing:
        where = [f"--set {item.id}=..."] + [f"${name}" for name in item.env]
        if item.setting:
            where.append(f"setting {item.setting}")
        lines.append(f"{item.prompt}: pass {' or '.join(where)}")
    return UsageError(
        f"preset '{preset.name}' needs values nobody supplied:\n  " + "\n  ".join(lines),
        hint="Run it in a terminal to be asked, or supply them as shown.",
    )


def _write(doc: Any, dotted: str, value: str) -> None:
    """Set ``dotted`` in its canonical place (``[provider.databricks] api_base``), dropping
    an older spelling of the same setting (``[provider] databricks_api_base``)."""
    import tomlkit

    canonical = canonical_key(dotted)
    section, _, rest = canonical.partition(".")
    table = doc.get(section)
    if table is None:
        table = tomlkit.table()
        doc[section] = table
    for key in [k for k in table if k != rest and canonical_key(f"{section}.{k}") == canonical]:
        del table[key]
    head, dot, name = rest.partition(".")
    if dot:  # a provider's own setting
        sub = table.get(head)
        if sub is None:
            sub = tomlkit.table()
            table[head] = sub
        sub[name] = value
    else:
        table[rest] = value


def persist_settings(values: Mapping[str, str]) -> Path | None:
    """Write gateway settings into the user ``lynkr.toml`` (0600, atomic, backed up)."""
    if not values:
        return None
    import tomlkit

    from lynkr_cli.switch import backups, targets

    path = paths.config_dir() / CONFIG_FILENAME
    text = targets.read_text(path)
    doc = tomlkit.parse(text or "")
    for dotted, value in values.items():
        _write(doc, dotted, value)
    if text is not None:
        backup = paths.ensure_dir(backups.backup_dir()) / f"{CONFIG_FILENAME}.bak"
        targets.atomic_write(backup, text)
    targets.atomic_write(path, tomlkit.dumps(doc))
    return path
