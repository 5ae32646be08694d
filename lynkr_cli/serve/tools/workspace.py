"""Path confinement for server-side tools: every path the model names stays in the workspace.

A path is joined to the workspace root and fully resolved (``..`` collapsed, every
symlink followed) *before* it is checked, so neither ``../../etc/passwd`` nor a
symlink pointing outside can escape. Files that typically hold secrets (``.env``,
private keys, credential stores: :mod:`lynkr_cli.git.secrets` has the one list) are
refused even inside the workspace, because a tool result goes to a remote model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from lynkr_cli.errors import NotFoundError, PolicyError
from lynkr_cli.git.secrets import is_secret_path
from lynkr_cli.settings import Settings

# Directories never listed or searched: build output, caches, VCS internals.
IGNORED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", ".tox", ".lynkr", "dist", "build", ".tools"}
)  # fmt: skip


def workspace_root(settings: Settings) -> Path:
    """The resolved workspace root: ``gateway.workspace_root`` or the working directory."""
    configured = settings.gateway.workspace_root
    root = Path(configured).expanduser() if configured is not None else Path.cwd()
    return root.resolve()


def is_secret_file(path: Path, root: Path | None = None) -> bool:
    """True when ``path`` (judged relative to ``root`` when under it) is a secret store.

    The rules are :func:`lynkr_cli.git.secrets.is_secret_path`'s, shared by every tool.
    """
    text, prefix = str(path), f"{root}{os.sep}"
    # String slicing, not Path.relative_to: this runs for every file a search walks.
    return is_secret_path(text[len(prefix) :] if root and text.startswith(prefix) else text)


def refuse_secret(root: Path, path: Path, user_path: str, verb: str = "read") -> None:
    """PolicyError when the resolved ``path`` or the name the model gave is a secret file."""
    if is_secret_file(path, root) or is_secret_path(user_path):
        raise PolicyError(
            f"refusing to {verb} '{user_path}': it looks like a secrets file",
            hint="Secret files (.env, keys, credentials) are never sent to the model.",
        )


def confine(root: Path, user_path: str) -> Path:
    """Resolve ``user_path`` inside ``root``; raise PolicyError if it would leave it."""
    if "\x00" in user_path:
        raise PolicyError("path contains a NUL byte")
    candidate = Path(user_path).expanduser() if user_path.startswith("~") else Path(user_path)
    joined = candidate if candidate.is_absolute() else root / candidate
    # strict=False: a missing file still resolves, so the check happens before any I/O.
    resolved = joined.resolve(strict=False)
    if resolved != root and not resolved.is_relative_to(root):
        raise PolicyError(
            f"path '{user_path}' is outside the workspace {root}",
            hint="Tools only see files under gateway.workspace_root (LYNKR_WORKSPACE).",
        )
    return resolved


def readable_file(root: Path, user_path: str) -> Path:
    """A confined, existing, non-secret regular file."""
    path = confine(root, user_path)
    refuse_secret(root, path, user_path)
    _refuse_git_internals(root, path, user_path)
    if not path.exists():
        raise NotFoundError(f"no such file: {relative(root, path)}")
    if not path.is_file():
        raise NotFoundError(f"not a regular file: {relative(root, path)}")
    return path


def _refuse_git_internals(root: Path, path: Path, user_path: str) -> None:
    if ".git" in path.relative_to(root).parts:
        # .git/config can hold credentials in remote URLs; git data goes through lynkr_git_*.
        raise PolicyError(
            f"refusing to read '{user_path}': git internals are not readable",
            hint="Use the lynkr_git_* tools for history and diffs.",
        )


def walk_start(root: Path, user_path: str) -> Path:
    """A confined starting point for listing or searching (never inside ``.git``)."""
    path = confine(root, user_path)
    _refuse_git_internals(root, path, user_path)
    if path.is_file() or is_secret_path(user_path):
        refuse_secret(root, path, user_path, "search")
    return path


def relative(root: Path, path: Path) -> str:
    """``path`` shown relative to the root, with forward slashes."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return str(path)
    return rel.as_posix() or "."


def walk_files(root: Path, start: Path) -> Iterator[Path]:
    """Every regular file under ``start`` in a stable order, skipping ignored dirs.

    Symlinks are not followed into directories (a link to ``/`` must not make the walk
    leave the workspace); symlinked files are yielded only if they resolve inside it.
    """
    if start.is_file():
        yield start
        return
    yield from _walk(root, start)


def _walk(root: Path, directory: Path) -> Iterator[Path]:
    # Entries in name order, directories descended in place: the order `rg --sort path` uses.
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in IGNORED_DIRS:
                yield from _walk(root, Path(entry.path))
        elif entry.is_symlink():
            target = Path(entry.path).resolve()
            if target.is_file() and target.is_relative_to(root):
                yield Path(entry.path)
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def is_binary(sample: bytes) -> bool:
    """Heuristic used by git too: a NUL byte in the first block means binary."""
    return b"\x00" in sample[:8192]


SECRET_FILE_BYTES = 65_536
MAX_SECRET_FILES = 64


def known_secret_values(settings: Settings, root: Path) -> list[str]:
    """Values masked wherever they appear in a tool result, even out of context.

    The configured secrets (``SecretStr`` settings), the gateway's environment variables
    whose names say secret (``*_API_KEY``, ``*_TOKEN``…), and the secret-looking values
    assigned in the secret files at the workspace root and one directory down (``.env``,
    ``.env.local``, ``config/secrets.yml``, ``.aws/credentials``…): a test that prints a
    setting it loaded from one must not hand it to the model.
    """
    from lynkr_cli.git.secrets import env_file_values, worth_knowing
    from lynkr_cli.settings import secret_values

    values = [v for k, v in os.environ.items() if worth_knowing(k, v)]
    values += [v for v in secret_values(settings) if worth_knowing("api_key", v)]
    for path in _secret_files_near(root):
        try:
            with path.open("rb") as handle:
                data = handle.read(SECRET_FILE_BYTES)
        except OSError:
            continue
        if not is_binary(data):
            values += env_file_values(data.decode("utf-8", "replace"))
    return values


def _secret_files_near(root: Path) -> list[Path]:
    """Secret files at ``root`` and one directory down (never through a symlink)."""
    found: list[Path] = []
    for directory in (root, *_subdirs(root)):
        try:
            with os.scandir(directory) as it:
                names = sorted(e.name for e in it if e.is_file(follow_symlinks=False))
        except OSError:
            continue
        found += [directory / n for n in names if is_secret_file(directory / n, root)]
    return found[:MAX_SECRET_FILES]


def _subdirs(root: Path) -> list[Path]:
    try:
        with os.scandir(root) as it:
            dirs = [e for e in it if e.is_dir(follow_symlinks=False)]
        return sorted(Path(e.path) for e in dirs if e.name not in IGNORED_DIRS)
    except OSError:
        return []
