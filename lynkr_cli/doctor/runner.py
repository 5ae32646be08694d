"""Run doctor checks and decide the exit code.

A check is a :class:`lynkr_cli.registry.DoctorCheck`; ``run(ctx)`` gets a
:class:`Context` and returns a ``CheckResult``, a list of them, or ``None``.
A check that raises becomes a ``fail`` naming it, so one broken plugin check
never hides the others. Checks run in a small thread pool because several wait
on the network; results keep registration order.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lynkr_cli.errors import ConfigError
from lynkr_cli.registry import CheckResult, DoctorCheck
from lynkr_cli.settings import LoadedSettings, Settings, load_settings

CHECK_DEADLINE = 60.0  # seconds for the whole run; each check has its own shorter timeouts


@dataclass
class Context:
    """What every check may look at. Checks never read os.environ directly."""

    deep: bool = False
    timeout: float = 3.0
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)
    cwd: Path = field(default_factory=Path.cwd)
    _loaded: LoadedSettings | ConfigError | None = None

    def loaded(self) -> LoadedSettings:
        """The effective settings; raises the ConfigError that makes them invalid."""
        if self._loaded is None:
            try:
                self._loaded = load_settings(environ=self.environ, cwd=self.cwd)
            except ConfigError as exc:
                self._loaded = exc
        if isinstance(self._loaded, ConfigError):
            raise self._loaded
        return self._loaded

    def settings(self) -> Settings | None:
        """The settings, or None when they are invalid (the settings check says why)."""
        try:
            return self.loaded().settings
        except ConfigError:
            return None


def _as_list(check: DoctorCheck, value: Any) -> list[CheckResult]:
    if value is None:
        return []
    if isinstance(value, CheckResult):
        return [value]
    if isinstance(value, Iterable):
        items = list(value)
        if all(isinstance(item, CheckResult) for item in items):
            return items
    return [
        CheckResult(
            check.name,
            "fail",
            f"check returned {type(value).__name__}, not CheckResult",
            fix=f"Fix the plugin that registers '{check.name}'.",
        )
    ]


def run_one(check: DoctorCheck, ctx: Context) -> list[CheckResult]:
    if check.deep_only and not ctx.deep:
        return [CheckResult(check.name, "skip", "runs with --deep")]
    try:
        return _as_list(check, check.run(ctx))
    except Exception as exc:
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("lynkr_cli."):
            # A feature package this check reads is not part of this installation.
            return [CheckResult(check.name, "skip", f"{exc.name} is not available")]
        return [
            CheckResult(
                check.name,
                "fail",
                f"the check itself crashed: {type(exc).__name__}: {exc}",
                fix=f"Report it; rerun with `lynkr doctor --only {check.group}` to isolate.",
            )
        ]


def run_checks(
    checks: list[DoctorCheck], ctx: Context, only: set[str] | None = None
) -> list[CheckResult]:
    """Run ``checks`` (restricted to ``only`` groups or names) in order of registration."""
    chosen = [c for c in checks if not only or c.group in only or c.name in only]
    ctx.settings()  # load once before threads start, so they share the result
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    try:
        futures = [pool.submit(run_one, check, ctx) for check in chosen]
        out: list[CheckResult] = []
        for check, future in zip(chosen, futures, strict=True):
            try:
                out += future.result(timeout=CHECK_DEADLINE)
            except concurrent.futures.TimeoutError:
                out.append(
                    CheckResult(
                        check.name,
                        "fail",
                        f"no answer within {CHECK_DEADLINE:g}s",
                        fix="Something it waits on hangs; run it alone with --only.",
                    )
                )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return out


def exit_code(results: list[CheckResult], *, strict: bool = False) -> int:
    """0 when everything is ok (or skipped); 1 on any fail, or any warn with ``strict``."""
    bad = {"fail", "warn"} if strict else {"fail"}
    return 1 if any(r.status in bad for r in results) else 0


def summary(results: list[CheckResult]) -> dict[str, int]:
    counts = {"ok": 0, "warn": 0, "fail": 0, "skip": 0}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts
