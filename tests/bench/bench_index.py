"""Benchmark: `lynkr index` against universal-ctags and a plain tree-sitter indexer, in one run.

    .venv/bin/python tests/bench/bench_index.py [--repeat 5] [--against DIR]

Corpus: the running interpreter's stdlib (``sysconfig.get_paths()["stdlib"]``),
``*.py`` files only, without ``test``/``tests``/``idle_test`` packages and
``site-packages``, copied to a temporary directory that is NOT a git repository
(so lynkr walks it and honours ``.gitignore`` files, as ctags walks it).

Every lynkr figure is a whole command (``.venv/bin/lynkr index …`` as a
subprocess, process start included), with ``--no-claude-md`` unless the row says
otherwise; each is the median of ``--repeat`` runs, taken in rounds that time every
row once, so that the machine's drift falls on all rows alike. Rows:

- ctags: ``ctags -R -f <tmp> .`` (the baseline of issue 4);
- tree-sitter reference: ``tests/fixtures/bench/ts_index.py ROOT DB --jobs 2``, a plain
  indexer that parses with the same grammar, runs the wheel's tags query and writes
  definitions and references to SQLite with ``Pool(2)`` (the baseline of issue 16:
  lynkr's cold run must take no longer, while doing everything lynkr does);
- cold: no index, parse everything (both cores);
- no change: a second run that finds nothing to do;
- one file changed: one file edited between runs;
- cold + CLAUDE.md: the default command (repo map and CLAUDE.md included);
- with ``--against DIR`` (another checkout, e.g. ``git archive main | tar -x -C DIR``):
  cold, no change and one file changed again, with DIR's ``lynkr_cli`` first on
  ``PYTHONPATH``, on a corpus copy of its own, in the same rounds.

The user folders are fresh ones (``XDG_*``, as for a user without ``LYNKR_HOME``); the
warm-up run leaves the settings snapshot in place, as every run after a user's first
finds it.

Recall: the (file, line, name) of every ctags class/function/member definition
(``--fields=+nK``) against lynkr's definitions. Always exits 0: it reports.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LYNKR = ROOT / ".venv" / "bin" / "lynkr"
REFERENCE = ROOT / "tests" / "fixtures" / "bench" / "ts_index.py"
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
CTAGS_KINDS = {"class", "function", "member"}


def copy_corpus(dest: Path) -> tuple[int, int]:
    src = Path(sysconfig.get_paths()["stdlib"])
    files = size = 0
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        if SKIP_DIRS & set(rel.parts[:-1]):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        files += 1
        size += target.stat().st_size
    return files, size


CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str], label: str = "") -> float:
    """Wall seconds of one whole command; its CPU seconds (workers included) go to CPU."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, timeout=600)
    wall = time.perf_counter() - started
    CPU.setdefault(label, []).append(_children_cpu() - cpu)
    return wall


def median_of(repeat: int, prepare: Callable[[], None], run: Callable[[], float]) -> float:
    samples = []
    for _ in range(repeat):
        prepare()
        samples.append(run())
    return statistics.median(samples)


IN_PROCESS = """
import sys, time
from lynkr_cli.index import api
from lynkr_cli.settings import get_settings
get_settings()  # settings are loaded by the CLI before any command runs
started = time.perf_counter()
api.build(sys.argv[1], full=sys.argv[2] == "1")
print(time.perf_counter() - started)
"""


def in_process(corpus: Path, env: dict[str, str], full: bool) -> float:
    """The indexer's own time: a build timed inside the process, start-up excluded."""
    proc = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(corpus), "1" if full else "0"],
        cwd=corpus, env=env, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return float(proc.stdout.strip())


def load_average() -> str:
    try:
        return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        return "?"


