"""The runner: a crashing or misbehaving check is a fail naming it; exit codes; --strict."""

from __future__ import annotations

import json
from typing import Any

from lynkr_cli import hookimpl, plugins
from lynkr_cli.doctor import runner
from lynkr_cli.registry import CheckResult, DoctorCheck, doctor_checks


def _check(name: str, run: Any, **kw: Any) -> DoctorCheck:
    return DoctorCheck(name=name, run=run, group="test", **kw)


def test_results_keep_order_and_failures_are_isolated() -> None:
    def boom(ctx: runner.Context) -> None:
        raise RuntimeError("kaput")

    checks = [
        _check("first", lambda ctx: CheckResult("first", "ok", "fine")),
        _check("crash", boom),
        _check("wrong", lambda ctx: 42),
        _check(
            "many", lambda ctx: [CheckResult("a", "warn", "w", "do x"), CheckResult("b", "ok", "")]
        ),
        _check("deep", lambda ctx: CheckResult("deep", "ok", "ran"), deep_only=True),
        _check("none", lambda ctx: None),
    ]
    results = runner.run_checks(checks, runner.Context())
    assert [(r.name, r.status) for r in results] == [
        ("first", "ok"),
        ("crash", "fail"),
        ("wrong", "fail"),
        ("a", "warn"),
        ("b", "ok"),
        ("deep", "skip"),
    ]
    assert "kaput" in results[1].summary and results[1].fix
    assert runner.run_checks(checks[4:5], runner.Context(deep=True))[0].status == "ok"


def test_exit_code_rules() -> None:
    ok = CheckResult("a", "ok", "")
    skip = CheckResult("b", "skip", "")
    warn = CheckResult("c", "warn", "", "fix")
    fail = CheckResult("d", "fail", "", "fix")
    assert runner.exit_code([ok, skip]) == 0
    assert runner.exit_code([ok, warn]) == 0
    assert runner.exit_code([ok, warn], strict=True) == 1
    assert runner.exit_code([fail]) == 1
    assert runner.summary([ok, skip, warn, fail]) == {"ok": 1, "warn": 1, "fail": 1, "skip": 1}


class ThirdParty:
    """A plugin registering its own check through the public hook."""

    @hookimpl
    def register_doctor_checks(self, register: Any) -> None:
        register(
            DoctorCheck(
                "third-party",
                lambda ctx: CheckResult("third-party", "fail", "broken", "fix it"),
                "extra",
            )
        )


def test_register_doctor_checks_hook(invoke, monkeypatch) -> None:
    names = [c.name for c in doctor_checks()]
    for builtin in ("python", "settings", "gateway", "environment", "mcp", "docker"):
        assert builtin in names
    manager = plugins.get_manager()
    manager.pm.register(ThirdParty(), name="third")
    monkeypatch.setattr(plugins, "_manager", manager)
    result = invoke("doctor", "--json", "--only", "extra")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [c["name"] for c in doc["checks"]] == ["third-party"]
    assert doc["summary"]["fail"] == 1


def test_a_missing_lynkr_package_skips_and_a_missing_dependency_fails() -> None:
    def needs_feature(ctx: runner.Context) -> None:
        import lynkr_cli.no_such_feature  # noqa: F401

    def needs_dependency(ctx: runner.Context) -> None:
        import no_such_dependency_xyz  # noqa: F401

    feature, dependency = runner.run_checks(
        [_check("feature", needs_feature), _check("dependency", needs_dependency)],
        runner.Context(),
    )
    assert feature.status == "skip" and "lynkr_cli.no_such_feature" in feature.summary
    assert dependency.status == "fail" and "no_such_dependency_xyz" in dependency.summary


def test_unknown_only_is_a_usage_error(invoke) -> None:
    result = invoke("doctor", "--only", "nonsense")
    assert result.exit_code == 2
    assert "no doctor check or group named nonsense" in result.stderr
    assert "claude" in result.stderr  # the groups are listed
