"""Reading and writing the files ``lynkr switch`` edits, safely against other writers.

- :func:`atomic_write`: a temporary file beside the target (mode kept, or 0600), fsync,
  rename over it. The text is encoded before the temporary file exists, and the
  temporary file is removed on *any* failure, so a refusal never leaves one behind.
- :func:`commit`: read, compute the new text, write, and make sure nobody wrote in
  between. Claude Code rewrites ``~/.claude.json`` all the time (and ``claude mcp add``
  edits it), so a write must never drop an edit made after we read. Before the rename
  the file is read again (content, mtime, size, inode); on Linux the rename is an
  atomic *exchange* (``renameat2(RENAME_EXCHANGE)``), which hands back exactly what
  was replaced, so even a write landing in the last microsecond is seen. Either way a
  change we did not expect means: recompute from the newer text and try again.
- :func:`claude_json_lock`: the lock Claude Code itself takes on ``~/.claude.json``
  (proper-lockfile's ``<file>.lock`` directory, stale after 10 s).
"""

from __future__ import annotations

import errno
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lynkr_cli import paths
from lynkr_cli.errors import ConfigError

ATTEMPTS = 10  # recomputations when another program keeps writing the same file
BACKOFF = 0.01  # seconds, times the attempt number (with jitter), between recomputations
LOCK_STALE = 10.0  # proper-lockfile's default: a lock untouched this long is abandoned


def read_text(path: Path) -> str | None:
    """The file's text, exactly (CRLF kept); None when it does not exist."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text; lynkr will not overwrite it", hint=f"Fix {path}."
        ) from exc
    except (FileNotFoundError, NotADirectoryError):
        return None  # a blocked parent is reported, with its fix, when writing
    except IsADirectoryError:
        raise ConfigError(
            f"{path} is a directory, not a file", hint=f"Move {path} aside."
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class Snapshot:
    """What a file held when read, and enough of its stat to notice a rewrite."""

    text: str | None
    stamp: tuple[int, int, int] | None  # (mtime_ns, size, inode)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def snapshot(path: Path) -> Snapshot:
    return Snapshot(read_text(path), _stamp(path))


def writable_dir(path: Path) -> Path:
    parent = path.parent
    blocker = next((p for p in [parent, *parent.parents] if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ConfigError(
            f"cannot write {path}: {blocker} is a file, not a directory",
            hint=f"Move {blocker} aside, or pick another --scope.",
        )
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create {parent}: {exc.strerror or exc}",
            hint="Check the directory's permissions, or pick another --scope.",
        ) from exc
    return parent


def real_target(path: Path) -> Path:
    """A symlinked file (dotfiles) is written through: its target changes, the link stays."""
    return path.resolve() if path.is_symlink() else path


def mode_for(path: Path, *, private: bool = False) -> int:
    """Keep an existing file's permission bits (without group/other ones when it is
    to hold a secret); new files are 0600."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return 0o600
    return mode & 0o700 if private else mode


