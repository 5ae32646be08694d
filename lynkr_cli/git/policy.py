"""Every git guard, in one place. No path to a commit, push or pull skips these.

The CLI and the gateway's server-side tools both reach git through
:class:`lynkr_cli.git.repo.Repo`, whose writing methods call the checks below
before running git. The values come from the shared settings section
``policy`` (environment names ``POLICY_GIT_*``), so refusals name the variable
that lifts them.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lynkr_cli.errors import ConfigError, PolicyError, UsageError
from lynkr_cli.settings import PolicySettings

if TYPE_CHECKING:
    from lynkr_cli.git.models import TestRun
    from lynkr_cli.git.secrets import SecretFinding
    from lynkr_cli.settings import LoadedSettings

# The settings that govern git, in the order `lynkr git policy` shows them: PolicySettings'
# git_* fields, then the time the required tests may take.
POLICY_FIELDS = (
    *(name for name in PolicySettings.model_fields if name.startswith("git_")),
    "test_timeout",
)


class TestsFailed(PolicyError):
    """The required tests failed, so the commit was refused; ``run`` has the details."""

    __test__ = False  # not a pytest test class

    def __init__(self, run: TestRun) -> None:
        why = "timed out" if run.timed_out else f"exited with {run.returncode}"
        super().__init__(
            f"tests failed ({' '.join(run.command)} {why}): commit refused, "
            "the staged changes are untouched",
            hint="Fix the failures and commit again, or set POLICY_GIT_REQUIRE_TESTS=false.",
        )
        self.run = run


class SecretsFound(PolicyError):
    """The staged changes hold detected secrets, so the commit was refused (exit 5)."""

    def __init__(self, findings: Sequence[SecretFinding]) -> None:
        shown = ", ".join(f"{f.path}:{f.line} ({f.kind})" for f in findings[:10])
        more = f" and {len(findings) - 10} more" if len(findings) > 10 else ""
        count = "a possible secret" if len(findings) == 1 else f"{len(findings)} possible secrets"
        first = f"{findings[0].path}:{findings[0].line}"
        super().__init__(
            f"the staged changes hold {count}: {shown}{more}; nothing was committed",
            hint="Remove it, `lynkr git stage` the file and commit again. If it is not a "
            f"secret, allow that one finding with `--allow-secret {first}`; "
            "POLICY_GIT_BLOCK_SECRETS=false turns the check off.",
        )
        self.findings = list(findings)


def _setting_names(changes: Mapping[str, Any]) -> dict[str, Any]:
    fields = PolicySettings.model_fields
    named = {}
    for key, value in changes.items():
        name = key if key in fields else f"git_{key}"
        if name not in fields:
            raise TypeError(f"GitPolicy has no setting {key!r} (see PolicySettings)")
        named[name] = value
    return named


def _place(text: str) -> tuple[str, int]:
    """``FILE:LINE`` (as `lynkr git review` prints it) as a (path, line) pair."""
    path, _, line = text.rpartition(":")
    if not path or not line.isdigit():
        raise UsageError(
            f"--allow-secret {text!r} is not FILE:LINE",
            hint="Copy the place from the refusal or `lynkr git review --staged`, "
            "e.g. --allow-secret config/settings.py:12.",
        )
    return path.removeprefix("./"), int(line)


@dataclass(frozen=True)
class TestCommand:
    """The argv the policy runs before a commit, and where it came from."""

    __test__ = False  # not a pytest test class

    argv: list[str]
    source: str


class GitPolicy:
    """The git guards over one ``policy`` settings section.

    The values live in :class:`~lynkr_cli.settings.PolicySettings` alone (their types,
    defaults, validation and environment names); this class only reads them. Keyword
    arguments change single values, by setting name (``git_allow_push=True``) or
    without the ``git_`` prefix (``allow_push=True``), validated like the settings.
    """

    __slots__ = ("settings",)

    def __init__(self, settings: PolicySettings | None = None, **changes: Any) -> None:
        base = settings if settings is not None else PolicySettings()
        if changes:
            base = PolicySettings.model_validate(base.model_dump() | _setting_names(changes))
        self.settings = base

    @classmethod
    def from_settings(cls, policy: PolicySettings) -> GitPolicy:
        return cls(policy)

    @classmethod
    def load(cls) -> GitPolicy:
        """The policy from the effective settings (flags aside: guards have no flags)."""
        from lynkr_cli.settings import get_settings

        return cls(get_settings().policy)

    def replace(self, **changes: Any) -> GitPolicy:
        """This policy with some values changed (same names as the constructor's)."""
        return GitPolicy(self.settings, **changes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GitPolicy) and other.settings == self.settings

    __hash__ = None  # type: ignore[assignment]  # mutable settings inside: not hashable

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self.settings, name)!r}" for name in POLICY_FIELDS)
        return f"GitPolicy({values})"

    # ------------------------------------------------------------------ guards

    def check_commit(self, message: str) -> None:
        """Refuse a commit when commits are off or the message breaks the pattern."""
        if not self.settings.git_allow_commit:
            raise PolicyError(
                "commits are disabled by policy",
                hint="Set POLICY_GIT_ALLOW_COMMIT=true to allow them.",
            )
        if not message.strip():
            raise PolicyError("the commit message is empty", hint="Pass a message with -m.")
        if self.settings.git_commit_regex and self._commit_pattern().search(message) is None:
            pattern = self.settings.git_commit_regex
            raise PolicyError(
                f"the commit message does not match the required pattern {pattern!r}",
                hint="Reword the message, or change POLICY_GIT_COMMIT_REGEX.",
            )

    def check_secrets(self, findings: Sequence[SecretFinding], allowed: Sequence[str]) -> None:
        """Refuse a commit whose staged lines hold a detected secret, bar allowed ones.

        ``allowed`` holds ``FILE:LINE`` strings (``--allow-secret``), each lifting the
        one finding at that place. Findings name file, line and kind, never the value.
        """
        if not self.settings.git_block_secrets:
            return
        lifted = {_place(text) for text in allowed}
        left = [f for f in findings if (f.path, f.line) not in lifted]
        if left:
            raise SecretsFound(left)

    def check_push_enabled(self) -> None:
        """Refuse any push when pushing is off (checked before looking at the repository)."""
        if not self.settings.git_allow_push:
            raise PolicyError(
                "push is disabled by policy",
                hint="Set POLICY_GIT_ALLOW_PUSH=true to allow pushing.",
            )

    def check_push(self, target: str, *, force: bool) -> None:
        """Refuse a push unless pushing, forcing and the protected target are each allowed."""
        self.check_push_enabled()
        if force and not self.settings.git_allow_force_push:
            raise PolicyError(
                "force push is disabled by policy",
                hint="Set POLICY_GIT_ALLOW_FORCE_PUSH=true to allow --force-with-lease.",
            )
        if self.is_protected(target) and not self.settings.git_allow_protected_push:
            raise PolicyError(
                f"{target!r} is a protected branch; pushing to it is disabled by policy",
                hint="Push a feature branch and open a pull request, or set "
                "POLICY_GIT_ALLOW_PROTECTED_PUSH=true.",
            )

    def check_pull(self) -> None:
        if not self.settings.git_allow_pull:
            raise PolicyError(
                "pull is disabled by policy",
                hint="Set POLICY_GIT_ALLOW_PULL=true to allow pulling.",
            )

    def is_protected(self, branch: str) -> bool:
        """Whether ``branch`` matches a protected name or glob (``release/*``)."""
        return any(
            fnmatch.fnmatchcase(branch, pattern) for pattern in self.settings.git_protected_branches
        )

    def _commit_pattern(self) -> re.Pattern[str]:
        pattern = self.settings.git_commit_regex
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"POLICY_GIT_COMMIT_REGEX {pattern!r} is not a valid regex: {exc}",
                hint="Fix the pattern (Python `re` syntax).",
            ) from exc

    # ------------------------------------------------------------------ tests

    def tests_command(self, root: Path) -> TestCommand | None:
        """The command to run before a commit, or None when tests are not required.

        An explicit POLICY_GIT_TEST_COMMAND wins; otherwise the command `lynkr index`
        discovered. Runs without a shell: the string is split like a shell would,
        but pipes and ``&&`` are not interpreted (use a script for those).
        """
        if not self.settings.git_require_tests:
            return None
        if self.settings.git_test_command.strip():
            argv = _split(self.settings.git_test_command)
            return TestCommand(argv, "POLICY_GIT_TEST_COMMAND")
        discovered, why = discovered_test_command(root)
        if discovered is None:
            raise PolicyError(
                f"POLICY_GIT_REQUIRE_TESTS is on but no test command is known ({why})",
                hint="Set POLICY_GIT_TEST_COMMAND (for example 'pytest -q'), or run "
                "`lynkr index` so lynkr can discover one.",
            )
        return TestCommand(discovered, "lynkr index")


