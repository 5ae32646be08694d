"""Path confinement for server-side tools: every path the model names stays in the workspace.

A path is joined to the workspace root and fully resolved (``..`` collapsed, every
symlink followed) *before* it is checked, so neither ``../../etc/passwd`` nor a
symlink pointing outside can escape. Files that typically hold secrets (``.env``,
private keys, credential stores) are refused even inside the workspace, because a
tool result goes to a remote model.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from pathlib import Path

from lynkr_cli.errors import NotFoundError, PolicyError
from lynkr_cli.settings import Settings

# Directories never listed or searched: build output, caches, VCS internals.
IGNORED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", ".tox", ".lynkr", "dist", "build", ".tools"}
)  # fmt: skip

# Names whose content must never reach the model. Matched case-insensitively on the file name.
SECRET_PATTERNS = (
    ".env", ".env.*", "*.env", ".envrc", ".netrc", "_netrc", ".npmrc", ".pypirc",
    ".git-credentials", ".pgpass", "*.pem", "*.key", "*.p12", "*.pfx", "*.keystore",
    "*.jks", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "credentials",
    "credentials.json", "*.tfvars", "secrets.*", ".htpasswd",
)  # fmt: skip
# Templates that conventionally hold no real values.
SECRET_EXCEPTIONS = (".env.example", ".env.sample", ".env.template", ".env.dist")


def workspace_root(settings: Settings) -> Path:
    """The resolved workspace root: ``gateway.workspace_root`` or the working directory."""
    configured = settings.gateway.workspace_root
    root = Path(configured).expanduser() if configured is not None else Path.cwd()
    return root.resolve()


# One compiled alternation: checked for every file a search or listing touches.
_SECRET_RE = re.compile("|".join(fnmatch.translate(p) for p in SECRET_PATTERNS))


def is_secret_file(path: Path) -> bool:
    """True when ``path``'s name marks it as a likely secret store."""
    name = path.name.lower()
    if name in SECRET_EXCEPTIONS:
        return False
    return _SECRET_RE.match(name) is not None


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
    if is_secret_file(path) or is_secret_file(Path(user_path)):
        raise PolicyError(
            f"refusing to read '{user_path}': it looks like a secrets file",
            hint="Secret files (.env, keys, credentials) are never sent to the model.",
        )
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
