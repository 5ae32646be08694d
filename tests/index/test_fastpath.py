"""`lynkr index` run by the ``lynkr`` script before Typer loads, byte for byte like the full CLI.

Real processes, started as the ``lynkr`` console script starts (its directory first on
``sys.path``): :func:`lynkr_cli.__main__.main`, which runs the command itself when
``entry.py`` can read the command line (``fast``: then with the settings snapshot and
nothing to do, no framework, no pydantic, no parser is imported), or
:func:`lynkr_cli.cli.main`, the full CLI. Both call the same ``service.build_command``
and share the settings snapshot (``snapshot.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli import settings, snapshot
from lynkr_cli.index import service
from tests.index.helpers import bump_mtime, make_repo

SCRIPT = "import os, sys; sys.path[0] = os.path.dirname(sys.executable); "
FAST = SCRIPT + "from lynkr_cli.__main__ import main; sys.exit(main())"
FULL = SCRIPT + "from lynkr_cli.cli import main; sys.exit(main())"
HEAVY = ("typer", "pydantic", "rich", "tree_sitter", "pluggy", "click")
FILES: dict[str, str | bytes] = {
    "core.py": "def parse_request(raw):\n    return raw\n\n\nclass HttpServer:\n"
    "    def serve(self):\n        return parse_request(b'')\n",
    "client.py": "from core import parse_request\n\n\ndef fetch():\n"
    "    return parse_request(b'x')\n",
    "web/app.js": "export function parseBody(x) {\n  return x;\n}\n",
    "pyproject.toml": '[project]\nname = "demo"\ndependencies = ["requests>=2"]\n',
    "dist/bundle.js": "var a = 1;\n",
}


class Run:
    """One finished ``lynkr`` process: exit code, stdout, stderr, and what it imported."""

    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        lines = proc.stderr.splitlines(keepends=True)
        self.stderr = "".join(line for line in lines if not line.startswith("import time:"))
        self.modules = {
            line.rsplit("|", 1)[1].strip()
            for line in lines
            if line.startswith("import time:") and "|" in line
        }

    @property
    def fast(self) -> bool:
        """Answered from the index alone: no CLI framework, no parser, no Rich."""
        return not self.parsed and not any(m.split(".")[0] in HEAVY for m in self.modules)

    @property
    def parsed(self) -> bool:
        """A parser loaded: py-tree-sitter, or the C accelerator with a grammar wheel."""
        return any(
            m.startswith("tree_sitter") or m == "lynkr_cli.index._native" for m in self.modules
        )

    @property
    def cli(self) -> bool:
        """The full CLI ran: Typer and pydantic imported, and the app built from the
        built-in plugins, their completions included (pluggy alone is no sign: the
        settings ask for the providers)."""
        return {"typer", "pydantic", "lynkr_cli.complete"} <= self.modules

    @property
    def loaded(self) -> bool:
        """Run before Typer with the settings validated (no snapshot for these inputs):
        pydantic, no Typer, no Rich, no click."""
        return "pydantic" in self.modules and not {"typer", "rich", "click"} & self.modules

    @property
    def recorded(self) -> bool:
        """A run that validated the settings, and so recorded them in the snapshot."""
        return "lynkr_cli.settings" in self.modules and (self.cli or self.loaded)


def lynkr(*args: str, cwd: Path, full: bool = False, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", FULL if full else FAST, *args],
        cwd=cwd, env=env or dict(os.environ), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    return Run(proc)


def masked(text: str) -> str:
    """Output with the run's own duration blanked (the one figure that differs)."""
    text = re.sub(r'"seconds": [0-9.e-]+', '"seconds": 0', text)
    return re.sub(r" in [0-9]+\.[0-9]{2}s\n", " in 0.00s\n", text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", dict(FILES))


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


def built(repo: Path, cwd: Path, *args: str) -> Run:
    """Index ``repo`` (a first run, which records the settings for the next ones)."""
    first = lynkr("index", str(repo), *args, cwd=cwd)
    assert first.code == 0 and not first.cli, first.stderr
    return first


# --------------------------------------------------------------------------- same output


@pytest.mark.parametrize("flags", [["--json", "--no-claude-md"], ["--no-claude-md"]])
def test_same_bytes_as_the_full_command(repo: Path, cwd: Path, flags: list[str]) -> None:
    built(repo, cwd, *flags)
    fast = lynkr("index", str(repo), *flags, cwd=cwd)
    full = lynkr("index", str(repo), *flags, cwd=cwd, full=True)
    again = lynkr("index", str(repo), *flags, cwd=cwd)
    assert fast.fast and again.fast and full.cli
    assert (fast.code, full.code, fast.stderr, full.stderr) == (0, 0, "", "")
    assert masked(fast.stdout) == masked(full.stdout) == masked(again.stdout)
    assert "up to date" in fast.stdout or json.loads(fast.stdout)["changed"] is False


def test_json_document(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--json", "--no-claude-md")
    run = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
    doc = json.loads(run.stdout)
    assert run.fast
    assert (doc["root"], doc["db"]) == (str(repo), str(repo / ".lynkr" / "index.db"))
    assert (doc["parsed"], doc["unchanged"], doc["removed"]) == (0, 4, 0)
    assert doc["full_rebuild"] is False
    assert doc["skipped"] == {"generated": 1} and doc["claude_md"]["status"] == "skipped"


def test_root_options_and_default_path(repo: Path, cwd: Path) -> None:
    built(repo, repo, "--no-claude-md")
    fast = lynkr("-q", "index", "--no-claude-md", cwd=repo)
    full = lynkr("-q", "index", "--no-claude-md", cwd=repo, full=True)
    assert fast.fast and masked(fast.stdout) == masked(full.stdout)
    assert f"database: {repo}/.lynkr/index.db" in fast.stdout


def test_claude_md_up_to_date_is_answered_too(repo: Path, cwd: Path) -> None:
    (repo / "CLAUDE.md").write_text("# Notes by a person\n\nKeep this.\n", encoding="utf-8")
    assert "CLAUDE.md: written" in built(repo, cwd).stdout
    text = (repo / "CLAUDE.md").read_bytes()
    fast = lynkr("index", str(repo), cwd=cwd)
    full = lynkr("index", str(repo), cwd=cwd, full=True)
    assert fast.fast and "CLAUDE.md: unchanged" in fast.stdout
    assert masked(fast.stdout) == masked(full.stdout)
    fast_json = lynkr("index", str(repo), "--json", cwd=cwd)
    full_json = lynkr("index", str(repo), "--json", cwd=cwd, full=True)
    assert fast_json.fast and masked(fast_json.stdout) == masked(full_json.stdout)
    assert (repo / "CLAUDE.md").read_bytes() == text
    # Human text edited outside the markers: still up to date, still fast.
    (repo / "CLAUDE.md").write_bytes(text.replace(b"Keep this.", b"Keep this, please."))
    assert lynkr("index", str(repo), cwd=cwd).fast


def test_claude_md_stale_is_rewritten_without_the_cli(repo: Path, cwd: Path) -> None:
    built(repo, cwd)
    path = repo / "CLAUDE.md"
    path.write_text(path.read_text(encoding="utf-8").replace("## Languages", "## Langs"))
    run = lynkr("index", str(repo), cwd=cwd)
    assert not run.cli and "CLAUDE.md: written" in run.stdout
    assert "## Languages" in path.read_text(encoding="utf-8")
    assert lynkr("index", str(repo), cwd=cwd).fast
    path.write_text(path.read_text(encoding="utf-8").replace("<!-- END lynkr index -->", ""))
    lonely = lynkr("index", str(repo), cwd=cwd)
    assert lonely.code == 2 and "marker without its partner" in lonely.stderr


def test_claude_md_without_a_cached_block_is_rendered(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")  # no block rendered for this generation
    run = lynkr("index", str(repo), cwd=cwd)
    assert not run.cli and "CLAUDE.md: written" in run.stdout
    assert lynkr("index", str(repo), cwd=cwd).fast


def test_on_a_terminal(repo: Path, cwd: Path) -> None:
    """Rich on a colour terminal prints the summary as the plain writer does."""
    import pty

    built(repo, cwd, "--no-claude-md")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"}
    outputs = []
    for full in (False, True, False):
        leader, follower = pty.openpty()
        proc = subprocess.run(
            [sys.executable, "-c", FULL if full else FAST, "index", str(repo), "--no-claude-md"],
            cwd=cwd, env=env, stdout=follower, stderr=subprocess.PIPE, timeout=120, check=True,
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.stderr == b""
        outputs.append(masked(b"".join(chunks).decode().replace("\r\n", "\n")))
    assert outputs[0] == outputs[1] == outputs[2] and "up to date" in outputs[0]


def test_a_fast_run_writes_nothing(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    db = repo / ".lynkr" / "index.db"
    lynkr("index", str(repo), "--no-claude-md", cwd=cwd)  # settle the WAL
    before = (db.stat().st_mtime_ns, db.stat().st_size, _meta(db))
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).fast
    assert (db.stat().st_mtime_ns, db.stat().st_size, _meta(db)) == before


def _meta(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()


# --------------------------------------------------------------------------- with changes


def twins(tmp_path: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> list[Path]:
    """Two identical indexed repositories: one for the fast path, one for the full CLI."""
    repos = [make_repo(tmp_path / name, dict(FILES)) for name in ("fast", "full")]
    for repo in repos:
        assert lynkr("index", str(repo), *args, cwd=cwd, env=env).code == 0
        assert lynkr("index", str(repo), *args, cwd=cwd, env=env).fast
    return repos


def both(repos: list[Path], cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run the fast path on the first twin and the full CLI on the second: same output."""
    fast = lynkr("index", str(repos[0]), *args, cwd=cwd, env=env)
    full = lynkr("index", str(repos[1]), *args, cwd=cwd, full=True, env=env)
    assert not fast.cli and full.cli
    assert fast.code == full.code
    same = str(repos[1]), str(repos[0])
    assert masked(fast.stdout) == masked(full.stdout.replace(*same))
    assert fast.stderr == full.stderr.replace(*same)
    return fast


def edit(repos: list[Path], rel: str, text: str) -> None:
    for repo in repos:
        (repo / rel).write_text(text)
        bump_mtime(repo / rel)


@pytest.mark.parametrize("flags", [["--json", "--no-claude-md"], ["--no-claude-md"], []])
def test_one_changed_file_without_the_cli(tmp_path: Path, cwd: Path, flags: list[str]) -> None:
    repos = twins(tmp_path, cwd, *flags)
    edit(repos, "core.py", "def parse_request(raw, strict=False):\n    return raw\n")
    run = both(repos, cwd, *flags)
    assert run.parsed
    assert "index updated" in run.stdout or '"parsed": 1' in run.stdout
    for repo in repos:
        (repo / "client.py").unlink()
    both(repos, cwd, *flags)
    assert lynkr("index", str(repos[0]), *flags, cwd=cwd).fast


def test_an_error_while_writing_is_reported_as_the_cli_does(tmp_path: Path, cwd: Path) -> None:
    repos = twins(tmp_path, cwd)
    for repo in repos:
        text = (repo / "CLAUDE.md").read_text(encoding="utf-8")
        (repo / "CLAUDE.md").write_text(text.replace("<!-- END lynkr index -->", ""))
    edit(repos, "core.py", "def parse_request(raw, strict=False):\n    return raw\n")
    run = both(repos, cwd)
    assert run.code == 2 and "marker without its partner" in run.stderr


def test_warnings_printed_as_the_cli_prints_them(tmp_path: Path, cwd: Path) -> None:
    broken = tmp_path / "broken" / "tree_sitter_javascript"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('built for another ABI')\n")
    env = dict(os.environ) | {"PYTHONPATH": str(broken.parent)}
    repos = twins(tmp_path, cwd, "--no-claude-md", env=env)
    edit(repos, "web/app.js", "export function parseBody(y) {\n  return y;\n}\n")
    run = both(repos, cwd, "--no-claude-md", env=env)
    assert "warning: no grammar for javascript" in run.stderr


# --------------------------------------------------------------------------- fallbacks


def test_edits_deletions_and_new_skips(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--json", "--no-claude-md")

    def doc() -> dict[str, Any]:
        run = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
        assert run.code == 0 and not run.cli, run.stderr
        result: dict[str, Any] = json.loads(run.stdout)
        result["fast"] = run.fast
        return result

    (repo / "core.py").write_text("def parse_request(raw, strict=False):\n    return raw\n")
    bump_mtime(repo / "core.py")
    edited = doc()
    assert (edited["fast"], edited["changed"], edited["parsed"]) == (False, True, 1)
    assert doc()["fast"]
    (repo / "client.py").unlink()
    removed = doc()
    assert (removed["changed"], removed["removed"], removed["files"]) == (True, 1, 3)
    (repo / "new.py").write_text("def added():\n    pass\n")
    assert doc()["parsed"] == 1
    (repo / "web" / "app.min.js").write_text("var b=2;\n")  # a new skip: skips rewritten
    skipped = doc()
    assert skipped["skipped"] == {"generated": 1, "minified": 1}
    again = doc()
    assert again["fast"] and again["skipped"] == skipped["skipped"] and again["files"] == 4


def test_same_content_new_mtime_falls_back_once(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    bump_mtime(repo / "core.py")
    run = lynkr("index", str(repo), "--no-claude-md", cwd=cwd)
    assert not run.fast and "index up to date" in run.stdout  # stat refreshed, no re-parse
    assert not run.cli
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).fast


def test_other_options_run_before_typer_too(tmp_path: Path, cwd: Path) -> None:
    """--full, --check, --stdout and the root options are read from the table too."""
    repos = twins(tmp_path, cwd, "--no-claude-md")
    full = both(repos, cwd, "--no-claude-md", "--full", "--json")
    assert json.loads(full.stdout)["full_rebuild"] is True
    check = both(repos, cwd, "--check")  # no CLAUDE.md yet: stale
    assert check.code == 1 and "CLAUDE.md is stale" in check.stderr
    assert both(repos, cwd, "--stdout").stdout.startswith("<!-- BEGIN lynkr index")
    quiet = lynkr("-vq", "index", str(repos[0]), "--no-claude-md", cwd=cwd)
    assert quiet.fast and quiet.stderr == ""


def test_help_and_lookups_are_the_full_clis(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    for args in (["--help"], ["search", "parse", "--root", str(repo)], [str(repo), "--json=1"]):
        assert lynkr("index", *args, cwd=cwd).cli


def test_config_file_pointing_the_index_elsewhere(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).fast
    other = cwd / "elsewhere.db"
    (cwd / "lynkr.toml").write_text(f'[index]\ndb_path = "{other}"\n')
    moved = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
    assert moved.recorded and json.loads(moved.stdout)["db"] == str(other)
    assert json.loads(moved.stdout)["full_rebuild"] is True
    # The default index is still there and current, but the settings point elsewhere.
    again = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
    assert again.fast and json.loads(again.stdout)["db"] == str(other)
    (cwd / "lynkr.toml").unlink()
    back = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
    assert back.fast and json.loads(back.stdout)["db"] == str(repo / ".lynkr" / "index.db")


def test_config_option(repo: Path, cwd: Path, tmp_path: Path) -> None:
    """--config before the command: the same file is read, and a missing one is exit 3."""
    named = tmp_path / "named.toml"
    named.write_text("[index]\nclaude_md = false\n")
    first = lynkr("--config", str(named), "index", str(repo), cwd=cwd)
    assert first.loaded and "CLAUDE.md" not in first.stdout
    assert lynkr("--config", str(named), "index", str(repo), cwd=cwd).fast
    missing = lynkr("--config", str(tmp_path / "nope.toml"), "index", str(repo), cwd=cwd)
    full = lynkr("--config", str(tmp_path / "nope.toml"), "index", str(repo), cwd=cwd, full=True)
    assert not missing.cli and (missing.code, missing.stderr) == (3, full.stderr)
    assert "does not exist" in missing.stderr


def test_another_working_directory(repo: Path, cwd: Path, tmp_path: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert lynkr("index", str(repo), "--no-claude-md", cwd=elsewhere).fast
    assert lynkr("index", "--no-claude-md", cwd=repo).fast
    (elsewhere / "lynkr.toml").write_text("[server]\nport = 9000\n")
    assert lynkr("index", str(repo), "--no-claude-md", cwd=elsewhere).recorded
    (elsewhere / ".env").write_text("PORT=9001\n")
    assert lynkr("index", str(repo), "--no-claude-md", cwd=elsewhere).recorded
    assert lynkr("index", str(repo), "--no-claude-md", cwd=elsewhere).fast
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).fast  # still recorded


def test_user_config_file_and_dotenv_count_too(repo: Path, cwd: Path, lynkr_home: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    user = lynkr_home / "config" / "lynkr.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("[index]\nclaude_md = false\n")
    assert lynkr("index", str(repo), cwd=cwd).recorded  # a new input: validated, recorded
    run = lynkr("index", str(repo), cwd=cwd)  # claude_md = false: behaves as --no-claude-md
    assert run.fast and "CLAUDE.md" not in run.stdout and not (repo / "CLAUDE.md").exists()
    (cwd / ".env").write_text("LYNKR_INDEX_CLAUDE_MD=true\n")
    run = lynkr("index", str(repo), cwd=cwd)
    assert run.recorded and "CLAUDE.md: written" in run.stdout


def test_environment_db_path(repo: Path, cwd: Path, tmp_path: Path) -> None:
    env = dict(os.environ) | {"LYNKR_INDEX_DB": str(tmp_path / "env.db")}
    first = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=env)
    assert json.loads(first.stdout)["db"] == str(tmp_path / "env.db")
    second = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=env)
    assert second.fast and json.loads(second.stdout)["db"] == str(tmp_path / "env.db")
    assert not (repo / ".lynkr").exists()
    relative = dict(os.environ) | {"LYNKR_INDEX_DB_PATH": ".lynkr/i.db", "LYNKR_INDEX_DB": "x"}
    built_rel = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=relative)
    assert json.loads(built_rel.stdout)["db"] == str(repo / ".lynkr" / "i.db")
    assert lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=relative).fast


def test_invalid_settings_keep_their_exit_code(repo: Path, cwd: Path) -> None:
    """Reported through the CLI's error boundary, as the full CLI reports them."""
    built(repo, cwd, "--no-claude-md")
    for name, value in (("PORT", "not-a-port"), ("LYNKR_INDEX_WORKERS", "-1")):
        env = os.environ | {name: value}
        run = lynkr("index", str(repo), "--no-claude-md", cwd=cwd, env=env)
        full = lynkr("index", str(repo), "--no-claude-md", cwd=cwd, env=env, full=True)
        assert (run.code, run.stderr, run.stdout) == (3, full.stderr, full.stdout)
        assert not run.cli and "invalid settings" in run.stderr
        json_run = lynkr("index", str(repo), "--json", cwd=cwd, env=env)
        assert json.loads(json_run.stdout)["error"]["exit"] == 3
    (cwd / "lynkr.toml").write_text("[server]\nno_such_setting = 1\n")
    run = lynkr("index", str(repo), "--no-claude-md", cwd=cwd)
    assert run.code == 3 and "unknown setting" in run.stderr
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).code == 3  # never recorded


def test_free_text_settings_keep_the_snapshot(repo: Path, cwd: Path, lynkr_home: Path) -> None:
    """Only whether a key is set counts: a new value is read, never written down."""
    env = os.environ | {"ANTHROPIC_API_KEY": "sk-ant-secret-value", "LYNKR_HOST": "0.0.0.0"}
    built(repo, cwd, "--no-claude-md")
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd, env=env).recorded
    env["ANTHROPIC_API_KEY"] = "sk-ant-another-secret"
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd, env=env).fast
    stored = (lynkr_home / "cache" / snapshot.FILENAME).read_text(encoding="utf-8")
    assert "sk-ant" not in stored and "0.0.0.0" not in stored


def test_exit_codes(repo: Path, cwd: Path) -> None:
    missing = lynkr("index", str(cwd / "nope"), "--no-claude-md", cwd=cwd)
    assert (missing.code, missing.cli) == (6, True) and "not a directory" in missing.stderr
    built(repo, cwd, "--no-claude-md")
    assert lynkr("index", str(repo), "--no-claude-md", cwd=cwd).code == 0


def test_index_of_another_root_or_old_schema(repo: Path, cwd: Path) -> None:
    built(repo, cwd, "--no-claude-md")
    db = repo / ".lynkr" / "index.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    run = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd)
    assert not run.cli and json.loads(run.stdout)["full_rebuild"] is True


def test_nothing_to_do_is_what_the_build_reports(repo: Path, cwd: Path) -> None:
    """The answer from the index alone (service.unchanged) is the report a build that
    ran would give: the same document, field for field."""
    built(repo, cwd)
    conf = settings.get_settings().index
    answered = service.unchanged(repo, conf, "write")
    assert answered is not None and answered.claude_md == "unchanged"
    from lynkr_cli.index import api

    report = api.build(repo, settings=conf)  # the build itself, finding nothing to do
    doc, built_doc = answered.report.as_dict(), report.as_dict()
    doc["seconds"] = built_doc["seconds"] = 0
    assert doc == built_doc


def test_missing_grammar_warning_is_in_the_report(
    repo: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lynkr_cli.index import build, languages

    built(repo, cwd, "--no-claude-md")
    db = repo / ".lynkr" / "index.db"
    conn, rows = build.open_existing(db, repo)
    assert conn is not None
    try:
        assert build.unchanged_report(repo, db, conn, rows) is not None
        monkeypatch.setattr(languages, "installed", lambda name: name != "javascript")
        report = build.unchanged_report(repo, db, conn, rows)
        assert report is not None and report.warnings  # printed by the full command
    finally:
        conn.close()
    # Planned again under the write lock (another writer came first): warned once.
    assert build._usable_languages(["a.js"], report) == build._usable_languages(["b.js"], report)
    assert len(report.warnings) == 1


def test_git_is_started_only_where_a_work_tree_can_be(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lynkr_cli.index import discover

    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    (repo / "web" / "deep").mkdir()
    assert discover._maybe_in_git(repo) and discover._maybe_in_git(repo / "web" / "deep")
    plain = tmp_path / "plain"
    plain.mkdir()
    if discover._maybe_in_git(tmp_path):
        pytest.skip("the temporary directory is inside a git work tree")
    assert not discover._maybe_in_git(plain)
    (plain / ".git").write_text("gitdir: /elsewhere\n")  # a worktree or submodule
    assert discover._maybe_in_git(plain)
    (plain / ".git").unlink()
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert discover._maybe_in_git(plain)


def test_hookimpl_without_importing_pluggy_up_front() -> None:
    code = (
        "import sys, lynkr_cli; assert 'pluggy' not in sys.modules; "
        "from lynkr_cli import hookimpl; import pluggy; "
        "assert isinstance(hookimpl, pluggy.HookimplMarker) and lynkr_cli.hookimpl is hookimpl"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_console_script_entry(cwd: Path) -> None:
    for args, expected in ((["--version"], "lynkr 0.1.0"), (["--help"], "index")):
        proc = subprocess.run(
            [sys.executable, "-m", "lynkr_cli", *args],
            cwd=cwd, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert expected in proc.stdout


@pytest.mark.parametrize("flags", [["--json", "--no-claude-md"], ["--no-claude-md"], []])
def test_a_first_run_loads_the_settings_without_typer(
    repo: Path, cwd: Path, flags: list[str]
) -> None:
    first = lynkr("index", str(repo), *flags, cwd=cwd)
    assert first.code == 0 and first.loaded, first.stderr
    assert lynkr("index", str(repo), *flags, cwd=cwd).fast  # it left its record
    for leftover in (repo / ".lynkr", repo / "CLAUDE.md"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    full = lynkr("index", str(repo), *flags, cwd=cwd, full=True)
    assert full.cli and (first.code, first.stderr) == (full.code, full.stderr)
    assert masked(first.stdout) == masked(full.stdout)


def test_a_third_party_plugin_takes_the_full_cli(repo: Path, cwd: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "lynkr_extra-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lynkr-extra\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lynkr]\nextra = lynkr_extra_plugin\n")
    (site / "lynkr_extra_plugin.py").write_text("")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ) | {"PYTHONPATH": path, "LYNKR_LOAD_PLUGINS": "extra"}
    run = lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=env)
    assert run.code == 0 and run.cli, run.stderr
    assert lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=env).cli
    # Not allowed to load (this suite's LYNKR_LOAD_PLUGINS=""), it changes nothing.
    env["LYNKR_LOAD_PLUGINS"] = ""
    shutil.rmtree(repo / ".lynkr")
    assert lynkr("index", str(repo), "--json", "--no-claude-md", cwd=cwd, env=env).loaded
