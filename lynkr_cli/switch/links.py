"""Share links and cc-switch's data: ``lynkr://v1/import?…`` and ``ccswitch://v1/import?…``.

A lynkr link carries every profile field as a query parameter (``extra`` as a
JSON object), the key only when the sharer asked for it. cc-switch links are
``resource=provider&app=claude&name=…&endpoint=…&apiKey=…`` plus optional
models and a base64 ``config`` whose ``env`` holds extra variables. cc-switch's
database (``~/.cc-switch/cc-switch.db``) keeps Claude providers in the
``providers`` table, ``settings_config`` being a settings.json-shaped document.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import SecretStr

from lynkr_cli import db
from lynkr_cli.errors import NotFoundError, UsageError
from lynkr_cli.switch.mcpstore import McpServer, is_reference
from lynkr_cli.switch.profiles import KEY_FIELDS, MODEL_VARS, Profile

LYNKR_FIELDS = ("name", "base_url", "key", "key_field", *MODEL_VARS, "notes", "preset", "prompt")


def _invalid(message: str) -> UsageError:
    return UsageError(
        f"invalid link: {message}",
        hint="Links look like lynkr://v1/import?name=…&base_url=… or "
        "ccswitch://v1/import?resource=provider&app=claude&name=…&endpoint=…",
    )


def _split(url: str, scheme: str) -> dict[str, str]:
    parts = urlsplit(url.strip())
    if parts.scheme != scheme:
        raise _invalid(f"expected scheme '{scheme}://', got '{parts.scheme or url[:20]}'")
    if parts.netloc != "v1":
        raise _invalid(f"unsupported version '{parts.netloc}' (only v1)")
    if parts.path != "/import":
        raise _invalid(f"expected path /import, got '{parts.path}'")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    return {k: v[-1] for k, v in query.items()}


def _safe_name(value: str) -> str:
    """A valid profile name from any text; its case is kept (lookups ignore case)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", value.strip()).strip("-.")
    return name[:64] or "imported"


def export_link(
    profile: Profile,
    *,
    with_key: bool = False,
    servers: Sequence[McpServer] = (),
    include_secrets: bool = False,
) -> str:
    """The profile as a link; its MCP servers ride along by name (``mcp``), their env
    and header values blanked unless ``include_secrets`` (``${VAR}`` references stay)."""
    with_key = with_key or include_secrets
    params: dict[str, str] = {}
    for name in LYNKR_FIELDS:
        if name == "key":
            if with_key and profile.key_value():
                params["key"] = profile.key_value()
            continue
        value = getattr(profile, name)
        if value:
            params[name] = value
    if profile.extra_env:
        params["extra"] = json.dumps(profile.extra_env, separators=(",", ":"))
    if servers:
        entries = {s.name: _shared_entry(s, include_secrets) for s in servers}
        params["mcp"] = json.dumps(entries, separators=(",", ":"))
    return "lynkr://v1/import?" + urlencode(params)


def _shared_entry(server: McpServer, include_secrets: bool) -> dict[str, Any]:
    entry = server.entry()
    if include_secrets:
        return entry
    for part in ("env", "headers"):
        if part in entry:
            entry[part] = {k: v if is_reference(v) else "" for k, v in entry[part].items()}
    return entry


def link_servers(url: str) -> list[McpServer]:
    """The MCP servers a ``lynkr://`` link carries (none for other links)."""
    from lynkr_cli.switch.mcpimport import from_config

    if urlsplit(url.strip()).scheme != "lynkr":
        return []
    raw = _split(url, "lynkr").get("mcp", "")
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise _invalid("'mcp' is not a JSON object") from None
    if not isinstance(data, dict):
        raise _invalid("'mcp' is not a JSON object")
    try:
        return [from_config(str(name), entry, "link") for name, entry in data.items()]
    except ValueError as exc:
        raise _invalid(f"'mcp': {exc}") from None


def parse_lynkr(url: str) -> Profile:
    params = _split(url, "lynkr")
    unknown = set(params) - {*LYNKR_FIELDS, "extra", "mcp"}
    if unknown:
        raise _invalid(f"unknown parameter(s) {', '.join(sorted(unknown))}")
    if not params.get("name"):
        raise _invalid("missing 'name'")
    key_field = params.get("key_field", "ANTHROPIC_API_KEY")
    if key_field not in KEY_FIELDS:
        raise _invalid(f"key_field must be one of {', '.join(KEY_FIELDS)}")
    extra = _extra(params.get("extra", ""))
    skip = ("name", "key", "key_field", "extra", "mcp")
    fields = {k: v for k, v in params.items() if k not in skip}
    return Profile(
        name=_safe_name(params["name"]),
        key=SecretStr(params["key"]) if params.get("key") else None,
        key_field=key_field,
        extra_env=extra,
        **fields,
    )


