"""``lynkr git``: status, diff, stage, commit, push and pull under policy guards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lynkr_cli import console, hookimpl

if TYPE_CHECKING:
    from lynkr_cli.git.api import Repo
    from lynkr_cli.git.models import FileStat, Status

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
LlmOpt = Annotated[
    bool, typer.Option("--llm", help="Add a model's prose through the configured provider.")
]
PathsArg = Annotated[list[str] | None, typer.Argument(help="Limit to these paths.")]

git_app = typer.Typer(no_args_is_help=True)  # help text: the callback's docstring


@git_app.callback()
def _root(
    ctx: typer.Context,
    repo: Annotated[
        Path | None,
        typer.Option("-C", "--repo", help="Run in this directory, not the current one."),
    ] = None,
) -> None:
    """Git under policy guards: status, diff, stage, commit, push, pull, review, notes.

    Pushing is off until POLICY_GIT_ALLOW_PUSH=true; `lynkr git policy` shows every
    guard and where its value came from. Every command takes --json. Put paths that
    begin with '-' after '--': `lynkr git stage -- -rf`.
    """
    ctx.obj = {"repo": repo}


def _open(ctx: typer.Context) -> Repo:
    from lynkr_cli.git.api import open_repo

    return open_repo((ctx.obj or {}).get("repo"))


@git_app.command()
def status(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """Show the branch, its upstream, and staged, unstaged, untracked and conflicted files."""
    result = _open(ctx).status()
    if json_output:
        console.print_json(result.to_dict())
        return
    _print_status(result)


def _print_status(st: Status) -> None:
    where: list[str | console.Styled] = (
        ["On branch ", console.Styled(st.branch, "bold")]
        if st.branch
        else [console.Styled("HEAD detached", "red")]
    )
    if st.upstream:
        where.append(f", tracking {st.upstream} (ahead {st.ahead}, behind {st.behind})")
    console.say(*where, "" if st.head else ", no commits yet")
    if st.operation:
        console.say(
            f"{st.operation} in progress: finish it or abort it (git {st.operation} --abort)"
        )
    groups = [
        ("Conflicts", "red", st.conflicted),
        ("Staged", "green", [f"{c.kind} {c.path}" for c in st.staged]),
        ("Not staged", "yellow", [f"{c.kind} {c.path}" for c in st.unstaged]),
        ("Untracked", "dim", st.untracked),
    ]
    for title, style, items in groups:
        if items:
            console.say(f"{title}:")
            for item in items:
                console.say(f"  {item}", style=style)
    if st.clean:
        console.say("nothing to commit, working tree clean")


@git_app.command()
def diff(
    ctx: typer.Context,
    paths: PathsArg = None,
    staged: Annotated[bool, typer.Option("--staged", "--cached", help="Staged changes.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Show unstaged changes (or staged ones with --staged), optionally for some paths."""
    result = _open(ctx).diff(staged=staged, paths=paths or [])
    if json_output:
        console.print_json(result.to_dict())
        return
    _print_patch(result.patch)
    console.info(f"{console.plural(len(result.files), 'file')}, +{result.added} -{result.deleted}")


def _print_patch(patch: str) -> None:
    styles = (("+++", "bold"), ("---", "bold"), ("+", "green"), ("-", "red"), ("@@", "cyan"))
    for line in patch.splitlines():
        console.say(line, style=next((s for prefix, s in styles if line.startswith(prefix)), ""))


