"""A deterministic review of a change: per-file facts, a 0–100 risk score, secrets.

No model is involved: the same diff always gives the same report, so CI can
gate on ``score``. Every point of the score comes with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import ExitCode, GitError, UsageError
from lynkr_cli.git import risk
from lynkr_cli.git.diffparse import FilePatch, parse_patch
from lynkr_cli.git.models import Diff, FileStat, Record
from lynkr_cli.git.secrets import SecretFinding, scan

if TYPE_CHECKING:
    from lynkr_cli.git.repo import Worktree


@dataclass(frozen=True)
class FileReview(Record):
    path: str
    change: str  # added, deleted, renamed, modified
    added: int
    deleted: int
    binary: bool
    test: bool
    categories: list[str]
    orig_path: str | None = None


@dataclass(frozen=True)
class Reason(Record):
    points: int
    reason: str


@dataclass(frozen=True)
class DeletedSymbol(Record):
    path: str
    kind: str
    name: str


@dataclass
class Review(Record):
    source: str  # "staged", "uncommitted", or the range given
    files: list[FileReview]
    added: int
    deleted: int
    score: int
    level: str
    reasons: list[Reason]
    secrets: list[SecretFinding]
    deleted_symbols: list[DeletedSymbol]
    symbols_from: str  # "diff" or "index"
    llm: dict[str, Any] | None = field(default=None)


def review_repo(repo: Worktree, rev_range: str | None = None, *, staged: bool = False) -> Review:
    """Review a range (``A..B``; a single revision means ``REV..HEAD``), or local changes."""
    if rev_range is not None and staged:
        raise UsageError("give a RANGE or --staged, not both")
    if rev_range is not None:
        rng = repo.range(rev_range if ".." in rev_range else f"{rev_range}..HEAD")
        if rng.base is not None and not rng.symmetric and not repo.commits(rng.log_args()):
            raise GitError(
                f"the range {rev_range!r} contains no commits",
                hint="The end is already contained in the start; swap them or widen the range.",
                exit_code=ExitCode.GIT_EMPTY_RANGE,
            )
        diff = repo.diff(rev_range=rng.text)
        return review_diff(diff, rev_range, repo.root)
    if staged:
        return review_diff(repo.diff(staged=True), "staged", repo.root)
    return review_diff(repo.uncommitted(), "uncommitted", repo.root)


def review_diff(diff: Diff, source: str, root: Path | None = None) -> Review:
    """The review of one diff (pure, apart from the optional index lookup)."""
    patches = {p.path: p for p in parse_patch(diff.patch)}
    files = [_file_review(stat, patches.get(stat.path)) for stat in diff.files]
    secrets = [f for p in patches.values() for f in scan(p.path, p.added)]
    symbols, symbols_from = _deleted_symbols(list(patches.values()), root)
    reasons = _reasons(files, secrets, symbols)
    score = min(100, sum(r.points for r in reasons))
    return Review(
        source=source,
        files=files,
        added=diff.added,
        deleted=diff.deleted,
        score=score,
        level=risk.level(score),
        reasons=reasons,
        secrets=secrets,
        deleted_symbols=symbols,
        symbols_from=symbols_from,
    )


def _file_review(stat: FileStat, patch: FilePatch | None) -> FileReview:
    fallback = "renamed" if stat.orig_path else "modified"
    return FileReview(
        path=stat.path,
        change=patch.kind if patch is not None else fallback,
        added=stat.added,
        deleted=stat.deleted,
        binary=stat.binary,
        test=risk.is_test(stat.path),
        categories=risk.categories(stat.path),
        orig_path=stat.orig_path,
    )


def _deleted_symbols(
    patches: list[FilePatch], root: Path | None
) -> tuple[list[DeletedSymbol], str]:
    """Public definitions removed by the diff and not re-added anywhere in it."""
    readded: set[str] = set()
    removed: list[DeletedSymbol] = []
    for patch in patches:
        source_path = patch.orig_path or patch.path
        for kind, name in sorted(risk.public_definitions(source_path, patch.removed)):
            removed.append(DeletedSymbol(source_path, kind, name))
        texts = [text for _, text in patch.added]
        readded |= {name for _, name in risk.public_definitions(patch.path, texts)}
    gone = [s for s in removed if s.name not in readded]
    if root is None or not gone:
        return gone, "diff"
    from lynkr_cli.git.indexlink import defined_elsewhere

    moved = defined_elsewhere(root, [(s.path, s.name) for s in gone])
    if moved is None:
        return gone, "diff"
    # The index knows the whole repository: a symbol defined in another file was moved.
    return [s for s in gone if s.name not in moved], "index"


def _reasons(
    files: list[FileReview], secrets: list[SecretFinding], symbols: list[DeletedSymbol]
) -> list[Reason]:
    reasons: list[Reason] = []
    churn = sum(f.added + f.deleted for f in files)
    points, why = risk.churn_points(churn, len(files))
    if why:
        reasons.append(Reason(points, why))
    reasons += _category_reasons(files)
    sources = [f for f in files if risk.is_source(f.path) and f.change != "deleted"]
    if sources and not any(f.test for f in files):
        reasons.append(
            Reason(15, f"source changed without tests: {_names(f.path for f in sources)}")
        )
    if symbols:
        shown = _names(f"{s.name} ({s.path})" for s in symbols)
        reasons.append(Reason(min(25, 8 * len(symbols)), f"deleted public symbols: {shown}"))
    binaries = [f.path for f in files if f.binary]
    if binaries:
        reasons.append(Reason(min(10, 5 * len(binaries)), f"binary files: {_names(binaries)}"))
    if secrets:
        where = _names(f"{s.path}:{s.line} {s.kind}" for s in secrets)
        reasons.append(Reason(min(60, 40 + 10 * (len(secrets) - 1)), f"possible secrets: {where}"))
    return reasons


def _category_reasons(files: list[FileReview]) -> list[Reason]:
    by_category: dict[str, list[str]] = {}
    for f in files:
        for category in f.categories:
            by_category.setdefault(category, []).append(f.path)
    return [
        Reason(risk.CATEGORY_POINTS[name], f"sensitive paths ({name}): {_names(paths)}")
        for name, paths in by_category.items()
    ]


def _names(items: Any, limit: int = 5) -> str:
    listed = list(items)
    shown = ", ".join(listed[:limit])
    return shown + (f" and {len(listed) - limit} more" if len(listed) > limit else "")
