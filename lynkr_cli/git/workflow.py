"""Commit, push and pull: each asks the policy first, then runs git.

These are reached through :class:`lynkr_cli.git.repo.Worktree` methods; they are
the only places lynkr writes history or talks to a remote.
"""

from __future__ import annotations

from collections.abc import Sequence

from lynkr_cli.errors import ExitCode, GitError, UsageError
from lynkr_cli.git import parse
from lynkr_cli.git.diffparse import parse_patch
from lynkr_cli.git.gitproc import NETWORK_TIMEOUT, GitResult, failure
from lynkr_cli.git.models import CommitResult, FileStat, PullResult, PushResult, TestRun
from lynkr_cli.git.policy import TestsFailed
from lynkr_cli.git.refs import check_branch_name, check_remote
from lynkr_cli.git.repo import Worktree
from lynkr_cli.git.secrets import SecretFinding, scan
from lynkr_cli.git.testrun import OutputCallback, run_tests


def commit(
    repo: Worktree,
    message: str,
    *,
    amend: bool = False,
    on_output: OutputCallback | None = None,
    allow_secrets: Sequence[str] = (),
) -> CommitResult:
    repo.policy.check_commit(message)
    branch = repo.current_branch()
    status = repo.status()
    if status.conflicted:
        raise conflict_error(
            status.conflicted, "Resolve them, `lynkr git stage` the files, then commit."
        )
    if amend and status.head is None:
        raise GitError("there is no commit to amend yet", exit_code=ExitCode.GIT_NOTHING_TO_COMMIT)
    if not amend and not repo.staged_stats():
        raise GitError(
            "nothing to commit: no changes are staged",
            hint="Stage changes first with `lynkr git stage PATHS` (or `--all`).",
            exit_code=ExitCode.GIT_NOTHING_TO_COMMIT,
        )
    if repo.policy.settings.git_block_secrets:
        repo.policy.check_secrets(staged_secrets(repo), allow_secrets)
    tests = _run_required_tests(repo, on_output)
    args = ["commit", "--quiet", "--file=-", "--cleanup=whitespace"]
    if amend:
        args.append("--amend")
    result = repo._git(*args, input_text=message, check=False)
    if not result.ok:
        raise failure(
            result, hint="If a commit hook refused it, fix what it reports and commit again."
        )
    return _commit_result(repo, branch, amend, tests)


def staged_secrets(repo: Worktree) -> list[SecretFinding]:
    """What `lynkr git review --staged` reports as secrets, from the same detectors."""
    patches = parse_patch(repo.diff(staged=True).patch)
    return [finding for p in patches for finding in scan(p.path, p.added)]


def _run_required_tests(repo: Worktree, on_output: OutputCallback | None) -> TestRun | None:
    command = repo.policy.tests_command(repo.root)
    if command is None:
        return None
    if on_output is not None:
        on_output(f"running tests ({command.source}): {' '.join(command.argv)}")
    run = run_tests(command, repo.root, repo.policy.settings.test_timeout, on_output)
    if not run.passed:
        raise TestsFailed(run)
    return run


def _commit_result(repo: Worktree, branch: str, amend: bool, tests: TestRun | None) -> CommitResult:
    sha = repo._git("rev-parse", "HEAD").stdout.strip()
    commit = repo.commits([sha], limit=1)[0]
    stats = repo._git(
        "diff-tree", "--no-commit-id", "--numstat", "-z", "-r", "-M", "--root", sha
    ).stdout
    return CommitResult(
        sha=sha,
        short=commit.short,
        branch=branch,
        subject=commit.subject,
        amend=amend,
        files=parse.parse_numstat(stats),
        tests=tests,
    )


def conflict_error(paths: list[str], hint: str) -> GitError:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return GitError(
        f"unresolved merge conflicts in {shown}",
        hint=hint,
        exit_code=ExitCode.GIT_CONFLICT,
    )


# --------------------------------------------------------------------------- push


def push(
    repo: Worktree, remote: str | None, branch: str | None, *, force_with_lease: bool = False
) -> PushResult:
    repo.policy.check_push_enabled()
    local = check_branch_name(repo.root, branch) if branch else repo.current_branch()
    if repo._git("rev-parse", "--verify", "--quiet", f"refs/heads/{local}", check=False).returncode:
        raise UsageError(f"there is no local branch {local!r}", hint="See `lynkr git branches`.")
    remote, target, set_upstream = _push_target(repo, local, remote)
    repo.policy.check_push(target, force=force_with_lease)
    args = ["push", "--porcelain"]
    if force_with_lease:
        args.append("--force-with-lease")
    if set_upstream:
        args.append("--set-upstream")
    result = repo._git(
        *args,
        "--",
        remote,
        f"refs/heads/{local}:refs/heads/{target}",
        check=False,
        timeout=NETWORK_TIMEOUT,
    )
    return _push_result(
        repo,
        result=result,
        remote=remote,
        local=local,
        target=target,
        force=force_with_lease,
        set_upstream=set_upstream,
    )


