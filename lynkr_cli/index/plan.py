"""What one build knows and reports: the plan, the run, the report.

Kept apart from :mod:`lynkr_cli.index.ingest` (the pool and the writer), so the
paths that only plan (the fast path of ``lynkr index`` with nothing to do)
import neither the writer nor the resolver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli.index.discover import Discovery
from lynkr_cli.index.extract import Task

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    """What one run did; :meth:`as_dict` is the ``--json`` document."""

    root: str
    db_path: str
    cold: bool = False
    changed: bool = False
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "db": self.db_path,
            "full_rebuild": self.cold,
            "changed": self.changed,
            "parsed": self.parsed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            **self.stats,
            "problems": len(self.problems),
            "problem_files": dict(sorted(self.problems.items())),
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


Rows = dict[str, tuple[int, int, int, str, str]]


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    plain: list[tuple[str, str | None, int, int, str | None]] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)
    stale_ids: list[int] = field(default_factory=list)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime)


@dataclass
class Run:
    """Everything one build needs, so the steps below take one argument."""

    root: Path
    db_path: Path
    found: Discovery
    report: BuildReport
    workers: int
    progress: Progress | None
    max_file_bytes: int = 1_000_000
    rows: Rows = field(default_factory=dict)
    plan: Plan = field(default_factory=Plan)
    final: set[str] = field(default_factory=set)
    meanwhile: Callable[[], None] | None = None  # run once while parsing (then cleared)
