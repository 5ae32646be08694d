"""Start-up time of `lynkr --help` (and `lynkr git status --json` in a small repository), as
a ratio to `python -c "import typer"` in the same run.

Both are whole processes, started the same way from this interpreter and run
interleaved so that machine noise hits them equally. Prints medians and the ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("BENCH_RUNS", "25"))
CASES = {
    "python -c 'import typer' (baseline)": [sys.executable, "-c", "import typer"],
    "lynkr --help": [sys.executable, "-m", "lynkr_cli", "--help"],
    "lynkr --version": [sys.executable, "-m", "lynkr_cli", "--version"],
    "lynkr git status --json": [sys.executable, "-m", "lynkr_cli", "git", "status", "--json"],
}


def _time(argv: list[str], env: dict[str, str], cwd: str | None = None) -> float:
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
    return repo


def main() -> None:
    env_note = os.environ.get("LYNKR_LOAD_PLUGINS")
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        # .pyc files written once (in tmp), whatever PYTHONDONTWRITEBYTECODE says.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = tmp
        # Every case runs in the small repository (only git status looks at it).
        repo = _small_repo(tmp)
        for argv in CASES.values():  # warm the page cache and .pyc files
            _time(argv, env, repo)
        for _ in range(RUNS):
            for name, argv in CASES.items():
                samples[name].append(_time(argv, env, repo))
    baseline = statistics.median(samples[next(iter(CASES))])
    print(f"start-up, median of {RUNS} runs (LYNKR_LOAD_PLUGINS={env_note!r})")
    print(f"{'command':40} {'median ms':>10} {'p90 ms':>8} {'ratio':>7}")
    for name, values in samples.items():
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:40} {med * 1000:10.1f} {p90 * 1000:8.1f} {med / baseline:7.2f}x")


if __name__ == "__main__":
    main()
