"""Reported problems are consistent, unreadable directories are reported, Ctrl-C is quiet,
and indexing an empty folder that is no project warns before it writes.

Real ``lynkr`` processes (the console script's entry point). The tests run as root,
which reads a mode-000 directory anyway: the processes that must not read it run with
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from their bounding set (prctl, before
exec), so they are still root, with root's files and environment, but honour modes.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.index.helpers import bump_mtime, make_repo
from tests.index.test_fastpath import FAST

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
GOOD = "def fine():\n    return 1\n"
FILES: dict[str, str | bytes] = {
    "ok.py": GOOD,
    "broken.py": "def broken(:\n    pass\n\ndef after():\n    return 2\n",
    "locked/inner.py": GOOD,
}


def _drop_dac() -> None:
    """In the child, before exec: give up reading what the modes forbid."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.fixture
def modes_honoured(tmp_path: Path) -> Callable[[], None] | None:
    """A preexec function under which a mode-000 directory cannot be listed (None when
    the tests do not run as root: modes hold anyway); skips when that cannot be had."""
    if os.geteuid() != 0:
        return None
    probe = tmp_path / "probe"
    probe.mkdir(mode=0)
    try:
        proc = subprocess.run(
            ["ls", str(probe)], preexec_fn=_drop_dac, capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot drop CAP_DAC_OVERRIDE here ({exc}): root reads every directory")
    finally:
        probe.chmod(0o755)
    if proc.returncode == 0:
        pytest.skip("root keeps reading mode-000 directories here even without DAC caps")
    return _drop_dac


def lynkr(
    *args: str, cwd: Path, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FAST, *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=300,
        preexec_fn=preexec, check=False,
    )  # fmt: skip


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A plain folder (no git) whose ``locked/`` has mode 000."""
    root = make_repo(tmp_path / "plain", dict(FILES), use_git=False)
    (root / "loop").symlink_to(root / "loop")  # a symlink loop
    (root / "gone.py").symlink_to(root / "nowhere.py")  # a dangling symlink
    (root / "locked").chmod(0)
    yield root
    (root / "locked").chmod(0o755)


EXPECTED = {
    "broken.py": "syntax error (kept what the parser recovered)",
    "gone.py": "dangling symlink",
    "locked/": "unreadable directory: Permission denied",
    "loop": "symlink loop",
}


def test_build_and_stats_report_the_same_problems(
    locked: Path, modes_honoured: Callable[[], None] | None
) -> None:
    first = lynkr("index", "--json", "--no-claude-md", cwd=locked, preexec=modes_honoured)
    assert first.returncode == 0, first.stderr
    built = json.loads(first.stdout)
    assert built["problem_files"] == EXPECTED and built["problems"] == 4
    stats = json.loads(lynkr("index", "stats", "--json", cwd=locked).stdout)
    assert (stats["problems"], stats["problem_files"]) == (4, EXPECTED)
    # An edit elsewhere: the unchanged file's syntax error is still counted, by both.
    (locked / "ok.py").write_text(GOOD + "\n\ndef more():\n    return 3\n")
    bump_mtime(locked / "ok.py")
    again = json.loads(
        lynkr("index", "--json", "--no-claude-md", cwd=locked, preexec=modes_honoured).stdout
    )
    assert (again["parsed"], again["problem_files"]) == (1, EXPECTED)
    # Nothing to do: the fast path's answer, the same problems again.
    quiet = lynkr("index", "--json", "--no-claude-md", cwd=locked, preexec=modes_honoured)
    assert json.loads(quiet.stdout)["problem_files"] == EXPECTED
    human = lynkr("index", "stats", cwd=locked).stdout
    # Piped: tab-separated rows (docs/cli.md).
    assert "\nproblems\t4\n" in human
    assert "\nproblem locked/\tunreadable directory: Permission denied\n" in human


def test_problems_that_go_away_leave_stats(
    locked: Path, modes_honoured: Callable[[], None] | None
) -> None:
    lynkr("index", "--no-claude-md", cwd=locked, preexec=modes_honoured)
    (locked / "loop").unlink()
    (locked / "locked").chmod(0o755)  # readable again: its file is indexed, nothing else new
    run = lynkr("index", "--json", "--no-claude-md", cwd=locked, preexec=modes_honoured)
    doc = json.loads(run.stdout)
    assert set(doc["problem_files"]) == {"broken.py", "gone.py"} and doc["parsed"] == 1
    stats = json.loads(lynkr("index", "stats", "--json", cwd=locked).stdout)
    assert stats["problem_files"] == doc["problem_files"]


def test_unreadable_directory_inside_git(
    tmp_path: Path, modes_honoured: Callable[[], None] | None
) -> None:
    root = make_repo(tmp_path / "repo", {"ok.py": GOOD})
    (root / "secret").mkdir()
    (root / "secret" / "new.py").write_text(GOOD)  # untracked: git must read the folder
    (root / "secret").chmod(0)
    try:
        run = lynkr("index", "--json", "--no-claude-md", cwd=root, preexec=modes_honoured)
    finally:
        (root / "secret").chmod(0o755)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["problem_files"] == {"secret/": "unreadable directory: Permission denied"}
    assert doc["files"] == 1


def test_unreadable_file(tmp_path: Path, modes_honoured: Callable[[], None] | None) -> None:
    root = make_repo(tmp_path / "r", {"ok.py": GOOD, "locked.py": GOOD}, use_git=False)
    (root / "locked.py").chmod(0)
    run = lynkr("index", "--json", "--no-claude-md", cwd=root, preexec=modes_honoured)
    (root / "locked.py").chmod(0o644)
    assert json.loads(run.stdout)["problem_files"] == {"locked.py": "unreadable"}


# --------------------------------------------------------------------------- Ctrl-C


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def test_ctrl_c_stops_the_pool_without_worker_tracebacks(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it, while the pool parses."""
    import sysconfig

    corpus = tmp_path / "big"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for package in ("email", "asyncio", "json", "http", "xml", "multiprocessing", "logging"):
        shutil.copytree(stdlib / package, corpus / package, ignore=shutil.ignore_patterns("test*"))
    env = dict(os.environ, LYNKR_INDEX_WORKERS="2")
    for _ in range(3):  # the run may finish before the pool is seen: try again, bounded
        shutil.rmtree(corpus / ".lynkr", ignore_errors=True)
        proc = subprocess.Popen(
            [sys.executable, "-c", FAST, "index", "--no-claude-md"],
            cwd=corpus, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while proc.poll() is None and len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            break
        proc.communicate(timeout=60)
    else:
        pytest.fail("three runs finished before their worker pool could be interrupted")
    assert proc.returncode == 130, (out, err)
    assert "ForkPoolWorker" not in err and "Traceback" not in err, err
    assert "KeyboardInterrupt" not in err, err
    assert not (corpus / ".lynkr" / "index.db").exists()  # an interrupted cold build: no index
    assert not [p.name for p in (corpus / ".lynkr").glob("*.tmp")]
    after = lynkr("index", "--json", "--no-claude-md", cwd=corpus)
    assert after.returncode == 0 and json.loads(after.stdout)["full_rebuild"] is True


# --------------------------------------------------------------------------- empty folders


def test_empty_folder_warns_before_writing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = lynkr("index", cwd=empty)
    assert run.returncode == 0
    assert (
        "is empty and not a project" in run.stderr and "writes .lynkr/ and CLAUDE.md" in run.stderr
    )
    assert (empty / "CLAUDE.md").is_file()
    again = lynkr("index", cwd=empty)
    assert "not a project" not in again.stderr  # an index now exists: that was chosen


def test_empty_folder_warning_comes_before_any_write(tmp_path: Path) -> None:
    """When the write then fails, the warning has been printed already, and nothing written."""
    empty = tmp_path / "empty"
    empty.mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = dict(os.environ, LYNKR_INDEX_DB=str(blocker / "index.db"))  # under a file: fails
    proc = subprocess.run(
        [sys.executable, "-c", FAST, "index", "--json"], cwd=empty, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.index("not a project") < proc.stderr.index("cannot write the index")
    assert list(empty.iterdir()) == []


def test_a_folder_with_files_or_in_git_does_not_warn(tmp_path: Path) -> None:
    plain = make_repo(tmp_path / "plain", {"notes.txt": "x\n"}, use_git=False)
    assert "not a project" not in lynkr("index", cwd=plain).stderr
    repo = make_repo(tmp_path / "repo", {"x.py": GOOD})
    (repo / "empty").mkdir()
    run = lynkr("index", "--root", str(repo / "empty"), "--json", cwd=repo)
    assert "not a project" not in run.stderr  # inside a git work tree


def test_json_lists_the_warning_once(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run = lynkr("index", "--json", "--no-claude-md", cwd=empty)
    doc = json.loads(run.stdout)
    assert [w for w in doc["warnings"] if "not a project" in w] == [doc["warnings"][0]]
    assert run.stderr.count("not a project") == 1
    assert "writes .lynkr/ there" in run.stderr
