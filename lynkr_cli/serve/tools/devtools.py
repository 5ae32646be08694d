"""The git, index and test-runner tools: thin adapters over ``lynkr git`` and ``lynkr index``.

Nothing is reimplemented here. The git tools call :mod:`lynkr_cli.git.api` with the
policy built from the same settings as ``lynkr git``; the index tools call
:mod:`lynkr_cli.index.api`; ``lynkr_run_tests`` runs the git policy's discovered (or
configured) test command as an argument list, with ``policy.test_timeout``, and is an
``exec`` tool, so it is offered only when ``policy.tools_allow_exec`` is on.
Everything runs in a worker thread: git and the index are blocking. Patches go
through :func:`lynkr_cli.git.secrets.redact_patch` (secret files' hunks withheld).
"""

from __future__ import annotations

import asyncio
from typing import Any

from lynkr_cli.registry import ToolSpec
from lynkr_cli.serve.tools.base import (
    BOOL,
    INT,
    STR,
    ToolContext,
    arg_bool,
    arg_int,
    arg_str,
    spec,
)
from lynkr_cli.serve.tools.base import described as _d  # short: the spec tables below
from lynkr_cli.serve.tools.workspace import confine, relative

MAX_PATCH_CHARS = 40_000


def _repo(ctx: ToolContext) -> Any:
    from lynkr_cli.git.api import GitPolicy, open_repo

    return open_repo(ctx.root, policy=GitPolicy.from_settings(ctx.settings.policy))


def _paths(ctx: ToolContext, args: dict[str, Any]) -> list[str]:
    raw = args.get("paths") or []
    if isinstance(raw, str):
        raw = [raw]
    # Confined like every other path, then handed to git relative to the root.
    return [relative(ctx.root, confine(ctx.root, str(p))) for p in raw]


def _range(args: dict[str, Any]) -> str | None:
    value = args.get("rev_range")
    return str(value) if value else None


def _status(args: dict[str, Any], ctx: ToolContext) -> Any:
    return _repo(ctx).status().to_dict()


def _diff(args: dict[str, Any], ctx: ToolContext) -> Any:
    diff = _repo(ctx).diff(
        staged=arg_bool(args, "staged", False), paths=_paths(ctx, args), rev_range=_range(args)
    )
    return _with_patch({}, diff.to_dict(), ctx)


def _show(args: dict[str, Any], ctx: ToolContext) -> Any:
    rev = arg_str(args, "rev", "HEAD")
    commit, diff = _repo(ctx).show(rev, paths=_paths(ctx, args))
    return _with_patch({"commit": commit.to_dict()}, diff.to_dict(), ctx)


def _with_patch(head: dict[str, Any], doc: dict[str, Any], ctx: ToolContext) -> str:
    """The diff's summary as JSON, then its patch: secret files withheld, secrets masked."""
    from lynkr_cli.git.secrets import redact_patch

    patch = redact_patch(str(doc.pop("patch", "") or ""), ctx.known)
    if len(patch) > MAX_PATCH_CHARS:
        patch = patch[:MAX_PATCH_CHARS] + "\n… [patch truncated; pass paths to see the rest]"
    summary = head | {k: v for k, v in doc.items() if k != "files"} | {"files": doc.get("files")}
    return f"{_json(summary)}\n\n{patch or '(no changes)'}"


def _log(args: dict[str, Any], ctx: ToolContext) -> Any:
    limit = arg_int(args, "limit", 20, lo=1, hi=200) or 20
    return [c.to_dict() for c in _repo(ctx).log(_range(args), limit=limit)]


def _review(args: dict[str, Any], ctx: ToolContext) -> Any:
    review = _repo(ctx).review(_range(args), staged=arg_bool(args, "staged", False))
    return review.to_dict()


def _run_tests(args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.git.api import GitPolicy, run_project_tests

    # The same resolution as the pre-commit test run: explicit command, else discovered.
    return run_project_tests(ctx.root, GitPolicy(ctx.settings.policy)).to_dict()


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=1, default=str)


def _threaded(func: Any) -> Any:
    async def run(args: dict[str, Any], ctx: ToolContext) -> Any:
        return await asyncio.to_thread(func, args, ctx)

    return run


# --------------------------------------------------------------------------- index


def _index_call(name: str, args: dict[str, Any], ctx: ToolContext) -> Any:
    from lynkr_cli.serve.tools import indextools

    return getattr(indextools, name)(args, ctx)


def _index(name: str) -> Any:
    return _threaded(lambda args, ctx: _index_call(name, args, ctx))


# --------------------------------------------------------------------------- specs


def dev_tools() -> list[ToolSpec]:
    rng = _d("A revision range like 'main..HEAD' or 'HEAD~3..HEAD'.")
    paths = {"type": "array", "items": STR, "description": "Limit to these paths."}
    return [
        spec("lynkr_git_status", "The git status of the workspace: branch, ahead/behind, "
             "staged, unstaged and untracked files.", {}, [], "read", _threaded(_status)),
        spec("lynkr_git_diff", "The git diff of the workspace: unstaged changes by default, "
             "staged changes with staged=true, or a commit range like 'HEAD~1..HEAD'.",
             {"staged": _d("Show staged changes.", BOOL), "rev_range": rng, "paths": paths},
             [], "read", _threaded(_diff)),
        spec("lynkr_git_log", "Recent commits, newest first (messages only; "
             "lynkr_git_show gives one commit's changes).",
             {"rev_range": rng, "limit": _d("At most this many (default 20).", INT)},
             [], "read", _threaded(_log)),
        spec("lynkr_git_show", "One commit: its message and its patch against its parent.",
             {"rev": _d("A commit, branch or tag; default HEAD."), "paths": paths},
             [], "read", _threaded(_show)),
        spec("lynkr_git_review", "A deterministic review of changes (range, staged or all "
             "uncommitted): risk score, reasons, possible secrets.",
             {"rev_range": rng, "staged": _d("Review staged changes.", BOOL)},
             [], "read", _threaded(_review)),
        spec("lynkr_run_tests", "Run the workspace's test command (discovered, or "
             "POLICY_GIT_TEST_COMMAND) and return the exit code and output tail.",
             {}, [], "exec", _threaded(_run_tests)),
        spec("lynkr_symbols", "Find symbol definitions (functions, classes, methods) in the "
             "code index by name; indexes the workspace first if needed.",
             {"query": _d("A symbol name or prefix."), "kind": _d("Optional kind filter."),
              "limit": _d("At most this many (default 50).", INT)},
             ["query"], "read", _index("symbols")),
        spec("lynkr_references", "Find references to a symbol in the code index.",
             {"name": _d("The symbol name."), "limit": _d("At most this many.", INT)},
             ["name"], "read", _index("references")),
        spec("lynkr_repo_map", "A ranked map of the repository's most important files and "
             "symbols, from the code index.",
             {"max_chars": _d("Size budget in characters (default 8000).", INT)},
             [], "read", _index("repo_map")),
    ]  # fmt: skip
