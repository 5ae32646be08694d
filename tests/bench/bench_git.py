"""Benchmark: lynkr git's API against the raw git commands it wraps, in one run.

    .venv/bin/python tests/bench/bench_git.py [--files 400] [--commits 600] [--repeat 5]

Builds a synthetic repository in a temporary directory (git fast-import): many
files and a history of conventional commits with PR merges, then a large
uncommitted change with a few secrets in it. Each row times a lynkr operation and
its baseline, the bare git subprocess(es) it needs (for the secret scan: one regex
instead of every detector), and prints the median times and
their ratio. The ratio is lynkr's cost of parsing, policy and analysis on top of
git; the last row is the whole CLI process (Python start-up included). Always exits 0.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lynkr_cli.git.api import GitPolicy, open_repo  # noqa: E402
from lynkr_cli.git.secrets import scan  # noqa: E402

ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
TYPES = ("feat", "fix", "perf", "docs", "refactor", "chore")


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True, timeout=120
    ).stdout


def _source(i: int, rev: int) -> str:
    body = "".join(f"    value_{j} = {j} * {rev}\n" for j in range(20))
    return f"def public_{i}():\n{body}    return {rev}\n\n\ndef _private_{i}():\n    pass\n"


def fast_import(files: int, commits: int) -> bytes:
    """A fast-import stream: the files, then ``commits`` commits touching a few each."""
    out: list[str] = []
    for n in range(commits):
        mark = n + 1
        kind = TYPES[n % len(TYPES)]
        msg = f"{kind}(mod{n % 7}): change number {n} (#{1000 + n})\n"
        if n % 50 == 0:
            msg += "\nBREAKING CHANGE: an interface moved\n"
        data = msg.encode()
        out.append(f"commit refs/heads/main\nmark :{mark}\n")
        out.append(f"committer Bench <bench@example.com> {1_700_000_000 + n * 60} +0000\n")
        out.append(f"data {len(data)}\n{msg}\n")
        touched = range(files) if n == 0 else [(n * 7 + k) % files for k in range(3)]
        for i in touched:
            text = _source(i, n).encode()
            out.append(f"M 100644 inline src/pkg{i % 20}/mod_{i}.py\ndata {len(text)}\n")
            out.append(text.decode() + "\n")
    return "".join(out).encode()


def build_repo(base: Path, files: int, commits: int) -> Path:
    work = base / "repo"
    git(base, "init", "-q", "-b", "main", str(work))
    git(work, "fast-import", "--quiet", stdin=fast_import(files, commits))
    git(work, "reset", "-q", "--hard", "main")
    git(work, "tag", "v1.0.0", f"main~{commits // 2}")
    # A large uncommitted change: every 4th file rewritten, some functions deleted, a few secrets.
    for i in range(0, files, 4):
        path = work / f"src/pkg{i % 20}/mod_{i}.py"
        text = _source(i, 99_999) if i % 8 else "# emptied\n"
        if i % 40 == 0:
            text += 'TOKEN = "' + "ghp_" + "Zq7xK2mP9vL4tR8wY3nB6cJ1hF5gD0sAabcd" + '"\n'
        path.write_text(text)
    return work


def cli(work: Path, *args: str) -> bytes:
    """The whole command line tool, as a user or CI script runs it (process start included)."""
    lynkr = ROOT / ".venv" / "bin" / "lynkr"
    return subprocess.run(
        [str(lynkr), "-q", "git", *args, "--json"],
        cwd=work,
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def one_regex(lines: list[tuple[int, str]]) -> list[int]:
    """The baseline scanner: a single detector (GitHub tokens) over the same lines."""
    pattern = re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}")
    return [n for n, text in lines if pattern.search(text)]


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the page cache and git's index stat data
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(ENV)
    with tempfile.TemporaryDirectory(prefix="lynkr-bench-git-") as tmp:
        t0 = time.perf_counter()
        work = build_repo(Path(tmp), args.files, args.commits)
        print(
            f"repository: {args.files} files, {args.commits} commits, built in "
            f"{time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
        repo = open_repo(work, policy=GitPolicy())
        patch = git(work, "diff", "HEAD").decode()
        lines = [(n, line[1:]) for n, line in enumerate(patch.splitlines()) if line[:1] == "+"]
        rows = [
            (
                "status",
                repo.status,
                lambda: git(work, "status", "--porcelain=v2", "--branch", "-z"),
            ),
            (
                "diff (unstaged)",
                repo.diff,
                lambda: (git(work, "diff", "--numstat", "-z"), git(work, "diff")),
            ),
            (
                "log -n 200",
                lambda: repo.log(limit=200),
                lambda: git(work, "log", "-n", "200", "--format=%H %s"),
            ),
            ("review (uncommitted)", repo.review, lambda: git(work, "diff", "HEAD")),
            (
                "release notes (tag..HEAD)",
                lambda: repo.release_notes().markdown(),
                lambda: git(work, "log", "v1.0.0..HEAD", "--format=%H %s"),
            ),
            ("secret scan of added lines", lambda: scan("x", lines), lambda: one_regex(lines)),
            (
                "`lynkr git status --json`",
                lambda: cli(work, "status"),
                lambda: git(work, "status", "--porcelain=v2", "--branch", "-z"),
            ),
        ]
        print(f"{'operation':28} {'lynkr ms':>10} {'baseline ms':>12} {'ratio':>7}")
        print(f"{'':28} {'':>10} {'(raw git)':>12}")
        for name, ours, baseline in rows:
            mine = timed(ours, args.repeat)
            base = timed(baseline, args.repeat)
            print(f"{name:28} {mine * 1000:10.1f} {base * 1000:12.1f} {mine / base:7.2f}x")
        review = repo.review()
        print(
            f"\nreview: {len(review.files)} files, +{review.added} -{review.deleted}, "
            f"score {review.score}, {len(review.secrets)} secrets, "
            f"{len(review.deleted_symbols)} deleted symbols; "
            f"{len(lines)} added lines scanned"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
