"""The Python API of ``lynkr doctor``: what a check receives, and running checks.

A check (built in or a plugin's, registered as a :class:`lynkr_cli.registry.DoctorCheck`)
is ``run(ctx: Context) -> CheckResult | list[CheckResult] | None``; results are built
with ``CheckResult.ok/warn/fail/skip``. :func:`run_checks` runs them in threads, each
bounded, and :func:`exit_code` turns results into the command's exit code.
"""

from __future__ import annotations

from lynkr_cli.doctor.runner import Context, exit_code, run_checks, summary

__all__ = ["Context", "exit_code", "run_checks", "summary"]