def _temp_file(target: Path, data: bytes, mode: int) -> str:
    parent = writable_dir(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise ConfigError(
            f"cannot write in {parent}: {exc.strerror or exc}",
            hint="The directory is read-only or full; fix its permissions or pick another --scope.",
        ) from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise
    return tmp


def _encode(path: Path, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError(
            f"refusing to write {path}: the new text is not valid UTF-8 ({exc.reason})",
            hint="A value holds a lone surrogate; pass it as valid UTF-8.",
        ) from None


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over."""
    target = real_target(path)
    data = _encode(target, text)
    tmp = _temp_file(target, data, mode)
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise


# --------------------------------------------------------------------------- exchange

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> Callable[..., int] | None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_EXCHANGE: list[Callable[..., int] | None] = []  # looked up on first use (ctypes is slow)


def exchange(a: str, b: Path) -> bool:
    """Atomically swap two paths; False when this system or filesystem cannot."""
    if not _EXCHANGE:
        _EXCHANGE.append(_renameat2())
    func = _EXCHANGE[0]
    if func is None:
        return False
    result = func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if result == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    if code == errno.ENOENT:
        return False  # the target vanished: the caller's re-check sees it
    raise OSError(code, os.strerror(code), str(b))


# --------------------------------------------------------------------------- commit

# Tests replace this to make another program write at the worst moment: after lynkr
# read the file and computed its change, before the change lands.
before_commit: Callable[[Path], None] | None = None


@dataclass
class Committed:
    before: str | None  # what the write replaced (what a backup must hold)
    after: str
    written: bool
    retries: int = 0


def commit(
    path: Path,
    build: Callable[[str | None], str],
    *,
    on_replace: Callable[[str | None], None] | None = None,
    private: bool = False,
) -> Committed:
    """Write ``build(current text)`` to ``path``; recompute if someone else wrote meanwhile.

    ``on_replace(text)`` runs once, before the first byte changes, with the text about
    to be replaced (the backup). ``private``: the new text holds a secret, so the file
    loses any group/other permission bits. A file that keeps changing under us for ``ATTEMPTS``
    rounds is an error, and nothing of the other writer's is lost.
    """
    target = real_target(path)
    writable_dir(target)
    seen = snapshot(target)
    backed_up = False
    for attempt in range(ATTEMPTS):
        after = build(seen.text)
        if after == (seen.text if seen.text is not None else ""):
            return Committed(seen.text, after, False, attempt)
        data = _encode(target, after)
        if before_commit is not None:
            before_commit(target)
        if not backed_up and on_replace is not None:
            on_replace(seen.text)
            backed_up = True
        if _swap_in(target, data, seen, private):
            return Committed(seen.text, after, True, attempt)
        # Someone wrote in between: let them finish, then build again on what is there.
        time.sleep(BACKOFF * (attempt + 1) * random.uniform(0.5, 1.5))
        seen = snapshot(target)
    raise ConfigError(
        f"{target} kept changing while lynkr wrote it ({ATTEMPTS} attempts); nothing was lost",
        hint="Another program is rewriting it in a loop; close it (or wait) and run again.",
    )


def _swap_in(target: Path, data: bytes, seen: Snapshot, private: bool) -> bool:
    """Put ``data`` at ``target`` if it still holds ``seen``; False if someone wrote first."""
    tmp = _temp_file(target, data, mode_for(target, private=private) if seen.stamp else 0o600)
    try:
        if snapshot(target) != seen:
            return False
        if seen.text is None:
            return _create(tmp, target)
        if not exchange(tmp, target):
            os.replace(tmp, target)
            return True
        if read_text(Path(tmp)) == seen.text:
            return True
        _swap_back(tmp, target, data)  # a write landed between our check and the swap
        return False
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


def _create(tmp: str, target: Path) -> bool:
    """A new file: link it into place only if nobody created one meanwhile."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError:
        os.replace(tmp, target)  # a filesystem without hard links
    return True


def _swap_back(tmp: str, target: Path, ours: bytes) -> None:
    """We swapped out a newer write: swap it back, and keep anything else that appeared."""
    exchange(tmp, target)
    back = Path(tmp).read_bytes()
    if back != ours:  # a third write landed in the microseconds between the two swaps
        kept = paths.ensure_dir(paths.state_dir() / "backups") / f"{time.time_ns()}-{target.name}"
        os.replace(tmp, kept)
        raise ConfigError(
            f"{target} was written by two other programs while lynkr wrote it; "
            f"the newer text is in place, the other is kept in {kept}",
            hint="Compare the two and run the switch again.",
        )


# --------------------------------------------------------------------------- locks


def _poll_lock(acquire: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not acquire():
        if time.monotonic() > deadline:
            raise ConfigError(
                f"{what} has been held for over {timeout:g}s",
                hint="Wait for the other program to finish, or remove the lock if none runs.",
            )
        time.sleep(0.05)


@contextmanager
def switch_lock(timeout: float = 30.0) -> Iterator[None]:
    """One lynkr writer of these files at a time, across processes (flock where available)."""
    try:
        import fcntl
    except ImportError:  # Windows: the checked commit still keeps each file whole
        yield
        return
    path = paths.ensure_dir(paths.state_dir()) / "switch.lock"
    with open(path, "a+b") as handle:

        def take() -> bool:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        _poll_lock(take, f"another lynkr switch ({path})", timeout)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def claude_json_lock(path: Path, timeout: float = LOCK_STALE + 2) -> Iterator[None]:
    """Claude Code's own lock on ``~/.claude.json``: the directory ``<file>.lock``.

    Claude Code takes it (proper-lockfile) around every read-modify-write of the file;
    holding it while lynkr writes keeps the two from interleaving. A lock whose mtime
    is older than ``LOCK_STALE`` seconds belongs to a dead process and is taken over,
    as proper-lockfile does.
    """
    lock = real_target(path).with_name(real_target(path).name + ".lock")

    def take() -> bool:
        try:
            lock.mkdir()
            return True
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > LOCK_STALE:
                    lock.rmdir()
            except OSError:
                pass
            return False
        except FileNotFoundError:
            writable_dir(lock)
            return False

    _poll_lock(take, f"Claude Code's lock {lock}", timeout)
    try:
        yield
    finally:
        try:
            lock.rmdir()
        except OSError:
            pass
