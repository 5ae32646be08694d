"""The settings an earlier command validated, reused while what decided them is unchanged.

Building the settings model and validating a run's values costs a command more than
the rest of its start-up together (pydantic builds a validator for every section).
So :func:`lynkr_cli.settings.load_settings` records what it validated in
``settings.json`` in lynkr's cache folder, and a later load whose inputs are the same
takes the values from there, validating nothing. Code that runs before the CLI (the
``lynkr`` script's dispatch, ``entry.py``) reads one section with :func:`section`
without even importing pydantic.

A recorded value is reused only while both of these are what they were:

- **the inputs** (:func:`inputs_text`): the value of every environment variable that
  can make a setting invalid or change it; for free-text settings (keys, tokens, URLs:
  any text is valid) only whether their variables are set; the ``lynkr.toml`` and
  ``.env`` files that may be read (size, mtime, inode and device, or their absence);
  the variables that decide the user configuration folder, ``--config`` and the
  plugins; and the flags the command passed;
- **the code** (:func:`_code`): the interpreter, lynkr's version, ``sys.path`` with the
  mtime of each directory (a distribution installed or removed changes its folder) and
  the files of lynkr's loaded modules and of the settings model's classes (an edit).

What is recorded holds no secret and no free text: such values are read again from
their source on every load (``"free"``), as are tables equal to what a file holds
(``"input"``: ``mcp.servers``, whose entries may carry tokens). A section whose values
cannot all be recorded that way is validated every time. The file is this user's
alone (mode 0600; one that another user owns or may write is ignored). Deleting it is
always safe: the next command validates and records again.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

from lynkr_cli import sources

FILENAME = "settings.json"
FORMAT = 1
KEEP = 16  # entries kept: the most recent combinations of inputs
# Besides the settings' own names: what decides the user configuration folder, the
# ``lynkr.toml`` given by name, and the plugins that load.
CONTEXT_ENV = (
    "LYNKR_CONFIG", "LYNKR_HOME", "LYNKR_LOAD_PLUGINS", "HOME", "XDG_CONFIG_HOME",
    "APPDATA", "LOCALAPPDATA", "USERPROFILE",
)  # fmt: skip

# A field's kind says how its value is found again.
CHECKED = "checked"  # validation may refuse or change a value: the validated value is kept
FREE = "free"  # any text is valid as it stands: read from its source, never kept
SECRET = "secret"  # free text held as a SecretStr (the caller wraps it)
OPAQUE = "opaque"  # a secret that validation may change: its section is never kept


class Field(NamedTuple):
    """What the snapshot needs to know of one setting: its variables and its kind."""

    env: tuple[str, ...]
    kind: str


Fields = Mapping[str, Field]  # by dotted key, ``section.name``


class Unrecordable(Exception):
    """A value the snapshot does not keep (its section is validated every time)."""


class Miss(Exception):
    """A recorded value cannot be restored from today's inputs."""


# --------------------------------------------------------------------------- inputs


def inputs_text(
    fields: Fields,
    environ: Mapping[str, str],
    *,
    cwd: Path,
    explicit: Path | None,
    config_dir: Path | str,
    overrides: Mapping[str, Any] | None = None,
) -> str | None:
    """Everything that decides the settings, as one string (None: flags not recordable)."""
    checked: dict[str, str] = {}
    present: set[str] = set()
    for spec in fields.values():
        for name in spec.env:
            if name in environ:
                if spec.kind == CHECKED:
                    checked[name] = environ[name]
                else:
                    present.add(name)
    try:
        flags = _flags(fields, overrides or {})
    except Unrecordable:
        return None
    files = [*sources.toml_candidates(cwd, explicit, Path(config_dir)), sources.dotenv_file(cwd)]
    doc = {
        "env": checked,
        "present": sorted(present),
        "context": {name: os.environ.get(name) for name in CONTEXT_ENV},
        "config_dir": str(config_dir),
        # By role, not by path: another folder without lynkr.toml or .env gives the same
        # settings, and a file there is another file (device, inode).
        "explicit": explicit is not None,
        "files": [_stat(str(path)) for path in files],
        "flags": flags,
    }
    return json.dumps(doc, sort_keys=True)


def _flags(fields: Fields, overrides: Mapping[str, Any]) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        spec = fields.get(key)
        if spec is None:
            raise Unrecordable(key)
        flags[key] = encode(value) if spec.kind == CHECKED else [spec.kind]
    return flags


def _stat(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev]


# --------------------------------------------------------------------------- values


def encode(value: Any, raw: Any = None, *, from_input: bool = False) -> list[Any]:
    """A validated value as recorded; ``raw`` is its input, when it has one."""
    if isinstance(value, Path):
        return ["path", str(value)]
    if not _plain(value):
        raise Unrecordable(type(value).__name__)
    if isinstance(value, dict) and from_input and value == raw:
        return ["input"]  # a table as a file holds it: read from there again
    return ["value", value]


