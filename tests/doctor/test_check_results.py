"""CheckResult's constructors: the one way built-in and plugin checks make results."""

from __future__ import annotations

import json

import pytest

from lynkr_cli import hookimpl, plugins
from lynkr_cli.registry import CheckResult, DoctorCheck


def test_each_constructor_sets_status_fix_and_details() -> None:
    assert CheckResult.ok("a", "fine", n=1) == CheckResult("a", "ok", "fine", None, {"n": 1})
    assert CheckResult.warn("b", "hm", "do x") == CheckResult("b", "warn", "hm", "do x", {})
    assert CheckResult.fail("c", "no", "do y", why="z").details == {"why": "z"}
    assert CheckResult.skip("d", "not here").status == "skip"


def test_a_warning_or_failure_needs_its_fix() -> None:
    with pytest.raises(TypeError):
        CheckResult.warn("b", "hm")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CheckResult.fail("c", "no")  # type: ignore[call-arg]


class _Plugin:
    @hookimpl
    def register_doctor_checks(self, register):
        register(DoctorCheck("plugin-check", lambda ctx: CheckResult.fail("p", "bad", "fix it")))


def test_a_plugin_check_built_with_them_reaches_doctor_json(invoke, monkeypatch) -> None:
    manager = plugins.get_manager()
    manager.pm.register(_Plugin(), name="check-results")
    monkeypatch.setattr(plugins, "_manager", manager)
    try:
        result = invoke("doctor", "--only", "plugin-check", "--json")
    finally:
        manager.pm.unregister(name="check-results")
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    found = [c for c in doc["checks"] if c["name"] == "p"]
    assert found and found[0]["status"] == "fail" and found[0]["fix"] == "fix it"
