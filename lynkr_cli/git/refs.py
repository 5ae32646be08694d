"""Validating what a user or a model names: refs, ranges, remotes, paths.

A name that git could read as an option (``--upload-pack=…``) never reaches
git as an argument: refs are checked with ``git check-ref-format`` and resolved
to object ids with ``rev-parse --verify --end-of-options``, remotes must be
configured remotes, and paths always follow ``--``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lynkr_cli.errors import ExitCode, GitError, UsageError
from lynkr_cli.git.gitproc import run_git

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def reject_option_like(value: str, what: str) -> None:
    """Refuse a name beginning with ``-``: git would read it as an option."""
    if value.startswith("-"):
        raise UsageError(
            f"{what} {value!r} begins with '-' and could be read as a git option; refused",
            hint=f"Name a real {what}; {what}s cannot begin with '-'.",
        )
    if "\x00" in value or "\n" in value:
        raise UsageError(f"{what} {value!r} contains a control character; refused")


def check_branch_name(root: Path, name: str) -> str:
    """A valid branch name, or UsageError. Uses git's own rules (check-ref-format)."""
    reject_option_like(name, "branch")
    result = run_git(root, ["check-ref-format", "--branch", name], check=False)
    if not result.ok:
        raise UsageError(
            f"{name!r} is not a valid branch name",
            hint="See `git help check-ref-format` for the rules.",
        )
    return result.stdout.strip() or name


def resolve_commit(root: Path, rev: str) -> str:
    """The full commit id ``rev`` names, or UsageError if it names nothing."""
    reject_option_like(rev, "revision")
    result = run_git(
        root,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        check=False,
    )
    if not result.ok or not result.stdout.strip():
        raise UsageError(
            f"{rev!r} does not name a commit in this repository",
            hint="Check the spelling with `lynkr git log` or `lynkr git branches`.",
        )
    return result.stdout.strip()


@dataclass(frozen=True)
class Range:
    """A resolved revision range: ``base`` is None for "everything reachable from tip"."""

    text: str
    base: str | None
    tip: str
    symmetric: bool = False

    def log_args(self) -> list[str]:
        if self.base is None:
            return [self.tip]
        if self.symmetric:
            return [f"{self.base}...{self.tip}"]
        return [f"{self.base}..{self.tip}"]


def parse_range(root: Path, text: str) -> Range:
    """Resolve ``A..B``, ``A...B``, ``A..`` (to HEAD) or a single revision to object ids."""
    # Ref names cannot contain "..", so the first "..." or ".." is the separator.
    dots = "..." if "..." in text else ".." if ".." in text else ""
    if not dots:
        return Range(text, None, resolve_commit(root, text))
    left, right = text.split(dots, 1)
    return Range(
        text,
        resolve_commit(root, left or "HEAD"),
        resolve_commit(root, right or "HEAD"),
        symmetric=dots == "...",
    )


def check_remote(root: Path, name: str) -> str:
    """``name`` if it is a configured remote. URLs are refused: they could name any transport."""
    reject_option_like(name, "remote")
    remotes = run_git(root, ["remote"]).stdout.split()
    if name not in remotes:
        known = ", ".join(remotes) or "none"
        raise GitError(
            f"{name!r} is not a configured remote (configured: {known})",
            hint=f"Add it with `git remote add {name} URL`, or name one of the configured remotes.",
            exit_code=ExitCode.GIT_NO_UPSTREAM,
        )
    return name


def check_paths(paths: list[str]) -> list[str]:
    """Paths as given; they are always passed after ``--``, so only NULs are refused."""
    for path in paths:
        if "\x00" in path:
            raise UsageError(f"path {path!r} contains a NUL byte; refused")
    return paths
