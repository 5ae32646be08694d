"""``Worktree``: one git working tree, read, and its index changed.

Reading (status, diff, log, branches) needs no permission. Changing the index
(stage, unstage) is local and reversible. Commit, push and pull are not here: they
are :class:`lynkr_cli.git.api.Repo`'s, which runs :mod:`lynkr_cli.git.workflow`
(asking :class:`GitPolicy` first). Workflow, review and notes take a ``Worktree``,
so this module imports none of them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Self

from lynkr_cli.errors import ExitCode, GitError, NotFoundError, UsageError
from lynkr_cli.git import parse
from lynkr_cli.git.gitproc import DEFAULT_TIMEOUT, GitResult, first_error_line, run_git
from lynkr_cli.git.models import (
    Branch,
    Commit,
    Diff,
    FileStat,
    Status,
)
from lynkr_cli.git.policy import GitPolicy
from lynkr_cli.git.refs import EMPTY_TREE, Range, check_paths, parse_range, resolve_commit

# Pinned so a user's diff.noprefix, diff.mnemonicPrefix or diff.external cannot change
# the shape of what the review parses.
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_OPERATIONS = (
    ("rebase-merge", "rebase"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
)
NOT_A_REPO_HINT = "Run this inside a git working tree (or `git init` one first)."


class Worktree:
    """A git working tree, read-only but for its index. Build it with :meth:`open`."""

    def __init__(self, root: Path, policy: GitPolicy, cwd: Path | None = None) -> None:
        self.root = root
        self.policy = policy
        # Relative paths a caller passes are relative to where it opened the repo.
        self.cwd = cwd if cwd is not None else root
        self._git_dir: Path | None = None

    @classmethod
    def open(cls, path: Path | str | None = None, policy: GitPolicy | None = None) -> Self:
        """The working tree containing ``path`` (default: the current directory).

        ``policy`` defaults to the effective settings; pass one to use other guards.
        """
        start = Path(path) if path is not None else Path.cwd()
        if not start.is_dir():
            raise NotFoundError(f"{start} is not a directory")
        result = run_git(start, ["rev-parse", "--show-toplevel", "--absolute-git-dir"], check=False)
        lines = result.stdout.splitlines()
        if not result.ok or len(lines) != 2:
            raise _not_a_repo(start, result)
        repo = cls(
            Path(lines[0]), policy if policy is not None else GitPolicy.load(), start.resolve()
        )
        repo._git_dir = Path(lines[1])
        return repo

    def _git(
        self,
        *args: str,
        check: bool = True,
        input_text: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> GitResult:
        """Run git in this tree. Plumbing for this package only: it consults no policy."""
        return run_git(
            self.root, args, check=check, input_text=input_text, timeout=timeout, env=env
        )

    def _from_root(self, paths: Sequence[str]) -> list[str]:
        """Paths relative to the root, as git is run there; outside the tree is refused."""
        found = []
        for path in check_paths(list(paths)):
            full = os.path.normpath(os.path.join(self.cwd, path))
            rel = os.path.relpath(full, self.root)
            if rel == ".." or rel.startswith(".." + os.sep):
                raise UsageError(
                    f"{path!r} is outside the repository at {self.root}",
                    hint="Name paths inside the working tree.",
                )
            found.append(rel)
        return found

    # ------------------------------------------------------------------ reading

    def status(self) -> Status:
        out = self._git("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all")
        status = parse.parse_status(str(self.root), out.stdout)
        return replace(status, operation=self.operation())

    def operation(self) -> str | None:
        """The multi-step operation in progress (a merge stopped on conflicts, a rebase)."""
        if self._git_dir is None:
            self._git_dir = Path(self._git("rev-parse", "--absolute-git-dir").stdout.strip())
        git_dir = self._git_dir
        for marker, name in _OPERATIONS:
            if (git_dir / marker).exists():
                return name
        return None

    def head(self) -> str | None:
        """The commit HEAD points at, or None before the first commit."""
        result = self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        return result.stdout.strip() or None

    def current_branch(self) -> str:
        """The checked-out branch; a detached HEAD is an error with its own exit code."""
        result = self._git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if not result.ok:
            raise GitError(
                "HEAD is detached: no branch is checked out",
                hint="Create a branch here with `git switch -c NAME`, or `git switch BRANCH`.",
                exit_code=ExitCode.GIT_DETACHED_HEAD,
            )
        return result.stdout.strip()

    def upstream(self, branch: str) -> str | None:
        """``remote/branch`` that ``branch`` tracks, or None."""
        result = self._git(
            "rev-parse",
            "--abbrev-ref",
            "--symbolic-full-name",
            f"{branch}@{{upstream}}",
            check=False,
        )
        return result.stdout.strip() if result.ok and result.stdout.strip() else None

    def config(self, key: str) -> str | None:
        result = self._git("config", "--get", key, check=False)
        return result.stdout.strip() if result.ok else None

    def range(self, text: str) -> Range:
        """Resolve a user's revision range; refs that look like options are refused."""
        return parse_range(self.root, text)

    def diff(
        self,
        *,
        staged: bool = False,
        paths: Sequence[str] = (),
        rev_range: str | None = None,
    ) -> Diff:
        """Unstaged changes, ``staged`` changes, or the changes of ``rev_range`` (A..B)."""
        revs, base = self._diff_revs(staged, rev_range)
        tail = ["--", *self._from_root(paths)]
        numstat = self._git("diff", *_DIFF_OPTIONS, "--numstat", "-z", *revs, *tail)
        patch = self._git("diff", *_DIFF_OPTIONS, "--patch", *revs, *tail)
        return Diff(staged, base, parse.parse_numstat(numstat.stdout), patch.stdout)

    def _diff_revs(self, staged: bool, rev_range: str | None) -> tuple[list[str], str | None]:
        if rev_range is not None:
            rng = self.range(rev_range)
            if rng.base is None:
                return [rng.tip, self.head() or rng.tip], rev_range
            if rng.symmetric:
                return [f"{rng.base}...{rng.tip}"], rev_range
            return [rng.base, rng.tip], rev_range
        return (["--cached"] if staged else []), None

    def show(self, rev: str = "HEAD", *, paths: Sequence[str] = ()) -> tuple[Commit, Diff]:
        """One commit and its changes against its first parent (the empty tree for a root)."""
        sha = resolve_commit(self.root, rev)
        commit = self.commits([sha], limit=1)[0]
        base = commit.parents[0] if commit.parents else EMPTY_TREE
        tail = ["--", *self._from_root(paths)]
        numstat = self._git("diff", *_DIFF_OPTIONS, "--numstat", "-z", base, sha, *tail)
        patch = self._git("diff", *_DIFF_OPTIONS, "--patch", base, sha, *tail)
        return commit, Diff(
            False, f"{base}..{sha}", parse.parse_numstat(numstat.stdout), patch.stdout
        )

    def uncommitted(self) -> Diff:
        """Everything `git add --all` would commit (untracked files too), against HEAD.

        Built in a scratch copy of the index, so the real index is never written.
        """
        base = self.head() or EMPTY_TREE
        with tempfile.TemporaryDirectory(prefix="lynkr-index-") as scratch:
            index = Path(scratch) / "index"
            real = self.root / self._git("rev-parse", "--git-path", "index").stdout.strip()
            if real.is_file():
                # copy2 keeps the index's mtime: git's "racily clean" check compares it with
                # file mtimes, and a fresh mtime would hide same-size edits made this second.
                shutil.copy2(real, index)
            env = {"GIT_INDEX_FILE": str(index)}
            self._git("add", "--all", "--", ".", env=env)
            cached = ("diff", *_DIFF_OPTIONS, "--cached")
            numstat = self._git(*cached, "--numstat", "-z", base, "--", env=env)
            patch = self._git(*cached, "--patch", base, "--", env=env)
        return Diff(False, None, parse.parse_numstat(numstat.stdout), patch.stdout)

    def staged_stats(self) -> list[FileStat]:
        return parse.parse_numstat(
            self._git("diff", *_DIFF_OPTIONS, "--cached", "--numstat", "-z", "--").stdout
        )

    def log(self, rev_range: str | None = None, *, limit: int = 50) -> list[Commit]:
        """Commits of ``rev_range`` (default: HEAD's history), newest first."""
        if self.head() is None:
            raise GitError(
                "this repository has no commits yet",
                hint="Make the first commit with `lynkr git commit -m MSG`.",
                exit_code=ExitCode.GIT_EMPTY_RANGE,
            )
        revs = self.range(rev_range).log_args() if rev_range else ["HEAD"]
        commits = self.commits(revs, limit=limit)
        if not commits and rev_range:
            raise GitError(
                f"the range {rev_range!r} contains no commits",
                hint="The end is already contained in the start; swap them or widen the range.",
                exit_code=ExitCode.GIT_EMPTY_RANGE,
            )
        return commits

    def commits(
        self, revs: Sequence[str], *, limit: int | None = None, first_parent: bool = False
    ) -> list[Commit]:
        """Commits for already-resolved ``revs`` (object ids or ``A..B`` of ids)."""
        args = ["log", "--no-show-signature", f"--format={parse.LOG_FORMAT}"]
        if limit is not None:
            args.append(f"--max-count={max(limit, 1)}")
        if first_parent:
            args.append("--first-parent")
        out = self._git(*args, "--end-of-options", *revs, "--")
        return parse.parse_log(out.stdout)

    def branches(self, *, remotes: bool = True) -> list[Branch]:
        refs = ["refs/heads", "refs/remotes"] if remotes else ["refs/heads"]
        out = self._git("for-each-ref", f"--format={parse.BRANCH_FORMAT}", *refs)
        return parse.parse_branches(out.stdout)

    # ------------------------------------------------------------------ the index

    def stage(self, paths: Sequence[str] = (), *, all: bool = False) -> Status:
        """``git add`` the paths (or everything, with ``all``), then the new status."""
        if all:
            self._git("add", "--all", "--", ".")
        else:
            if not paths:
                raise GitError(
                    "nothing to stage: name paths, or pass --all", exit_code=ExitCode.GIT_FAILED
                )
            self._git("add", "--", *self._from_root(paths))
        return self.status()

    def unstage(self, paths: Sequence[str] = ()) -> Status:
        """Take paths (default: everything) out of the index; the working tree is kept."""
        tail = ["--", *self._from_root(paths)] if paths else ["--", "."]
        if self.head() is None:
            # No HEAD to restore from: drop the entries from the index instead.
            self._git("rm", "--cached", "-r", "--quiet", "--ignore-unmatch", *tail)
        else:
            self._git("restore", "--staged", *tail)
        return self.status()


def _not_a_repo(start: Path, result: GitResult) -> GitError:
    reason = first_error_line(result)
    if "dubious ownership" in reason:
        return GitError(
            f"git refuses to work in {start}: it is owned by another user",
            hint=f"If you trust it: git config --global --add safe.directory {start}",
            exit_code=ExitCode.GIT_FAILED,
        )
    return GitError(
        f"{start} is not inside a git working tree ({reason})",
        hint=NOT_A_REPO_HINT,
        exit_code=ExitCode.GIT_NOT_A_REPO,
    )
