"""Start-up time of `lynkr --help`, `lynkr git status --json` (in a small repository) and
`lynkr index` with nothing to do, as a ratio to `python -c "import typer"` in the same run.

    .venv/bin/python tests/bench/bench_startup.py [--against DIR] [--runs N]

Every case is a whole process, started the same way from this interpreter, and the
cases run interleaved so that machine noise hits them equally. Prints medians, p90 and
the ratio. ``--against DIR`` times every lynkr case a second time with another
checkout's ``lynkr_cli`` first on ``PYTHONPATH`` (``git archive main | tar -x -C DIR``),
interleaved with this one, and prints this tree's median over that one's.

The user folders are fresh ones in a temporary directory (``XDG_*``, not ``LYNKR_HOME``,
so platformdirs is on the path as for a user), warmed by one run: the settings
snapshot (``snapshot.py``) is in place, as it is for every command after the first.
The row "(settings validated)" deletes the snapshot before each run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

CASES: dict[str, list[str]] = {
    "python -c 'import typer' (baseline)": ["-c", "import typer"],
    "lynkr --help": ["-m", "lynkr_cli", "--help"],
    "lynkr --version": ["-m", "lynkr_cli", "--version"],
    "lynkr git status --json": ["-m", "lynkr_cli", "git", "status", "--json"],
    "lynkr git status --json (settings validated)": [
        "-m", "lynkr_cli", "git", "status", "--json"
    ],
    "lynkr index --no-claude-md (nothing to do)": ["-m", "lynkr_cli", "index", "--no-claude-md"],
}  # fmt: skip
VALIDATED = "(settings validated)"


def _time(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    return time.perf_counter() - start


def _small_repo(root: str) -> str:
    """A repository of three files, one changed: git's own work stays negligible."""
    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    for i in range(3):
        with open(os.path.join(repo, f"f{i}.py"), "w") as fh:
            fh.write(f"x = {i}\n")
    git = ["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run([*git, *args], check=True)
    with open(os.path.join(repo, "f0.py"), "a") as fh:
        fh.write("y = 1\n")
    with open(os.path.join(repo, ".git", "info", "exclude"), "a") as fh:
        fh.write(".lynkr/\n")  # the index of the `index` row does not change git status
    return repo


def _env(tmp: str, tree: str, against: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNKR_")}
    # lynkr alone: the first-party plugins `make venv` installs (plugins/) would send
    # every command through the full CLI (entry.py leaves it any plugin that would load).
    env["LYNKR_LOAD_PLUGINS"] = ""
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # .pyc files written once (in tmp)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, f"pycache-{tree}")
    for kind in ("CONFIG", "CACHE", "DATA", "STATE"):
        env[f"XDG_{kind}_HOME"] = os.path.join(tmp, tree, kind.lower())
    if against is not None:
        env["PYTHONPATH"] = against
    return env


def _prepare(name: str, env: dict[str, str]) -> Callable[[], None]:
    cache = os.path.join(env["XDG_CACHE_HOME"], "lynkr")
    if name.endswith(VALIDATED):
        return lambda: shutil.rmtree(cache, ignore_errors=True)
    return lambda: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="another checkout to time interleaved with this one")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "25")))
    args = parser.parse_args()
    trees = ["this"] if args.against is None else ["this", "against"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        repos = {tree: _small_repo(os.path.join(tmp, tree)) for tree in trees}
        runs: list[tuple[str, str, list[str], dict[str, str], Callable[[], None]]] = []
        for name, argv in CASES.items():
            for tree in trees if name.startswith("lynkr") else ["this"]:
                env = _env(tmp, tree, args.against if tree == "against" else None)
                runs.append((name, tree, [sys.executable, *argv], env, _prepare(name, env)))
        for _, tree, argv, env, prepare in runs * 2:  # warm the page cache, .pyc, snapshot
            prepare()
            _time(argv, env, repos[tree])
        samples: dict[tuple[str, str], list[float]] = {(n, t): [] for n, t, *_ in runs}
        loads = []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            for name, tree, argv, env, prepare in runs:
                prepare()
                samples[(name, tree)].append(_time(argv, env, repos[tree]))
    baseline = statistics.median(samples[(next(iter(CASES)), "this")])
    print(f"start-up, median of {args.runs} interleaved runs; load average (1 min) "
          f"{min(loads):.1f}-{max(loads):.1f}")  # fmt: skip
    head = f"{'command':46} {'median ms':>10} {'p90 ms':>8} {'ratio':>7}"
    print(head + (f" {'against ms':>11} {'this/against':>13}" if args.against else ""))
    for name in CASES:
        values = samples[(name, "this")]
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        line = f"{name:46} {med * 1000:10.1f} {p90 * 1000:8.1f} {med / baseline:7.2f}x"
        if (name, "against") in samples:
            other = statistics.median(samples[(name, "against")])
            line += f" {other * 1000:11.1f} {med / other:12.2f}x"
        print(line)


if __name__ == "__main__":
    main()