def ctags_definitions(corpus: Path, out: Path) -> set[tuple[str, int, str]]:
    subprocess.run(
        ["ctags", "-R", "--fields=+nK", "--languages=Python", "-f", str(out), "."],
        cwd=corpus, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    found = set()
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("!_"):
            continue
        parts = line.split("\t")
        fields = dict(p.split(":", 1) for p in parts[3:] if ":" in p)
        kind = next((p for p in parts[3:] if ":" not in p), "")
        if kind in CTAGS_KINDS and "line" in fields:
            found.add((parts[1].removeprefix("./"), int(fields["line"]), parts[0]))
    return found


def lynkr_definitions(db: Path) -> set[tuple[str, int, str]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT f.path, s.line, s.name FROM symbols s JOIN files f ON f.id = s.file_id "
        "WHERE s.kind IN ('class', 'function', 'method')"
    ).fetchall()
    conn.close()
    return {(p, int(line), n) for p, line, n in rows}


def _user_dirs(home: Path) -> dict[str, str]:
    return {
        f"XDG_{kind}_HOME": str(home / kind.lower())
        for kind in ("CONFIG", "CACHE", "DATA", "STATE")
    }


def _against_steps(
    base: Path, corpus: Path, lynkr: list[str], other: str, places: dict[str, Any], env: Any
) -> list[tuple[str, Callable[[], None], list[str]]]:
    """The re-index rows again for the checkout ``other``, on a corpus copy of its own."""
    copy = base / "stdlib-against"
    shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns(".lynkr", "CLAUDE.md"))
    against = env | _user_dirs(base / "home-against") | {"PYTHONPATH": other}
    against["PYTHONPYCACHEPREFIX"] = str(base / "pycache-against")
    command = [lynkr[0], lynkr[1], str(copy), *lynkr[3:]]
    timed(command, copy, against)  # its index, its snapshot or record
    edits = iter(range(10_000))

    def edit_one() -> None:
        with open(copy / "json" / "encoder.py", "a", encoding="utf-8") as handle:
            handle.write(f"\n\ndef bench_against_{next(edits)}():\n    return 1\n")

    def clean() -> None:
        shutil.rmtree(copy / ".lynkr", ignore_errors=True)

    places["cold-against"] = places["nochange-against"] = places["one-against"] = (copy, against)
    return [
        ("cold-against", clean, command),
        ("nochange-against", lambda: None, command),
        ("one-against", edit_one, command),
    ]


