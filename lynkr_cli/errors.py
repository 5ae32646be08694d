"""Errors a user can meet, and the exit codes they map to.

The hierarchy::

    LynkrError                 message for humans, optional hint, an ExitCode
    ├── UsageError             bad arguments or input            (2)
    ├── ConfigError            invalid or missing settings       (3)
    ├── UpstreamError          network or upstream failure       (4)
    ├── PolicyError            a guard refused the action        (5)
    ├── NotFoundError          a named thing does not exist      (6)
    ├── PluginError            a plugin misbehaved               (7)
    └── GitError               a git failure; carries its own code (10-19)

``cli.main`` is the only place that turns these into exit codes and stderr text.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes. Scripts depend on these: never renumber."""

    OK = 0
    FAILURE = 1  # a check failed (doctor, --check), or an unexpected internal error
    USAGE = 2
    CONFIG = 3
    UPSTREAM = 4
    POLICY = 5
    NOT_FOUND = 6
    PLUGIN = 7
    GIT_NOT_A_REPO = 10
    GIT_DETACHED_HEAD = 11
    GIT_NO_UPSTREAM = 12
    GIT_CONFLICT = 13
    GIT_NOTHING_TO_COMMIT = 14
    GIT_EMPTY_RANGE = 15
    GIT_PUSH_REJECTED = 16
    GIT_FAILED = 19
    INTERRUPTED = 130


class LynkrError(Exception):
    """Base of every error meant for a user: what happened, and how to fix it."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(
        self, message: str, *, hint: str | None = None, exit_code: ExitCode | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(LynkrError):
    exit_code = ExitCode.USAGE


class ConfigError(LynkrError):
    exit_code = ExitCode.CONFIG


class UpstreamError(LynkrError):
    exit_code = ExitCode.UPSTREAM


class PolicyError(LynkrError):
    exit_code = ExitCode.POLICY


class NotFoundError(LynkrError):
    exit_code = ExitCode.NOT_FOUND


class PluginError(LynkrError):
    exit_code = ExitCode.PLUGIN


class GitError(LynkrError):
    exit_code = ExitCode.GIT_FAILED