def _plain(value: Any) -> bool:
    """JSON that reads back as the same Python value."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def decode(item: list[Any], raw: Mapping[str, Any] | None, key: str) -> Any:
    """A recorded value back; ``raw`` holds today's inputs (None: read none, a miss)."""
    tag = item[0]
    if tag == "value":
        return item[1]
    if tag == "path":
        return Path(item[1])
    if raw is None or key not in raw:
        raise Miss(key)
    value = raw[key]
    if tag == "input" and isinstance(value, dict):
        return json.loads(json.dumps(value))  # a copy: the inputs stay as read
    if tag in (FREE, SECRET) and isinstance(value, str):
        return value
    raise Miss(key)


# --------------------------------------------------------------------------- the file


def _path() -> Path:
    from lynkr_cli import paths

    return paths.cache_dir() / FILENAME


def _read() -> dict[str, Any] | None:
    try:
        with open(_path(), encoding="utf-8") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                return None
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data if _code_holds(data.get("code")) else None


def _trusted(info: os.stat_result) -> bool:
    """Only a file of this user that nobody else may write decides the settings."""
    uid = getattr(os, "getuid", None)
    return (uid is None or info.st_uid == uid()) and not info.st_mode & 0o022


def _code(files: Iterable[str]) -> dict[str, Any]:
    import lynkr_cli

    return {
        "python": [sys.executable, sys.version, lynkr_cli.__version__],
        # sys.path[0] is the script's folder or the working directory: not an install.
        "path": [[str(entry), (_stat(str(entry)) or [0, 0])[1]] for entry in sys.path[1:]],
        "files": [[path, _stat(path)] for path in sorted(set(files))],
    }


def _code_holds(code: Any) -> bool:
    """Whether the recorded code fingerprint is today's."""
    if not isinstance(code, dict) or not isinstance(code.get("files"), list):
        return False
    try:
        return code == _code(path for path, _ in code["files"])
    except (TypeError, ValueError):
        return False


def _loaded_files(modules: Iterable[str]) -> list[str]:
    """The files of lynkr's loaded modules and of ``modules`` (the model's own)."""
    names = {name for name in sys.modules if name.split(".")[0] == "lynkr_cli"}
    files = []
    for name in names | set(modules):
        path = getattr(sys.modules.get(name), "__file__", None)
        if path:
            files.append(path)
    return files


def recall(text: str) -> dict[str, dict[str, list[Any]]] | None:
    """The recorded sections of the entry for ``text`` (values still encoded)."""
    data = _read()
    for entry in data["entries"] if data else []:
        if entry.get("inputs") == text:
            sections: dict[str, dict[str, list[Any]]] = entry["sections"]
            return sections
    return None


def remember(
    text: str,
    config_dir: str,
    fields: Fields,
    sections: dict[str, dict[str, list[Any]]],
    modules: Iterable[str],
) -> None:
    """Record ``sections`` (encoded) as validated from the inputs ``text``."""
    data = _read()
    table = {key: [list(spec.env), spec.kind] for key, spec in fields.items()}
    files = _loaded_files(modules)
    entries: list[dict[str, Any]] = []
    if data is not None and data.get("fields") == table:
        entries = [e for e in data["entries"] if e.get("inputs") != text]
        files += [path for path, _ in data["code"]["files"]]
    entry = {"inputs": text, "config_dir": config_dir, "sections": sections}
    entries = [entry, *entries][:KEEP]
    _write({"format": FORMAT, "code": _code(files), "fields": table, "entries": entries})


def _write(doc: dict[str, Any]) -> None:
    """Replace the file at once (readers see the old or the new); failures only cost speed."""
    from lynkr_cli import paths

    try:
        path = _path()
        paths.ensure_dir(path.parent)
        temp = path.with_name(f".{FILENAME}.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
        os.replace(temp, path)
    except OSError:
        pass


# --------------------------------------------------------------------------- before the CLI


def section(name: str) -> Any:
    """Section ``name`` of the settings, validated earlier, without the settings model;
    None when no recorded entry matches today's inputs, or when the section has values
    that are read from their source (load the settings then: ``settings.get_settings``).
    """
    data = _read()
    if data is None:
        return None
    fields = {key: Field(tuple(env), kind) for key, (env, kind) in data["fields"].items()}
    cwd, explicit = Path.cwd(), sources.explicit_config_file()
    texts: dict[str, str | None] = {}
    for entry in data["entries"]:
        where = entry.get("config_dir", "")
        if where not in texts:
            texts[where] = inputs_text(
                fields, os.environ, cwd=cwd, explicit=explicit, config_dir=where
            )
        if texts[where] != entry.get("inputs"):
            continue
        values = entry["sections"].get(name)
        try:
            return None if values is None else SimpleNamespace(**_decoded(values, name))
        except Miss:
            return None
    return None


def _decoded(values: dict[str, list[Any]], section_name: str) -> dict[str, Any]:
    return {key: decode(item, None, f"{section_name}.{key}") for key, item in values.items()}
