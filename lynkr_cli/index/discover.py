"""Which files belong to the repository, and which of them to leave out (and why).

Inside git the answer is ``git ls-files -co --exclude-standard`` (tracked, plus
untracked files that are not ignored). Elsewhere we walk the tree without
following directory symlinks and honour every ``.gitignore`` on the way down.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VENDORED_DIRS = frozenset(
    {"node_modules", "vendor", "third_party", "third-party", "bower_components", "Pods",
     ".venv", "site-packages"}
)  # fmt: skip
GENERATED_DIRS = frozenset(
    {"dist", "build", "target", "out", ".next", ".nuxt", "coverage", "__pycache__",
     "htmlcov", ".gradle", "bin", "obj"}
)  # fmt: skip
# Tool state that is never part of the project, inside git or not.
ALWAYS_PRUNED = frozenset(
    {".git", ".hg", ".svn", ".lynkr", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
     ".ruff_cache", ".idea", ".vscode"}
)  # fmt: skip
LOCKFILES = frozenset(
    {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "Cargo.lock", "poetry.lock",
     "uv.lock", "composer.lock", "Gemfile.lock", "go.sum", "Pipfile.lock", "bun.lockb"}
)  # fmt: skip
GENERATED_SUFFIXES = (
    "_pb2.py", "_pb2_grpc.py", "_pb2.pyi", ".pb.go", ".pb.cc", ".pb.h", ".g.dart",
    ".designer.cs", ".Designer.cs", ".d.ts.map", ".js.map",
)  # fmt: skip
MINIFIED_SUFFIXES = (".min.js", ".min.css", "-min.js", ".min.mjs", ".bundle.js")
BINARY_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".pdf", ".zip", ".gz", ".tgz",
     ".bz2", ".xz", ".7z", ".tar", ".jar", ".war", ".class", ".so", ".dylib", ".dll", ".exe",
     ".o", ".a", ".lib", ".pyc", ".pyo", ".whl", ".woff", ".woff2", ".ttf", ".otf", ".eot",
     ".mp3", ".mp4", ".wav", ".ogg", ".mov", ".avi", ".wasm", ".bin", ".db", ".sqlite",
     ".npy", ".pkl", ".parquet"}
)  # fmt: skip


@dataclass
class Discovery:
    """The candidate files (relative, ``/``-separated) and what was left out by name."""

    files: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason
    problems: dict[str, str] = field(default_factory=dict)  # path -> what went wrong
    git: bool = False


def name_skip(path: str) -> str:
    """Why a path should be left out judging by its name alone, or ""."""
    parts = path.split("/")
    for part in parts[:-1]:
        if part in VENDORED_DIRS:
            return "vendored"
        if part in GENERATED_DIRS:
            return "generated"
    name = parts[-1]
    if name in LOCKFILES or name.endswith(GENERATED_SUFFIXES):
        return "generated"
    if name.endswith(MINIFIED_SUFFIXES):
        return "minified"
    dot = name.rfind(".")
    if dot > 0 and name[dot:].lower() in BINARY_EXTENSIONS:
        return "binary"
    return ""


def discover(root: Path) -> Discovery:
    """Every file of the repository at ``root``, with name-based skips applied.

    A directory that cannot be read (mode 000, another owner) is a problem, whether git
    or the walk meets it: its files are neither indexed nor silently forgotten.
    """
    found = Discovery()
    listed = _git_files(root, found)
    found.git = listed is not None
    paths = listed if listed is not None else _walk(root, found)
    for path in paths:
        # CLAUDE.md is our own output: indexing it would make every run stale the next.
        if path.split("/", 1)[0] in ALWAYS_PRUNED or path == "CLAUDE.md":
            continue
        if not _utf8(path):
            shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            found.problems[shown] = "file name is not valid UTF-8"
            continue
        reason = name_skip(path)
        if reason:
            found.skipped[path] = reason
        else:
            found.files.append(path)
    return found


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# git ls-files goes on past a directory it cannot read, with this warning on stderr.
_GIT_UNREADABLE = re.compile(r"^warning: could not open directory '(.*)': (.*)$", re.MULTILINE)


def _git_files(root: Path, found: Discovery) -> list[str] | None:
    """What git lists under ``root``, or None outside a work tree (or without git);
    directories git could not open go to ``found.problems``."""
    if not _maybe_in_git(root):
        return None  # git would only say "not a git repository": skip starting it
    import subprocess

    from lynkr_cli.procenv import child_env

    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-co", "--exclude-standard", "-z"],
            # allow-listed when a gateway tool triggered the indexing; git's warnings in
            # English, as they are read (an unreadable directory)
            env={**child_env(), "LC_ALL": "C", "LANGUAGE": ""},
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    text = proc.stdout.decode("utf-8", "surrogateescape")
    for path, why in _GIT_UNREADABLE.findall(proc.stderr.decode("utf-8", "replace")):
        found.problems[path if path.endswith("/") else path + "/"] = f"unreadable directory: {why}"
    return sorted({p for p in text.split("\0") if p})


def _maybe_in_git(root: Path) -> bool:
    """False only when git cannot find a work tree at ``root``: no ``GIT_DIR`` and no
    ``.git`` (directory, or file for worktrees and submodules) in it or any parent."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return True
    path = os.path.realpath(root)
    while True:
        if os.path.lexists(os.path.join(path, ".git")):
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def _walk(root: Path, found: Discovery) -> list[str]:
    specs: list[tuple[str, Any]] = []
    out: list[str] = []

    def unreadable(exc: OSError) -> None:
        rel = os.path.relpath(exc.filename or root, root).replace(os.sep, "/")
        found.problems["./" if rel == "." else rel + "/"] = (
            f"unreadable directory: {exc.strerror or exc}"
        )

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        specs = [(base, spec) for base, spec in specs if _within(rel_dir, base)]
        spec = _load_gitignore(os.path.join(dirpath, ".gitignore"))
        if spec is not None:
            specs.append((rel_dir, spec))
        kept = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name in ALWAYS_PRUNED or _ignored(specs, rel + "/"):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                continue  # never follow directory symlinks: no loops, no escapes
            # A virtualenv is vendored whatever its name: it holds a pyvenv.cfg.
            venv = os.path.isfile(os.path.join(dirpath, name, "pyvenv.cfg"))
            reason = "vendored" if venv else name_skip(rel + "/x")
            if reason:
                found.skipped[rel + "/"] = reason
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not _ignored(specs, rel):
                out.append(rel)
    return out


def _within(rel_dir: str, base: str) -> bool:
    return base in ("", rel_dir) or rel_dir.startswith(base + "/")


def _ignored(specs: list[tuple[str, Any]], rel: str) -> bool:
    ignored = False
    for base, spec in specs:
        local = rel[len(base) + 1 :] if base else rel
        result = spec.check_file(local)
        if result.include is not None:
            ignored = bool(result.include)
    return ignored


def _load_gitignore(path: str) -> Any:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    import pathspec  # only when there is a .gitignore to read

    return pathspec.GitIgnoreSpec.from_lines(lines)
