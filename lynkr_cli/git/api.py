"""The Python API of ``lynkr git``: what the CLI and the gateway's tools call.

Everything goes through :class:`Repo`, whose writing methods consult the one
policy (:class:`GitPolicy`, built from the ``policy`` settings section) before
git runs, so no caller can skip a guard::

    from lynkr_cli.git.api import open_repo

    repo = open_repo("/path/to/tree")          # GitError(exit 10) outside a repo
    repo.status()                               # Status
    repo.diff(staged=True, paths=["src/a.py"])  # Diff (files + patch); rev_range="A..B"
    repo.stage(["a.py"]) / repo.stage(all=True) # Status after staging
    repo.unstage(["a.py"])                      # Status after unstaging
    repo.log("v1.0..HEAD", limit=20)            # list[Commit], newest first
    repo.show("HEAD~1", paths=["a.py"])         # (Commit, Diff against its first parent)
    repo.branches()                             # list[Branch]
    repo.commit("feat: x", on_output=print)     # CommitResult; test output streamed to on_output
    repo.push("origin", "feature")              # PushResult
    repo.pull(rebase=True)                      # PullResult
    repo.review("main..HEAD")                   # Review: files, score, reasons, secrets
    repo.release_notes()                        # ReleaseNotes (.markdown(), .to_dict())

Every result is a dataclass with ``to_dict()`` returning plain JSON types.

Failures raise :class:`lynkr_cli.errors.LynkrError` subclasses with a one-line
``message``, a ``hint`` that says how to fix it, and an ``exit_code``:

- ``GitError``: not a repo (10), detached HEAD (11), no upstream (12),
  conflicts (13), nothing to commit (14), empty range (15), push rejected (16),
  any other git failure (19);
- ``PolicyError`` (5): a guard refused, the hint names the variable to set;
  ``TestsFailed`` (a PolicyError) carries the failed ``TestRun`` as ``.run``;
- ``UsageError`` (2): a ref, remote or revision that is invalid or looks like
  an option (``--upload-pack=…``) is refused before git sees it.

Pass ``policy=GitPolicy(...)`` to :func:`open_repo` to use guards other than the
effective settings (the gateway may build one per request). Relative paths are
taken relative to the directory given to :func:`open_repo`; paths outside the
working tree are refused (UsageError). All calls block (git subprocesses): from
async code, run them in a thread.

``lynkr_cli.git.llm.llm_review(review, patch)`` and ``llm_notes(notes)`` add a
model's prose through the configured provider, in process (blocking, they run
their own event loop); they raise ConfigError without a provider.
"""

from __future__ import annotations

from pathlib import Path

from lynkr_cli.git.models import (
    Branch,
    Commit,
    CommitResult,
    Diff,
    FileChange,
    FileStat,
    PullResult,
    PushResult,
    Status,
    TestRun,
)
from lynkr_cli.git.policy import GitPolicy, TestsFailed, policy_report
from lynkr_cli.git.repo import Repo

__all__ = [
    "Branch",
    "Commit",
    "CommitResult",
    "Diff",
    "FileChange",
    "FileStat",
    "GitPolicy",
    "PullResult",
    "PushResult",
    "Repo",
    "Status",
    "TestRun",
    "TestsFailed",
    "open_repo",
    "policy_report",
]


def open_repo(path: Path | str | None = None, *, policy: GitPolicy | None = None) -> Repo:
    """The git working tree containing ``path`` (default: the current directory)."""
    return Repo.open(path, policy)
