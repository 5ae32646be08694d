"""The ``lynkr`` script's dispatch before Typer (``entry.py``).

Its table is the Typer app's own declarations (regenerated, or this fails), and it
reads every command line it accepts exactly as Typer does: each form here goes through
both, with the functions they call (``entry.configure``, ``service.build_command``)
replaced by recorders, and the keyword arguments must be the same.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer

from lynkr_cli import cli, entry, entry_table, plugins
from lynkr_cli.index import service
from tests.plugindist import install

ROOT = Path(__file__).resolve().parents[2]


def test_table_is_the_apps_declarations() -> None:
    table = {
        "ROOT": entry_table.ROOT, "GROUPS": entry_table.GROUPS, "COMMANDS": entry_table.COMMANDS
    }  # fmt: skip
    assert cli.entry_table() == table, "run: python scripts/gen_entry_table.py"
    check = [sys.executable, str(ROOT / "scripts" / "gen_entry_table.py"), "--check"]
    proc = subprocess.run(check, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_the_table_follows_a_changed_declaration() -> None:
    """What the generator reads: options, flags, counts, paths, arguments, defaults; a
    parameter it cannot read as Typer does is refused, not guessed."""
    app = typer.Typer()

    @app.command("go")
    @entry.runs("somewhere:go")
    def go(
        target: Annotated[str, typer.Argument()] = "here",
        loud: Annotated[bool, typer.Option("--loud", "-l")] = False,
        level: Annotated[int, typer.Option("--level", "-n", count=True)] = 0,
        out: Annotated[Path | None, typer.Option("--out")] = None,
    ) -> None:
        """Go."""

    @app.command("other")
    def other() -> None:
        """Not runnable before Typer."""

    command = typer.main.get_command(app)
    table: dict[str, Any] = {"GROUPS": {}, "COMMANDS": {}}
    with typer.Context(command, info_name="t") as ctx:
        assert cli._entry_walk(command, ctx, [], table)
    spec = table["COMMANDS"]["go"]
    assert spec["arguments"] == (("target", "str"),)
    assert spec["options"] == {
        "--loud": ("loud", "flag"), "-l": ("loud", "flag"), "--level": ("level", "count"),
        "-n": ("level", "count"), "--out": ("out", "path"), "--help": (None, "stop"),
    }  # fmt: skip
    assert spec["defaults"] == {"target": "here", "loud": False, "level": 0, "out": None}
    assert spec["run"] == "somewhere:go" and "other" not in table["COMMANDS"]

    @app.command("bad")
    @entry.runs("somewhere:bad")
    def bad(limit: Annotated[int, typer.Option("--limit", min=1)] = 5) -> None:
        """An int option: Typer validates it with pydantic; entry.py does not guess."""

    command = typer.main.get_command(app)
    with typer.Context(command, info_name="t") as ctx, pytest.raises(ValueError, match="limit"):
        cli._entry_walk(command, ctx, [], {"GROUPS": {}, "COMMANDS": {}})


# --------------------------------------------------------------------------- reading argv

HANDLED = [
    ["index"],
    ["index", "."],
    ["index", "src"],
    ["index", "src", "--json", "--no-claude-md"],
    ["-q", "-v", "index", "--json", "src", "--no-claude-md"],
    ["--quiet", "-v", "--verbose", "index"],
    ["-vq", "index"],
    ["-vvq", "index", "--full"],
    ["index", "./build"],
    ["index", "build"],
    ["index", "build", "src"],
    ["index", "--root", "src", "--json"],
    ["index", "-C", "src"],
    ["index", "-Csrc"],
    ["index", "--root=src"],
    ["index", "-C=src"],
    ["index", "-C", "src", "--root", "."],
    ["index", "--root="],
    ["index", "--", "."],
    ["index", "--check"],
    ["index", "--stdout", "."],
    ["index", ".", "--json", "--json"],
    ["--config", "c.toml", "index"],
    ["--config=c.toml", "-q", "index"],
]
NOT_HANDLED = [
    [],
    ["--help"],
    ["-h"],
    ["--version"],
    ["-q"],
    ["serve"],
    ["git", "status"],
    ["--show-completion", "bash"],
    ["--", "index"],
    ["--config", "", "index"],
    ["--config"],
    ["index", "stats"],
    ["index", "search", "x"],
    ["index", "a", "b"],
    ["index", "src", "extra"],
    ["index", "--json=1"],
    ["index", "-h"],
    ["index", "src", "--help"],
    ["index", ""],
    ["index", "--root"],
    ["index", "-x"],
    ["index", "--nope"],
    ["index", "-vq"],
    ["index", "not-there"],
    ["index", "serch"],
    ["index", "--json", "search", "x"],
    ["index", "build", "--help"],
]


@pytest.fixture
def recorded(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The two functions both ways call, replaced by recorders; a folder to stand in."""
    (workdir / "src").mkdir()
    (workdir / "build").mkdir()
    calls: dict[str, Any] = {}
    monkeypatch.setattr(entry, "configure", lambda **kw: calls.__setitem__("root", kw))
    monkeypatch.setattr(service, "build_command", lambda **kw: calls.__setitem__("run", kw))
    return calls