def _per_round(ours: list[float], theirs: list[float]) -> str:
    return " ".join(f"{a / b:.2f}" for a, b in zip(ours, theirs, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--against", help="another checkout, timed on the re-index rows")
    args = parser.parse_args()
    if shutil.which("ctags") is None:
        print("universal-ctags is not installed: nothing to compare with")
        return 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNKR_")}
    # lynkr alone: the first-party plugins `make venv` installs (plugins/) would send
    # every command through the full CLI (entry.py leaves it any plugin that would load).
    env["LYNKR_LOAD_PLUGINS"] = ""
    # Bytecode cached, as pip leaves it for an installed lynkr: in the temporary directory,
    # so that PYTHONDONTWRITEBYTECODE in the caller's environment does not turn every run
    # into a compilation of lynkr's sources, and the checkout gets no __pycache__.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        base = Path(tmp)
        corpus = base / "stdlib"
        files, size = copy_corpus(corpus)
        env |= _user_dirs(base / "home")
        env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        index_dir = corpus / ".lynkr"
        lynkr = [str(LYNKR), "index", str(corpus), "--no-claude-md"]
        tags = base / "tags"

        def clean() -> None:
            shutil.rmtree(index_dir, ignore_errors=True)
            (corpus / "CLAUDE.md").unlink(missing_ok=True)

        # Warm the page cache and Python's bytecode caches once, outside the timings.
        timed(["ctags", "-R", "-f", str(tags), "."], corpus, env)
        timed([*lynkr], corpus, env)
        edits = iter(range(10_000))

        def edit_one() -> None:
            target = corpus / "json" / "encoder.py"
            with open(target, "a", encoding="utf-8") as handle:
                handle.write(f"\n\ndef bench_added_{next(edits)}():\n    return 1\n")

        # Rounds, each timing every row once: the machine's speed drifts over a minute
        # (other tenants), and interleaving lets the drift fall on every row alike.
        rows_of: dict[str, list[float]] = {}
        reference_db = base / "reference.db"
        reference = [sys.executable, str(REFERENCE), str(corpus), str(reference_db), "--jobs", "2"]
        steps: list[tuple[str, Callable[[], None], list[str]]] = [
            ("ctags", lambda: tags.unlink(missing_ok=True), ["ctags", "-R", "-f", str(tags), "."]),
            ("reference", lambda: reference_db.unlink(missing_ok=True), reference),
            ("cold", clean, lynkr),
            ("nochange", lambda: None, lynkr),
            ("one", edit_one, lynkr),
            ("claude", clean, lynkr[:-1]),  # CLAUDE.md on
        ]
        places = dict.fromkeys((label for label, _, _ in steps), (corpus, env))
        if args.against:
            steps += _against_steps(base, corpus, lynkr, args.against, places, env)
        for _ in range(args.repeat):
            for label, prepare, command in steps:
                prepare()
                where, its_env = places[label]
                rows_of.setdefault(label, []).append(timed(command, where, its_env, label))
        ctags, tree_sitter, cold, nochange, one, with_claude = (
            statistics.median(rows_of[label])
            for label in ("ctags", "reference", "cold", "nochange", "one", "claude")
        )
        inner_cold = median_of(args.repeat, clean, lambda: in_process(corpus, env, True))
        inner_nochange = median_of(
            args.repeat, lambda: None, lambda: in_process(corpus, env, False)
        )
        theirs = ctags_definitions(corpus, base / "tags.recall")
        ours = lynkr_definitions(index_dir / "index.db")
    found = len(theirs & ours)
    recall = found / len(theirs) if theirs else 1.0
    rows = [
        ("ctags -R (baseline)", "ctags", ctags, 1.0, "", ""),
        ("tree-sitter reference", "reference", tree_sitter, tree_sitter / ctags, "", ""),
        ("lynkr cold", "cold", cold, cold / ctags, "≤ 2.5× ctags", cold / ctags <= 2.5),
        ("lynkr no change", "nochange", nochange, nochange / cold, "≤ 15% of cold",
         nochange / cold <= 0.15),
        ("lynkr one file changed", "one", one, one / cold, "≤ 15% of cold", one / cold <= 0.15),
        ("lynkr cold + CLAUDE.md", "claude", with_claude, with_claude / ctags, "(default cmd)", ""),
    ]  # fmt: skip
    print(
        f"corpus: {files} files, {size / 1e6:.1f} MB of Python (stdlib, no tests), not a git repo"
    )
    print(f"machine: {os.cpu_count()} cores, load average {load_average()} at the end")
    print(
        f"median of {args.repeat} runs; whole commands, process start included, bytecode cached\n"
    )
    print(
        f"{'run':26} {'wall s':>7} {'ratio':>7}  {'target':15} {'ok':3} "
        f"{'CPU s':>6} {'CPU ratio':>9}"
    )
    ctags_cpu = statistics.median(CPU["ctags"])
    for name, label, seconds, ratio, target, ok in rows:
        ratio_text = f"{ratio:.2f}×" if "cold" not in target else f"{ratio:.0%}"
        mark = "" if ok == "" else ("yes" if ok else "NO")
        cpu = statistics.median(CPU[label])
        print(f"{name:26} {seconds:7.3f} {ratio_text:>7}  {target:15} {mark:3} {cpu:6.2f} "
              f"{cpu / ctags_cpu:8.2f}×")  # fmt: skip
    print(
        f"\nlynkr cold / tree-sitter reference: {cold / tree_sitter:.2f}× wall "
        f"(target ≤ 1.00×: {'yes' if cold <= tree_sitter else 'NO'}), "
        f"{statistics.median(CPU['cold']) / statistics.median(CPU['reference']):.2f}× CPU; "
        f"per round: {_per_round(rows_of['cold'], rows_of['reference'])}"
    )
    print(
        f"\nthe indexer alone (api.build timed inside one process, no CLI start-up): "
        f"cold {inner_cold:.3f} s = {inner_cold / ctags:.2f}× ctags; no change "
        f"{inner_nochange:.3f} s = {inner_nochange / inner_cold:.0%} of cold"
    )
    if args.against:
        ours_of = {"cold": cold, "nochange": nochange, "one": one}
        for label, name in (
            ("cold-against", "cold"),
            ("nochange-against", "no change"),
            ("one-against", "one changed"),
        ):
            theirs_s = statistics.median(rows_of[label])
            ours_s = ours_of[label.split("-")[0]]
            print(
                f"{name}, against {args.against}: {theirs_s:.3f} s there, {ours_s:.3f} s "
                f"here ({ours_s / theirs_s:.2f}×); per round: "
                f"{_per_round(rows_of[label.split('-')[0]], rows_of[label])}; CPU "
                f"{statistics.median(CPU[label.split('-')[0]]):.2f} s here, "
                f"{statistics.median(CPU[label]):.2f} s there"
            )
    print(
        f"recall: lynkr finds {found} of {len(theirs)} ctags class/function/member "
        f"definitions = {recall:.2%} (target ≥ 98%: {'yes' if recall >= 0.98 else 'NO'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
