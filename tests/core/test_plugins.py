"""Third-party plugins register commands, providers and tools through the hooks.

The plugins here are real distributions: a ``*.dist-info`` with an
``entry_points.txt`` on ``sys.path``, found by importlib.metadata exactly as an
installed package would be.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import plugins, registry
from tests.plugindist import install

GOOD = '''
import typer
from lynkr_cli import hookimpl
from lynkr_cli.registry import ToolSpec, DoctorCheck, CheckResult

hello_app = typer.Typer(help="Say hello from a plugin.")

@hello_app.command()
def greet(name: str = "world") -> None:
    """Greet someone."""
    typer.echo(f"hello {name} from a plugin")

class EchoProvider:
    name = "echo"

async def _echo(args, ctx=None):
    return args

@hookimpl
def register_commands(app):
    app.add_typer(hello_app, name="hello")

@hookimpl
def register_providers(register):
    register("echo", EchoProvider)

@hookimpl
def register_tools(register):
    register(ToolSpec("echo_tool", "Echo its input.", {"type": "object"}, "read", _echo))

@hookimpl
def register_doctor_checks(register):
    register(DoctorCheck("echo", lambda ctx: CheckResult("echo", "ok", "fine")))
'''

BROKEN_IMPORT = "raise RuntimeError('this plugin is broken at import')\n"

BROKEN_HOOK = """
from lynkr_cli import hookimpl

@hookimpl
def register_commands(app):
    raise ValueError("cannot register")
"""


def _install(site: Path, dist: str, module: str, source: str) -> None:
    install(site, dist, module, textwrap.dedent(source))


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "lynkr-hello", "lynkr_hello_plugin", GOOD)
    _install(site, "lynkr-broken", "lynkr_broken_plugin", BROKEN_IMPORT)
    _install(site, "lynkr-badhook", "lynkr_badhook_plugin", BROKEN_HOOK)
    monkeypatch.syspath_prepend(str(site))
    return site


def test_third_party_command_registers(site: Path, invoke: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-hello")
    result = invoke("hello", "greet", "--name", "ann")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "hello ann from a plugin"


def test_third_party_provider_tool_and_check_register(site: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-hello")
    assert registry.providers()["echo"].__name__ == "EchoProvider"
    tool = registry.tools()["echo_tool"]
    assert tool.policy == "read"
    assert [c.name for c in registry.doctor_checks()][-1] == "echo"


def test_allow_list_empty_loads_no_entry_points(site: Path, invoke: Any) -> None:
    result = invoke("hello", "greet")
    assert result.exit_code == 2
    names = [p.name for p in plugins.get_manager().list()]
    assert not [n for n in names if n.startswith("lynkr-")]


def test_unset_allow_list_loads_every_entry_point(site: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("LYNKR_LOAD_PLUGINS")
    names = {p.name for p in plugins.build().list()}
    assert {"lynkr-hello", "lynkr-broken", "lynkr-badhook"} <= names


def test_broken_plugins_only_warn(site: Path, invoke: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-hello,lynkr-broken,lynkr-badhook")
    result = invoke("hello", "greet")
    assert result.exit_code == 0
    assert result.stdout.strip() == "hello world from a plugin"
    assert "plugin 'lynkr-broken' failed to load" in result.stderr
    assert "this plugin is broken at import" in result.stderr
    assert "plugin 'lynkr-badhook' failed in register_commands" in result.stderr


def test_plugins_json_lists_hooks_and_versions(site: Path, invoke: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-hello,lynkr-broken")
    result = invoke("plugins", "--json")
    assert result.exit_code == 0
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    hello = listed["lynkr-hello"]
    assert hello["version"] == "1.2.3"
    assert hello["builtin"] is False
    assert set(hello["hooks"]) == {
        "register_commands",
        "register_providers",
        "register_tools",
        "register_doctor_checks",
    }
    assert listed["lynkr-broken"]["error"]
    builtins = [p for p in listed.values() if p["builtin"]]
    assert builtins and all(p["error"] is None for p in builtins)


def test_builtins_load_before_entry_points(site: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "lynkr-hello")
    infos = plugins.build().list()
    first_third_party = next(i for i, p in enumerate(infos) if not p.builtin)
    assert all(p.builtin for p in infos[:first_third_party])
    assert all(not p.builtin for p in infos[first_third_party:])


def test_plugins_human_output(invoke: Any) -> None:
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "core.command" in result.stdout