@git_app.command()
def stage(
    ctx: typer.Context,
    paths: PathsArg = None,
    all_: Annotated[bool, typer.Option("--all", "-A", help="Stage every change.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Stage PATHS (or every change with --all) for the next commit."""
    result = _open(ctx).stage(paths or [], all=all_)
    _status_after(result, json_output)


@git_app.command()
def unstage(ctx: typer.Context, paths: PathsArg = None, json_output: JsonOpt = False) -> None:
    """Take PATHS (default: everything) out of the index; the files are not changed."""
    result = _open(ctx).unstage(paths or [])
    _status_after(result, json_output)


def _status_after(result: Status, json_output: bool) -> None:
    if json_output:
        console.print_json(result.to_dict())
    else:
        _print_status(result)


@git_app.command()
def commit(
    ctx: typer.Context,
    message: Annotated[str, typer.Option("-m", "--message", help="The commit message.")],
    amend: Annotated[bool, typer.Option("--amend", help="Replace the last commit.")] = False,
    allow_secret: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-secret",
            metavar="FILE:LINE",
            help="Commit although this one secret finding is there (repeat for more).",
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Commit the staged changes, after the policy's checks (and tests, when required).

    A staged line that looks like a secret (the detectors of `lynkr git review`)
    refuses the commit with exit 5, naming FILE:LINE and the kind, never the value.
    """
    repo = _open(ctx)
    result = repo.commit(
        message, amend=amend, on_output=_stream_line, allow_secrets=allow_secret or []
    )
    if json_output:
        console.print_json(result.to_dict())
        return
    if result.tests is not None:
        console.info(f"tests passed ({result.tests.source}): {' '.join(result.tests.command)}")
    console.say(f"[{result.branch} {result.short}] {result.subject}")
    _print_stats(result.files)


def _stream_line(line: str) -> None:
    # Test output goes to stderr as it arrives, so stdout stays one document.
    console.info(line)


def _print_stats(files: list[FileStat]) -> None:
    added = sum(f.added for f in files)
    deleted = sum(f.deleted for f in files)
    console.say(f" {console.plural(len(files), 'file')} changed, +{added} -{deleted}")


@git_app.command()
def push(
    ctx: typer.Context,
    remote: Annotated[str | None, typer.Argument(help="A configured remote.")] = None,
    branch: Annotated[str | None, typer.Argument(help="The local branch to push.")] = None,
    force_with_lease: Annotated[
        bool, typer.Option("--force-with-lease", help="Overwrite, if nobody else pushed.")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Push a branch (default: the current one, to its upstream). Needs POLICY_GIT_ALLOW_PUSH."""
    result = _open(ctx).push(remote, branch, force_with_lease=force_with_lease)
    if json_output:
        console.print_json(result.to_dict())
        return
    where = f"{result.remote}/{result.target}"
    if result.up_to_date:
        console.say(f"{where} is already up to date")
        return
    moved = f"{result.old}..{result.new[:7]}" if result.old else f"new branch at {result.new[:7]}"
    upstream = ", upstream set" if result.set_upstream else ""
    console.say(f"pushed {result.branch} to {where} ({moved}{upstream})")


@git_app.command()
def pull(
    ctx: typer.Context,
    rebase: Annotated[bool, typer.Option("--rebase", help="Rebase instead of merging.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Pull the current branch's upstream (merge by default, or --rebase)."""
    result = _open(ctx).pull(rebase=rebase)
    if json_output:
        console.print_json(result.to_dict())
        return
    if result.up_to_date:
        console.say(f"already up to date with {result.upstream}")
        return
    old = (result.old or "")[:7] or "nothing"
    console.say(f"pulled {result.upstream}: {old}..{(result.new or '')[:7]}")
    _print_stats(result.files)


@git_app.command()
def log(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None, typer.Argument(metavar="[RANGE]", help="A..B, or a revision.")
    ] = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, help="At most this many.")] = 50,
    json_output: JsonOpt = False,
) -> None:
    """List commits, newest first (default: the history of HEAD)."""
    commits = _open(ctx).log(rev_range, limit=limit)
    if json_output:
        console.print_json([c.to_dict() for c in commits])
        return
    rows = [[c.short, c.date[:10], c.author, c.subject] for c in commits]
    console.table(["commit", "date", "author", "subject"], rows)


@git_app.command()
def branches(ctx: typer.Context, json_output: JsonOpt = False) -> None:
    """List local and remote-tracking branches with their upstreams."""
    found = _open(ctx).branches()
    if json_output:
        console.print_json([b.to_dict() for b in found])
        return
    rows = [
        ["*" if b.current else "", b.name, b.commit[:7], b.upstream or "",
         f"+{b.ahead} -{b.behind}" if b.upstream else "", b.subject]
        for b in found
    ]  # fmt: skip
    console.table(["current", "branch", "commit", "upstream", "ahead/behind", "subject"], rows)


@git_app.command()
def policy(json_output: JsonOpt = False) -> None:
    """Show the effective git policy and where each value came from."""
    from lynkr_cli.git.policy import policy_report
    from lynkr_cli.settings import load_settings

    rows = policy_report(load_settings())
    if json_output:
        console.print_json(rows)
        return
    console.table(
        ["setting", "environment", "value", "source"],
        [[r["setting"], r["env"], repr(r["value"]), r["source"]] for r in rows],
        row_styles=["dim" if r["source"] == "default" else "" for r in rows],
    )


@git_app.command()
def review(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None, typer.Argument(metavar="[RANGE]", help="A..B, or REV meaning REV..HEAD.")
    ] = None,
    staged: Annotated[bool, typer.Option("--staged", help="Review the staged changes.")] = False,
    llm: LlmOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Review changes: risk score 0-100 with reasons, and secrets (default: uncommitted)."""
    from lynkr_cli.git.commandviews import review_rows

    repo = _open(ctx)
    result = repo.review(rev_range, staged=staged)
    if llm:
        result.llm = _llm(lambda: _review_llm(repo, rev_range, staged, result))
    if json_output:
        console.print_json(result.to_dict())
        return
    console.say(f"risk {result.score}/100 ({result.level}) · {result.source}")
    for reason in result.reasons:
        console.say(f"  +{reason.points:<3} {reason.reason}")
    if not result.files:
        console.say("no changes to review")
    else:
        console.table(["file", "change", "+", "-", "notes"], review_rows(result))
    for s in result.secrets:
        console.say(console.Styled("secret", "red"), f" {s.path}:{s.line} {s.kind}")
    if result.llm and result.llm.get("text"):
        console.say(result.llm["text"])


def _review_llm(repo: Repo, rev_range: str | None, staged: bool, result: Any) -> dict[str, Any]:
    from lynkr_cli.git.llm import llm_review

    if rev_range is not None:
        patch = repo.diff(rev_range=rev_range if ".." in rev_range else f"{rev_range}..HEAD")
    else:
        patch = repo.diff(staged=True) if staged else repo.uncommitted()
    return llm_review(result, patch.patch)


def _llm(call: Any) -> dict[str, Any]:
    """Run an --llm call; on failure say why on stderr and keep the deterministic report."""
    from lynkr_cli.errors import LynkrError

    try:
        return dict(call())
    except LynkrError as exc:
        console.warn(f"{exc.message} ({exc.hint})" if exc.hint else exc.message)
        return {"error": exc.message}


@git_app.command("release-notes")
def release_notes(
    ctx: typer.Context,
    rev_range: Annotated[
        str | None, typer.Argument(metavar="[FROM..TO]", help="Default: last tag..HEAD.")
    ] = None,
    llm: LlmOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Release notes grouped by conventional type, with PR numbers and authors (Markdown)."""
    notes = _open(ctx).release_notes(rev_range)
    if llm:
        from lynkr_cli.git.llm import llm_notes

        notes.llm = _llm(lambda: llm_notes(notes))
    if json_output:
        console.print_json(notes.to_dict())
        return
    text = (notes.llm or {}).get("text") or notes.markdown()
    typer.echo(text.rstrip("\n"))


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(git_app, name="git")