def _extra(text: str) -> dict[str, str]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise _invalid("'extra' is not a JSON object") from None
    if not isinstance(data, dict):
        raise _invalid("'extra' is not a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def parse_ccswitch(url: str) -> Profile:
    params = _split(url, "ccswitch")
    if params.get("resource") != "provider":
        raise _invalid(f"only resource=provider can be imported, got '{params.get('resource')}'")
    if params.get("app", "claude") != "claude":
        raise _invalid(f"only app=claude providers can be imported, got '{params['app']}'")
    if not params.get("name"):
        raise _invalid("missing 'name'")
    env = _config_env(params)
    endpoint = params.get("endpoint", "").split(",")[0].strip()
    base_url = endpoint or env.get("ANTHROPIC_BASE_URL", "")
    if not base_url:
        raise _invalid("missing 'endpoint'")
    if params.get("apiKey"):
        env.pop("ANTHROPIC_API_KEY", None)
        env["ANTHROPIC_AUTH_TOKEN"] = params["apiKey"]  # cc-switch writes keys as AUTH_TOKEN
    env["ANTHROPIC_BASE_URL"] = base_url
    for param, var in (
        ("model", "ANTHROPIC_MODEL"),
        ("haikuModel", "ANTHROPIC_DEFAULT_HAIKU_MODEL"),
        ("sonnetModel", "ANTHROPIC_DEFAULT_SONNET_MODEL"),
        ("opusModel", "ANTHROPIC_DEFAULT_OPUS_MODEL"),
    ):
        if params.get(param):
            env[var] = params[param]
    return profile_from_env(_safe_name(params["name"]), env, notes=params.get("notes", ""))


def _config_env(params: dict[str, str]) -> dict[str, str]:
    raw = params.get("config")
    if not raw:
        return {}
    if params.get("configFormat", "json") != "json":
        raise _invalid("only configFormat=json is supported for Claude providers")
    try:
        padded = raw + "=" * (-len(raw) % 4)
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        data = json.loads(decoded)
    except (binascii.Error, ValueError):
        raise _invalid("'config' is not base64-encoded JSON") from None
    env = data.get("env") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def profile_from_env(name: str, env: dict[str, str], *, notes: str = "") -> Profile:
    """A profile from a settings.json ``env`` block: known keys to fields, rest extra."""
    env = dict(env)
    key_field = "ANTHROPIC_AUTH_TOKEN" if env.get("ANTHROPIC_AUTH_TOKEN") else "ANTHROPIC_API_KEY"
    key = env.pop("ANTHROPIC_AUTH_TOKEN", "") or env.pop("ANTHROPIC_API_KEY", "")
    env.pop("ANTHROPIC_API_KEY", None)
    models = {attr: env.pop(var, "") for attr, var in MODEL_VARS.items()}
    small = env.pop("ANTHROPIC_SMALL_FAST_MODEL", "")
    if small and not models["haiku_model"]:
        models["haiku_model"] = small  # the legacy name maps to today's haiku default
    return Profile(
        name=name,
        base_url=env.pop("ANTHROPIC_BASE_URL", ""),
        key=SecretStr(key) if key else None,
        key_field=key_field,  # type: ignore[arg-type]
        extra_env=env,
        notes=notes,
        **models,
    )


def parse_link(url: str) -> Profile:
    """Either kind of link, by its scheme."""
    scheme = urlsplit(url.strip()).scheme
    if scheme == "lynkr":
        return parse_lynkr(url)
    if scheme == "ccswitch":
        return parse_ccswitch(url)
    raise _invalid(f"unknown scheme '{scheme or url[:20]}' (expected lynkr:// or ccswitch://)")


# --------------------------------------------------------------------------- cc-switch DB


def default_ccswitch_db() -> Path:
    return Path.home() / ".cc-switch" / "cc-switch.db"


@dataclass
class CcSwitchProvider:
    profile: Profile
    current: bool
    source_id: str


def read_ccswitch_db(path: Path) -> list[CcSwitchProvider]:
    """Claude providers from a cc-switch database, opened read-only."""
    if not path.is_file():
        raise NotFoundError(
            f"no cc-switch database at {path}",
            hint="Pass --db PATH to point at cc-switch.db.",
        )
    try:
        conn = db.connect(path, readonly=True)
        rows = conn.execute(
            "SELECT * FROM providers WHERE app_type = 'claude' ORDER BY sort_index, name"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"{path} is not a cc-switch database: {exc}",
            hint="cc-switch keeps its providers in ~/.cc-switch/cc-switch.db.",
        ) from None
    out: list[CcSwitchProvider] = []
    seen: set[str] = set()
    for row in rows:
        item = _provider(row)
        # Names like "智谱 GLM" and "GLM" both become "GLM": number the later ones.
        base, number = item.profile.name, 2
        while item.profile.name.lower() in seen:
            item.profile.name = f"{base[:60]}-{number}"
            number += 1
        seen.add(item.profile.name.lower())
        out.append(item)
    conn.close()
    return out


def _provider(row: sqlite3.Row) -> CcSwitchProvider:
    keys = row.keys()
    try:
        config: Any = json.loads(row["settings_config"] or "{}")
    except json.JSONDecodeError:
        config = {}
    env = config.get("env") if isinstance(config, dict) else None
    env_map = {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
    notes = row["notes"] if "notes" in keys and row["notes"] else ""
    profile = profile_from_env(_safe_name(row["name"]), env_map, notes=notes)
    current = bool(row["is_current"]) if "is_current" in keys else False
    return CcSwitchProvider(profile, current, str(row["id"]))
