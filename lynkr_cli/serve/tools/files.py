"""The workspace file tools: read a file, list files, search text.

All paths go through :mod:`lynkr_cli.serve.tools.workspace`; all output is bounded.
The search runs ripgrep when it is on PATH (argument list, ``--`` before the
pattern, so a pattern like ``--pre=sh`` is a pattern and never an option) and a
pure-Python scan otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import re
import shutil
from pathlib import Path
from typing import Any

from lynkr_cli.errors import UsageError
from lynkr_cli.git.secrets import SECRET_NAMES, redact_window
from lynkr_cli.procenv import child_env
from lynkr_cli.serve.tools.base import ToolContext, arg_bool, arg_int, arg_str
from lynkr_cli.serve.tools.workspace import (
    IGNORED_DIRS,
    is_binary,
    is_secret_file,
    readable_file,
    relative,
    walk_files,
    walk_start,
)

MAX_READ_BYTES = 2_000_000
DEFAULT_READ_LINES = 400
MAX_LIST = 2000
MAX_MATCHES = 500
MAX_LINE_CHARS = 300
SEARCH_FILE_BYTES = 2_000_000


# --------------------------------------------------------------------------- read


def read_lines(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Numbered lines ``start_line..end_line`` (1-based, inclusive) of one file."""
    path = readable_file(ctx.root, arg_str(args, "path"))
    start = arg_int(args, "start_line", 1, lo=1, hi=10**9) or 1
    end = arg_int(args, "end_line", None, lo=1, hi=10**9)
    if end is not None and end < start:
        raise UsageError(f"end_line {end} is before start_line {start}")
    stop = end if end is not None else start + DEFAULT_READ_LINES - 1
    with path.open("rb") as handle:
        data = handle.read(MAX_READ_BYTES)
    if is_binary(data):
        return f"{relative(ctx.root, path)} is a binary file ({path.stat().st_size} bytes)"
    lines = data.decode("utf-8", errors="replace").splitlines()
    # Redacted as this file's kind of content (an .env template loses every value).
    chosen = redact_window(lines, start - 1, stop, path.name, ctx.known)
    body = "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(chosen, start))
    header = f"{relative(ctx.root, path)} lines {start}-{start + len(chosen) - 1} of {len(lines)}"
    more = "" if stop >= len(lines) else f"\n… more lines follow; ask for start_line={stop + 1}"
    return f"{header}\n{body}{more}"


async def read_file(args: dict[str, Any], ctx: ToolContext) -> str:
    return await asyncio.to_thread(read_lines, ctx, args)


# --------------------------------------------------------------------------- list


