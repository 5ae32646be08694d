"""Doctor checks of the tools around lynkr: git, the index, MCP servers, the cache, Docker.

Other packages own the logic (``lynkr_cli.git``, ``.index``, ``.mcp``); these
checks import them lazily and only interpret what they report.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli import paths
from lynkr_cli.console import plural
from lynkr_cli.registry import CheckResult, CheckStatus

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context
    from lynkr_cli.settings import Settings


def git_state(ctx: Context) -> CheckResult:
    if shutil.which("git", path=ctx.environ.get("PATH")) is None:
        return CheckResult.warn("git", "git is not on PATH", "Install git to use `lynkr git`.")
    from lynkr_cli.errors import LynkrError
    from lynkr_cli.git.api import open_repo

    try:
        repo = open_repo(ctx.cwd)
        status = repo.status()
    except LynkrError as exc:
        return CheckResult.skip("git", f"{ctx.cwd} is not a git repository ({exc.message})")
    dirty = len(status.staged) + len(status.unstaged) + len(status.untracked)
    branch = status.branch or f"detached at {(status.head or '')[:12]}"
    details: dict[str, Any] = {"root": status.root, "branch": status.branch, "dirty": dirty}
    if status.conflicted:
        return CheckResult.warn(
            "git",
            f"{branch}: {len(status.conflicted)} conflicted files",
            "Resolve the conflicts, then `lynkr git stage`.",
            **details,
        )
    if status.detached:
        return CheckResult.warn(
            "git",
            f"HEAD is {branch}",
            "Check out a branch before committing: `git switch -c NAME`.",
            **details,
        )
    summary = f"{status.root} on {branch}, {'clean' if not dirty else f'{dirty} changed files'}"
    return CheckResult.ok("git", summary, **details)


def git_policy(ctx: Context) -> CheckResult:
    from lynkr_cli.git.api import policy_report

    try:
        report = policy_report(ctx.loaded())
    except Exception as exc:
        return CheckResult.skip("git-policy", f"settings are invalid ({exc})")
    values = {row["setting"]: row["value"] for row in report}
    risky = [
        row["env"]
        for row in report
        if row["setting"].endswith(("force_push", "protected_push")) and row["value"]
    ]
    shown = ", ".join(
        f"{r['setting'].removeprefix('policy.git_')}={r['value']}"
        for r in report
        if isinstance(r["value"], bool)
    )
    if risky:
        return CheckResult.warn(
            "git-policy",
            f"force or protected-branch push is allowed ({shown})",
            f"Unset {' and '.join(risky)} unless you mean it.",
            policy=report,
        )
    return CheckResult.ok("git-policy", shown, policy=values)


def index_state(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    root = _repo_root(ctx.cwd)
    if settings is None or root is None:
        return CheckResult.skip("index", "not in a git repository")
    from lynkr_cli.errors import LynkrError
    from lynkr_cli.index import api

    db_path = api.index_path(root, settings.index)
    try:
        status = api.index_status(root)
        info = api.stats(root) if status != "missing" else {}
    except LynkrError as exc:
        return CheckResult.fail(
            "index", exc.message, exc.hint or f"Rebuild: `lynkr index --full {root}`."
        )
    except Exception as exc:  # a corrupt database is the index's problem, reported here
        return CheckResult.fail(
            "index", f"{db_path} cannot be read: {exc}", f"Rebuild it: `lynkr index --full {root}`."
        )
    if status == "missing":
        return CheckResult.warn(
            "index", f"no index at {db_path}", f"Build it: `lynkr index {root}`."
        )
    age = _age(float(info.get("built_at") or 0))
    files = info.get("files", "?")
    if status == "stale":
        return CheckResult.warn(
            "index",
            f"{db_path} is stale: files changed since it was built {age}",
            f"Refresh it: `lynkr index {root}` (incremental).",
            db=str(db_path),
        )
    return CheckResult.ok(
        "index", f"{plural(files, 'file')} indexed {age}, all fresh ({db_path})", db=str(db_path)
    )


def _age(built_at: float) -> str:
    if not built_at:
        return ""
    minutes = max(0, int((time.time() - built_at) / 60))
    return f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago"


def _repo_root(cwd: Path) -> Path | None:
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None


def grammars(ctx: Context) -> CheckResult:
    from lynkr_cli.index.api import grammar_modules, parser_path

    missing, found = [], {}
    for package, module in grammar_modules().items():
        if importlib.util.find_spec(module) is None:
            missing.append(package)
            continue
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    if missing:
        return CheckResult.warn(
            "grammars",
            f"missing grammar wheels: {', '.join(sorted(set(missing)))}",
            f"pip install {' '.join(sorted(set(missing)))}",
            found=found,
        )
    parser = parser_path()
    how = (
        "parsed by the C accelerator"
        if parser == "native"
        else "parsed by py-tree-sitter (the C accelerator is not built: reinstall lynkr "
        "with a C compiler and Python headers for a faster `lynkr index`)"
    )
    return CheckResult.ok(
        "grammars", f"{len(found)} grammar wheels present, {how}", found=found, parser=parser
    )


def mcp_manifests(ctx: Context) -> list[CheckResult]:
    settings = ctx.settings()
    if settings is None:
        return [CheckResult.skip("mcp", "settings are invalid")]
    from lynkr_cli.mcp.api import discover

    found = discover(settings, ctx.cwd, ctx.environ)
    names = sorted(found.servers)
    status: CheckStatus = "warn" if found.problems else "ok"
    summary = f"{len(names)} MCP servers: {', '.join(names) or 'none'}"
    if found.problems:
        summary += f"; problems: {'; '.join(found.problems)}"
    out = [
        CheckResult(
            "mcp",
            status,
            summary,
            "Fix the files named above." if found.problems else None,
            {"servers": names, "searched": found.searched},
        )
    ]
    if ctx.deep:
        out += [_start(s, settings, ctx) for s in found.servers.values() if not s.disabled]
    return out


def _start(server: Any, settings: Settings, ctx: Context) -> CheckResult:
    from lynkr_cli.mcp.api import probe as mcp_probe

    async def bounded() -> Any:
        return await asyncio.wait_for(mcp_probe(server, settings, ctx.cwd), timeout=60)

    try:
        report = asyncio.run(bounded())
    except TimeoutError:
        return CheckResult.fail(
            f"mcp:{server.name}",
            "did not start within 60s",
            f"Run it by hand: `lynkr mcp start {server.name}`.",
        )
    if not report.ok:
        return CheckResult.fail(
            f"mcp:{server.name}",
            f"failed to start: {report.error}",
            f"Run it by hand: `lynkr mcp start {server.name}`.",
            stderr=report.stderr,
        )
    return CheckResult.ok(
        f"mcp:{server.name}", f"started in {report.ms} ms, {plural(len(report.tools), 'tool')}"
    )


def cache_dir(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("cache", "settings are invalid")
    if not settings.cache.enabled:
        return CheckResult.ok("cache", "prompt cache disabled (LYNKR_CACHE=0)")
    directory = Path(settings.cache.directory or paths.cache_dir() / "prompt-cache")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
            pass
    except OSError as exc:
        return CheckResult.fail(
            "cache",
            f"{directory} is not writable: {exc.strerror or exc}",
            "Fix its permissions, or set LYNKR_CACHE_DIR to a writable directory.",
        )
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    limit = settings.cache.size_limit_mb
    return CheckResult.ok(
        "cache",
        f"{directory} writable, {size / 1e6:.1f} MB of {limit} MB",
        directory=str(directory),
        bytes=size,
    )


def docker(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("docker", "settings are invalid")
    from lynkr_cli.mcp.api import discover

    sandboxed = [
        s.name for s in discover(settings, ctx.cwd, ctx.environ).servers.values() if s.sandbox
    ]
    if not sandboxed:
        return CheckResult.skip("docker", "no MCP server uses a sandbox")
    from lynkr_cli.errors import LynkrError
    from lynkr_cli.mcp.api import ensure_engine

    try:
        client = ensure_engine(timeout=max(ctx.timeout, 5.0))
    except LynkrError as exc:
        return CheckResult.fail(
            "docker",
            f"{exc.message} (needed by {', '.join(sandboxed)})",
            exc.hint or "Start Docker.",
        )
    return CheckResult.ok("docker", f"Docker engine reachable via {client}")


CHECKS: list[tuple[str, str, Callable[..., object]]] = [
    ("git", "git", git_state),
    ("git-policy", "git", git_policy),
    ("index", "index", index_state),
    ("grammars", "index", grammars),
    ("mcp", "mcp", mcp_manifests),
    ("cache", "cache", cache_dir),
    ("docker", "mcp", docker),
]