def _split(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"POLICY_GIT_TEST_COMMAND cannot be parsed: {exc}") from exc
    if not argv:
        raise ConfigError("POLICY_GIT_TEST_COMMAND is empty")
    return argv


def discovered_test_command(root: Path) -> tuple[list[str] | None, str]:
    """The test command `lynkr index` discovered for ``root``, or None and why not."""
    from lynkr_cli.index.api import discovered_commands

    try:
        found = discovered_commands(root)
    except Exception as exc:  # a config file it cannot read must not break the commit
        return None, f"`lynkr index` could not discover commands: {exc}"
    command = next((c for c in found.get("test", []) if c.strip()), None)
    if command is None:
        return None, "`lynkr index` discovered no test command"
    return _split(command), "discovered"


# ---------------------------------------------------------------------- report


def env_name(name: str) -> str:
    """The Lynkr environment name of a policy field (``POLICY_GIT_ALLOW_PUSH``)."""
    from lynkr_cli.settings import field_env_names

    names = field_env_names("policy", name)
    return names[1] if len(names) > 1 else names[0]


def policy_report(loaded: LoadedSettings) -> list[dict[str, Any]]:
    """Each git policy value with its environment name and where it came from."""
    values = loaded.settings.policy
    return [
        {
            "setting": f"policy.{name}",
            "env": env_name(name),
            "value": getattr(values, name),
            "source": loaded.sources[f"policy.{name}"],
        }
        for name in POLICY_FIELDS
    ]