def list_paths(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Relative paths of files under ``path`` matching ``pattern`` (a glob)."""
    start = walk_start(ctx.root, arg_str(args, "path", "."))
    pattern = arg_str(args, "pattern", "*")
    limit = arg_int(args, "max_results", 500, lo=1, hi=MAX_LIST) or 500
    if not start.exists():
        raise UsageError(f"no such directory: {relative(ctx.root, start)}")
    found: list[str] = []
    for path in walk_files(ctx.root, start):
        rel = relative(ctx.root, path)
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(rel, pattern):
            found.append(rel)
            if len(found) > limit:
                break
    more = len(found) > limit
    lines = found[:limit]
    if more:
        lines.append(f"… more than {limit} files; narrow path or pattern")
    return "\n".join(lines) if lines else "(no files)"


async def list_files(args: dict[str, Any], ctx: ToolContext) -> str:
    return await asyncio.to_thread(list_paths, ctx, args)


# --------------------------------------------------------------------------- search


def _compile(args: dict[str, Any]) -> re.Pattern[str]:
    pattern = arg_str(args, "pattern")
    if not pattern:
        raise UsageError("pattern must not be empty")
    flags = 0 if arg_bool(args, "case_sensitive", True) else re.IGNORECASE
    source = pattern if arg_bool(args, "regex", True) else re.escape(pattern)
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise UsageError(f"invalid regular expression: {exc}") from exc


def _clip(line: str) -> str:
    line = line.rstrip("\r\n")
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + "…"


def _file_gate(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """One whole-file search that rejects most files before the per-line scan.

    Any line match is also a MULTILINE match of the whole text, so the gate never drops
    a file that has a hit. Patterns with ``$`` (which would not match before the ``\\r``
    of a CRLF line), ``\\A`` or ``\\Z`` skip the gate.
    """
    if any(token in regex.pattern for token in ("$", "\\A", "\\Z")):
        return None
    return re.compile(regex.pattern, regex.flags | re.MULTILINE)


def python_search(ctx: ToolContext, args: dict[str, Any], limit: int) -> list[str]:
    """``path:line: text`` matches, scanning files in Python (no ripgrep)."""
    regex = _compile(args)
    gate = _file_gate(regex)
    start = walk_start(ctx.root, arg_str(args, "path", "."))
    glob = arg_str(args, "glob", "*")
    hits: list[str] = []
    for path in walk_files(ctx.root, start):
        if not fnmatch.fnmatch(path.name, glob) or _secret(ctx.root, path):
            continue
        try:
            with path.open("rb") as handle:
                data = handle.read(SEARCH_FILE_BYTES)
        except OSError:
            continue
        if is_binary(data):
            continue
        text = data.decode("utf-8", "replace")
        if gate is not None and gate.search(text) is None:
            continue
        rel = relative(ctx.root, path)
        for number, line in enumerate(text.splitlines(), 1):
            if regex.search(line):
                hits.append(f"{rel}:{number}: {_clip(ctx.redact(line, path.name))}")
                if len(hits) > limit:
                    return hits
    return hits


def rg_argv(rg: str, ctx: ToolContext, args: dict[str, Any]) -> list[str]:
    """The ripgrep argument list; the model's pattern sits after ``--``."""
    pattern = arg_str(args, "pattern")
    if not pattern:
        raise UsageError("pattern must not be empty")
    start = walk_start(ctx.root, arg_str(args, "path", "."))
    # Same files as the Python fallback: hidden files yes, .gitignore no, the same
    # ignored directories and secret names excluded, results in path order.
    argv = [rg, "--json", "--max-filesize", "2M", "--no-config", "--hidden", "--no-ignore",
            "--sort", "path"]  # fmt: skip
    for directory in sorted(IGNORED_DIRS):
        argv += ["--glob", f"!{directory}"]
    if not arg_bool(args, "case_sensitive", True):
        argv.append("--ignore-case")
    if not arg_bool(args, "regex", True):
        argv.append("--fixed-strings")
    glob = arg_str(args, "glob", "*")
    if glob != "*":
        argv += ["--glob", glob]
    # ".env.*" stays out of the globs so .env.example is searched; _rg_hit drops the rest.
    for secret in SECRET_NAMES:
        if secret != ".env.*":
            argv += ["--glob", f"!{secret}"]
    return [*argv, "--", pattern, str(start)]


# ripgrep gets this long; past it, it is killed and the Python scan answers instead.
RG_SECONDS = 20.0


async def rg_search(rg: str, ctx: ToolContext, args: dict[str, Any], limit: int) -> list[str]:
    """Matches through ripgrep; TimeoutError when it did not finish in :data:`RG_SECONDS`."""
    argv = rg_argv(rg, ctx, args)
    # No stdin (nothing to wait for) and no stderr pipe (never read, so never full).
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, cwd=ctx.root, env=child_env(),
    )  # fmt: skip
    hits: list[str] = []
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(RG_SECONDS):
            async for raw in proc.stdout:
                hit = _rg_hit(ctx, raw)
                if hit is not None:
                    hits.append(hit)
                    if len(hits) > limit:
                        break
    finally:
        if proc.returncode is None:
            proc.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 5.0)
    return hits


def _rg_hit(ctx: ToolContext, raw: bytes) -> str | None:
    event = json.loads(raw)
    if event.get("type") != "match":
        return None
    data = event["data"]
    path = Path(data["path"].get("text", ""))
    if _secret(ctx.root, path):
        return None
    text = ctx.redact(data["lines"].get("text", "").rstrip("\r\n"), path.name)
    return f"{relative(ctx.root, path.resolve())}:{data['line_number']}: {_clip(text)}"


def _secret(root: Path, path: Path) -> bool:
    """A secret by its own name, or through a symlink with an innocent name."""
    if is_secret_file(path, root):
        return True
    return path.is_symlink() and is_secret_file(path.resolve(), root)


async def search(args: dict[str, Any], ctx: ToolContext) -> str:
    limit = arg_int(args, "max_results", 100, lo=1, hi=MAX_MATCHES) or 100
    rg = shutil.which("rg")
    hits: list[str] | None = None
    if rg is not None:
        with contextlib.suppress(TimeoutError):  # a stuck ripgrep: the Python scan answers
            hits = await rg_search(rg, ctx, args, limit)
    if hits is None:
        hits = await asyncio.to_thread(python_search, ctx, args, limit)
    if not hits:
        return "(no matches)"
    if len(hits) > limit:
        hits = [*hits[:limit], f"… more than {limit} matches; narrow the pattern or path"]
    return "\n".join(hits)
