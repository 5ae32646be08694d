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

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
from lynkr_cli.git.repo import Worktree

if TYPE_CHECKING:
    from lynkr_cli.git.notes import ReleaseNotes
    from lynkr_cli.git.review import Review
    from lynkr_cli.git.testrun import OutputCallback

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
    "run_project_tests",
]


class Repo(Worktree):
    """A git working tree whose commits, pushes and pulls go through its policy.

    The modules doing the work (``workflow``, ``review``, ``notes``) take the plain
    :class:`~lynkr_cli.git.repo.Worktree`, and are imported on first use, so
    ``lynkr git status`` never loads them.
    """

    def commit(
        self,
        message: str,
        *,
        amend: bool = False,
        on_output: OutputCallback | None = None,
        allow_secrets: Sequence[str] = (),
    ) -> CommitResult:
        """Commit the index after the policy's checks (secrets, tests when required).

        ``allow_secrets`` holds ``FILE:LINE`` places whose secret finding is not a secret.
        """
        from lynkr_cli.git import workflow

        return workflow.commit(
            self, message, amend=amend, on_output=on_output, allow_secrets=allow_secrets
        )

    def push(
        self,
        remote: str | None = None,
        branch: str | None = None,
        *,
        force_with_lease: bool = False,
    ) -> PushResult:
        """Push ``branch`` (default: the current one) after the policy's checks."""
        from lynkr_cli.git import workflow

        return workflow.push(self, remote, branch, force_with_lease=force_with_lease)

    def pull(self, *, rebase: bool = False) -> PullResult:
        """Pull the current branch's upstream, by merge (default) or ``rebase``."""
        from lynkr_cli.git import workflow

        return workflow.pull(self, rebase=rebase)

    def review(self, rev_range: str | None = None, *, staged: bool = False) -> Review:
        """A deterministic review of a range, the staged changes, or all uncommitted ones."""
        from lynkr_cli.git.review import review_repo

        return review_repo(self, rev_range, staged=staged)

    def release_notes(self, rev_range: str | None = None) -> ReleaseNotes:
        """Release notes for ``rev_range`` (default: last tag..HEAD)."""
        from lynkr_cli.git.notes import release_notes

        return release_notes(self, rev_range)


def open_repo(path: Path | str | None = None, *, policy: GitPolicy | None = None) -> Repo:
    """The git working tree containing ``path`` (default: the current directory)."""
    return Repo.open(path, policy)


def run_project_tests(root: Path, policy: GitPolicy) -> TestRun:
    """The tests of ``root`` as the pre-commit guard runs them, required or not.

    The command is the policy's ``git_test_command``, else the one `lynkr index`
    discovered (NotFoundError when neither is known); ``test_timeout`` bounds it.
    """
    from lynkr_cli.errors import NotFoundError
    from lynkr_cli.git.testrun import run_tests

    command = policy.replace(require_tests=True).tests_command(root)
    if command is None:
        raise NotFoundError(
            "no test command found for this workspace",
            hint="Set POLICY_GIT_TEST_COMMAND, e.g. 'pytest -q'.",
        )
    return run_tests(command, root, policy.settings.test_timeout)
