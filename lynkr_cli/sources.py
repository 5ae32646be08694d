"""Where the settings come from: the ``lynkr.toml`` files, ``.env``, and ``--config``.

Free of pydantic and of the settings model, so that the settings snapshot
(``snapshot.py``) can check these inputs before deciding whether the model is needed
at all; ``settings.py`` reads the same files through the same functions.

Precedence, lowest first: ``lynkr.toml`` in the user configuration folder, then
``lynkr.toml`` in the working directory (or only the file given by ``--config`` or
``LYNKR_CONFIG``), then ``.env`` in the working directory; the environment and the
command's flags come above them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli.errors import ConfigError

CONFIG_FILENAME = "lynkr.toml"
DOTENV_FILENAME = ".env"

_explicit_config: Path | None = None


def set_config_file(path: Path | None) -> None:
    """Use exactly this ``lynkr.toml`` instead of searching (the global ``--config``)."""
    global _explicit_config
    if path is not None and not path.is_file():
        raise ConfigError(f"config file {path} does not exist", hint="Check the --config path.")
    _explicit_config = path


def explicit_config_file() -> Path | None:
    """The ``lynkr.toml`` named by ``--config``, else by ``LYNKR_CONFIG``, else None."""
    if _explicit_config is not None:
        return _explicit_config
    value = os.environ.get("LYNKR_CONFIG", "").strip()
    return Path(value).expanduser() if value else None


def toml_candidates(cwd: Path, explicit: Path | None, config_dir: Path) -> list[Path]:
    """The ``lynkr.toml`` files that are read when they exist, lowest priority first."""
    if explicit is not None:
        return [explicit]
    return [config_dir / CONFIG_FILENAME, cwd / CONFIG_FILENAME]


def config_files(cwd: Path | None = None, explicit: Path | None = None) -> list[Path]:
    """The ``lynkr.toml`` files in use, lowest priority first."""
    if explicit is not None:
        return [explicit]
    from lynkr_cli import paths

    seen: list[Path] = []
    for path in toml_candidates(cwd or Path.cwd(), None, paths.config_dir()):
        if path.is_file() and path.resolve() not in [p.resolve() for p in seen]:
            seen.append(path)
    return seen


def dotenv_file(cwd: Path) -> Path:
    """The ``.env`` file read when it exists: the working directory's."""
    return cwd / DOTENV_FILENAME


# --------------------------------------------------------------------------- layers


@dataclass
class Layer:
    """One source of settings: values by dotted key, and a label per key."""

    label: str
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)


def env_layer(environ: Mapping[str, str], label: str, names: Mapping[str, Sequence[str]]) -> Layer:
    """The settings ``environ`` sets; ``names``: each dotted key's variables, first wins."""
    layer = Layer(label)
    for key, env_names in names.items():
        for env_name in env_names:
            if env_name in environ:
                layer.values[key] = environ[env_name]
                layer.origins[key] = f"{label} {env_name}"
                break
    return layer


def _flatten(prefix: str, data: Mapping[str, Any], out: dict[str, Any]) -> None:
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        # Sections are one level deep; below that a table is a value (mcp.servers, model_map).
        if not prefix and isinstance(value, Mapping):
            _flatten(dotted, value, out)
        else:
            out[dotted] = value


def toml_layer(path: Path) -> Layer:
    """The settings of a ``lynkr.toml``, by dotted key."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", hint="Fix the file, or move it aside."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    layer = Layer(str(path))
    _flatten("", data, layer.values)
    for key in layer.values:
        layer.origins[key] = f"file {path}"
    return layer


def dotenv_layer(path: Path, names: Mapping[str, Sequence[str]]) -> Layer:
    """The settings a ``.env`` file sets, under the same names as the environment's."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return env_layer(values, f"file {path}:", names)
