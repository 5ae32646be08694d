"""The environment of the subprocesses lynkr starts.

A command the user runs (``lynkr git``, ``lynkr index``) passes the user's own
environment on, as any CLI does. A subprocess a *model* drives through a gateway
tool (git, ripgrep, the test command, the index's ``git ls-files``) gets an
allow-listed environment instead, so the upstream keys the gateway holds
(``ANTHROPIC_API_KEY``, ``AWS_*``…) and variables that would redirect or reconfigure
the tools (``GIT_DIR``, ``GIT_CONFIG_*``, ``LD_PRELOAD``, ``PYTHONPATH``…) never
reach them.

The tool layer runs each call inside :func:`confined`; every place that starts a
process asks :func:`child_env` for its environment. A context variable carries the
choice, so it follows the call into worker threads (``asyncio.to_thread`` copies the
context) and reaches helpers that never see the tool layer (``refs.resolve_commit``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

# Locating programs and formatting their output; none of these holds a credential.
BASE_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TMP",
     "TEMP", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR",
     "VIRTUAL_ENV", "CONDA_PREFIX", "JAVA_HOME", "GOPATH", "GOROOT", "CARGO_HOME",
     "RUSTUP_HOME", "PYENV_ROOT", "NVM_DIR", "SYSTEMROOT"}
)  # fmt: skip
BASE_PATTERNS = ("LC_*",)

_CONFINED: ContextVar[Mapping[str, str] | None] = ContextVar("lynkr_child_env", default=None)


def allowed_environment(
    extra: Iterable[str] = (), source: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The allow-listed part of ``source`` (default ``os.environ``).

    ``extra`` are the names a user adds (``LYNKR_TOOL_ENV_PASS``); a name may end in
    ``*`` to pass every variable with that prefix (``PYTEST_*``).
    """
    source = os.environ if source is None else source
    patterns = [*BASE_PATTERNS, *(p.strip() for p in extra if p.strip())]
    env: dict[str, str] = {}
    for name, value in source.items():
        if value.startswith("() {"):
            continue  # an exported shell function: code, not configuration
        if name in BASE_NAMES or any(fnmatch.fnmatchcase(name, p) for p in patterns):
            env[name] = value
    return env


@contextmanager
def confined(env: Mapping[str, str]) -> Iterator[None]:
    """Within the block (and the threads and tasks it starts), children get only ``env``."""
    token = _CONFINED.set(dict(env))
    try:
        yield
    finally:
        _CONFINED.reset(token)


def is_confined() -> bool:
    return _CONFINED.get() is not None


def child_env() -> dict[str, str]:
    """A fresh copy of the environment a subprocess started here should get."""
    env = _CONFINED.get()
    return dict(os.environ if env is None else env)
