"""The upstream response parser against h11: a larger differential fuzz run, and their speed.

    .venv/bin/python tests/bench/bench_http1_fuzz.py [--cases 200000] [--seed 7]

The suite runs ``tests/security/test_http1_fuzz.py`` on a fixed 15,000 cases; this runs
many more with another seed (each fed whole, a byte at a time and split at random),
prints the disagreements that no documented difference explains (target 0), and times
both parsers on the same answers, fed whole, as a ratio: lynkr's parser is on the hot
path of every upstream call, h11 is the pure-Python baseline. Always exits 0: it reports,
it does not judge.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.security.http1_fuzz import SEEDS, cases, run
from tests.security.http1_verdicts import ours, reference


def per_answer_us(parse, answers, rounds: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for method, data in answers:
            parse(data, method)
        best = min(best, time.perf_counter() - start)
    return best / len(answers) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    report = run(args.seed, args.cases)
    took = time.perf_counter() - start
    print(f"{report.cases} cases (seed {args.seed}) in {took:.1f}s")
    print(f"  both accept: {report.accepted}, both refuse: {report.refused}")
    for name, count in report.exceptions.most_common():
        print(f"  documented difference: {name}: {count}")
    print(f"disagreements not explained: {len(report.failures)} (target 0)")
    for failure in report.failures[:5]:
        print(failure)

    valid = [(method, data) for method, data in SEEDS]
    mutated = [(c.method, c.data) for c in cases(args.seed, 5000)]
    for label, answers in [("valid answers", valid * 200), ("mutated answers", mutated)]:
        mine = per_answer_us(lambda d, m: ours([d], m), answers, 5)
        theirs = per_answer_us(reference, answers, 5)
        print(
            f"{label:16} lynkr {mine:6.1f} us/answer, h11 {theirs:6.1f} us/answer: "
            f"h11/lynkr = {theirs / mine:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