def _push_target(repo: Worktree, local: str, remote: str | None) -> tuple[str, str, bool]:
    """(remote, remote branch, whether to record it as the upstream)."""
    upstream_remote = repo.config(f"branch.{local}.remote")
    merge = repo.config(f"branch.{local}.merge")
    tracked = merge.removeprefix("refs/heads/") if merge else None
    if remote is None:
        if upstream_remote is None or tracked is None:
            raise GitError(
                f"branch {local!r} has no upstream to push to",
                hint=f"Push it once with `lynkr git push origin {local}`; that sets the upstream.",
                exit_code=ExitCode.GIT_NO_UPSTREAM,
            )
        return check_remote(repo.root, upstream_remote), tracked, False
    check_remote(repo.root, remote)
    if remote == upstream_remote and tracked is not None:
        return remote, tracked, False
    return remote, local, upstream_remote is None


def _push_result(
    repo: Worktree,
    *,
    result: GitResult,
    remote: str,
    local: str,
    target: str,
    force: bool,
    set_upstream: bool,
) -> PushResult:
    flag, summary = _porcelain_ref_line(result.stdout, target)
    if flag == "!" or (not result.ok and "[rejected]" in result.stderr):
        raise _rejected(remote, target, summary or result.stderr)
    if not result.ok:
        raise failure(result, hint="Check the remote's URL and your credentials for it.")
    old = None
    if ".." in summary:
        old = summary.split("..")[0].strip(".")
    new = repo._git("rev-parse", f"refs/heads/{local}").stdout.strip()
    return PushResult(
        remote=remote,
        branch=local,
        target=target,
        force=force,
        set_upstream=set_upstream,
        old=old,
        new=new,
        up_to_date=flag == "=",
    )


def _porcelain_ref_line(stdout: str, target: str) -> tuple[str, str]:
    """The (flag, summary) of the line for ``target`` in ``git push --porcelain`` output."""
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[1].endswith(f":refs/heads/{target}"):
            return parts[0], parts[2]
    return "", ""


def _rejected(remote: str, target: str, summary: str) -> GitError:
    reason = summary.strip().splitlines()[0] if summary.strip() else "rejected"
    hint = "Someone pushed first: run `lynkr git pull --rebase`, then push again."
    if "remote rejected" in reason:
        hint = "The remote's own rules (hooks, branch protection) refused it; see its reason."
    elif "stale info" in reason:
        hint = "The remote moved since your last fetch: `git fetch`, check, then push again."
    return GitError(
        f"{remote} rejected the push to {target}: {reason}",
        hint=hint,
        exit_code=ExitCode.GIT_PUSH_REJECTED,
    )


# --------------------------------------------------------------------------- pull


def pull(repo: Worktree, *, rebase: bool = False) -> PullResult:
    repo.policy.check_pull()
    local = repo.current_branch()
    upstream = repo.upstream(local)
    if upstream is None:
        raise GitError(
            f"branch {local!r} has no upstream to pull from",
            hint=f"Set one with `git branch --set-upstream-to=origin/{local}`.",
            exit_code=ExitCode.GIT_NO_UPSTREAM,
        )
    status = repo.status()
    if status.conflicted:
        raise conflict_error(status.conflicted, _conflict_hint(rebase))
    old = repo.head()
    args = ["pull", "--no-edit", "--rebase" if rebase else "--no-rebase"]
    result = repo._git(*args, check=False, timeout=NETWORK_TIMEOUT)
    if not result.ok:
        conflicted = repo.status().conflicted
        if conflicted or "CONFLICT" in result.stdout:
            raise conflict_error(conflicted or ["the working tree"], _conflict_hint(rebase))
        raise failure(result, hint="Commit or stage your local changes first if git says so.")
    new = repo.head()
    return PullResult(
        remote=repo.config(f"branch.{local}.remote"),
        upstream=upstream,
        rebase=rebase,
        old=old,
        new=new,
        up_to_date=old == new,
        files=_changed(repo, old, new),
    )


def _changed(repo: Worktree, old: str | None, new: str | None) -> list[FileStat]:
    if old is None or new is None or old == new:
        return []
    out = repo._git("diff", "--numstat", "-z", "-M", old, new, "--").stdout
    return parse.parse_numstat(out)


def _conflict_hint(rebase: bool) -> str:
    if rebase:
        return (
            "Resolve the files, `lynkr git stage` them, then `git rebase --continue` "
            "(or `git rebase --abort`)."
        )
    return (
        "Resolve the files, `lynkr git stage` them, then `lynkr git commit` "
        "(or `git merge --abort`)."
    )