@pytest.mark.parametrize("argv", HANDLED, ids=" ".join)
def test_read_as_typer_reads_it(argv: list[str], recorded: dict[str, Any]) -> None:
    found = entry.parse(argv)
    assert found is not None and found.run == "lynkr_cli.index.service:build_command"
    assert cli.main(argv) == 0
    recorded["root"].pop("version")  # Typer passes --version's False too; it stops otherwise
    assert (found.root, found.kwargs) == (recorded["root"], recorded["run"])
    recorded.clear()
    assert entry.run(argv, boundary=cli.boundary) == 0
    assert set(recorded) == {"root", "run"}


@pytest.mark.parametrize("argv", NOT_HANDLED, ids=lambda a: " ".join(a) or "(none)")
def test_left_to_typer(argv: list[str], recorded: dict[str, Any]) -> None:
    assert entry.parse(argv) is None
    assert entry.run(argv, boundary=cli.boundary) is None
    assert recorded == {}  # nothing ran


def test_completion_is_typers(recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(entry.COMPLETE_VAR, "complete_bash")
    assert entry.run(["index"], boundary=cli.boundary) is None and recorded == {}


def test_a_third_party_plugin_leaves_every_command_to_typer(
    recorded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path / "site", "lynkr-extra", "lynkr_extra_plugin", "")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delenv("LYNKR_LOAD_PLUGINS")
    assert plugins.third_party_would_load()
    assert entry.run(["index"], boundary=cli.boundary) is None and recorded == {}
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "another")  # declared, but not allowed
    assert not plugins.third_party_would_load()
    assert entry.run(["index"], boundary=cli.boundary) == 0


def test_no_plugin_machinery_when_nothing_declares_a_plugin(tmp_path: Path) -> None:
    """The installed distributions, less the ones declaring a plugin (``make venv``
    installs the first-party plugins of plugins/): linked into a folder of their own."""
    site = tmp_path / "site"
    site.mkdir()
    for folder in {Path(p) for p in sys.path if p.endswith("site-packages")}:
        for item in folder.iterdir():
            points = item / "entry_points.txt"
            if not (points.is_file() and "[lynkr]" in points.read_text(errors="replace")):
                (site / item.name).symlink_to(item)
    code = (
        "import sys; from lynkr_cli import plugins; "
        "assert not plugins.third_party_would_load(); "
        "assert 'importlib.metadata' not in sys.modules and 'pluggy' not in sys.modules"
    )
    # LYNKR_LOAD_PLUGINS unset: every distribution looked at; -S: only those of ``site``
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{site}"}
    subprocess.run([sys.executable, "-S", "-c", code], check=True, timeout=60, env=env)


# --------------------------------------------------------------------------- errors


def test_errors_go_through_the_clis_boundary(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(workdir / "missing.toml"), "index", "--json"]
    assert entry.run(argv, boundary=cli.boundary) == 3
    ours = capsys.readouterr()
    assert cli.main(argv) == 3
    theirs = capsys.readouterr()
    assert (ours.out, ours.err) == (theirs.out, theirs.err)
    assert '"exit": 3' in ours.out and "does not exist" in ours.err


def test_debug_shows_the_traceback(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LYNKR_DEBUG", "1")

    def broken(**_: Any) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "build_command", broken)
    with pytest.raises(RuntimeError, match="boom"):
        entry.run(["index"], boundary=cli.boundary)
