"""Running the git CLI: argument lists only, a fixed environment, bounded in time.

Every git process lynkr starts goes through :func:`run_git`. It never uses a
shell, pins the locale so messages can be recognised, disables prompts, pagers
and editors (a tool must never hang waiting for a human), forbids the ``ext::``
transport, and treats pathspecs literally so a path is only ever a path.

The base environment is :func:`lynkr_cli.procenv.child_env`: the user's own for
``lynkr git``, the allow-listed one while a gateway tool runs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lynkr_cli.errors import ExitCode, GitError
from lynkr_cli.procenv import child_env

DEFAULT_TIMEOUT = 60.0
NETWORK_TIMEOUT = 300.0

# Options given before every subcommand: no ext:: transport (it runs commands),
# no colour, paths printed unquoted where git allows it.
_GLOBAL_OPTIONS = (
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "color.ui=false",
    "-c",
    "core.quotepath=off",
    "--no-pager",
)

_FIXED_ENV = {
    "LC_ALL": "C",
    "LANG": "C",
    "LANGUAGE": "C",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "GIT_MERGE_AUTOEDIT": "no",
    "GIT_LITERAL_PATHSPECS": "1",
    # Reading commands (status) must not rewrite the index behind a caller's back.
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
}


@dataclass(frozen=True)
class GitResult:
    """What one git process did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def git_env() -> dict[str, str]:
    """The environment for git: the caller's (or a tool's allow-listed one), with prompts,
    pagers and editors disabled."""
    env = child_env()
    env.update(_FIXED_ENV)
    if not env["GIT_ASKPASS"]:
        # An empty GIT_ASKPASS would be ignored by git; removing it keeps git from asking.
        env.pop("GIT_ASKPASS")
        env.pop("SSH_ASKPASS")
    return env


def run_git(
    cwd: Path,
    args: Sequence[str],
    *,
    check: bool = True,
    input_text: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> GitResult:
    """Run ``git ARGS`` in ``cwd``. With ``check``, a failure raises GitError (exit 19)."""
    argv = ["git", *_GLOBAL_OPTIONS, *args]
    environment = git_env()
    environment.update(env or {})
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=environment,
            input=input_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError(
            "git is not installed or not on PATH",
            hint="Install git (https://git-scm.com) and try again.",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(
            f"git {args[0] if args else ''} did not finish within {timeout:g}s",
            hint="Check the network and the remote, then retry.",
        ) from exc
    result = GitResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise failure(result)
    return result


def failure(result: GitResult, hint: str | None = None) -> GitError:
    """A GitError for a failed git process, carrying git's own first error line."""
    return GitError(
        f"git {result.args[0]} failed: {first_error_line(result)}",
        hint=hint,
        exit_code=ExitCode.GIT_FAILED,
    )


def first_error_line(result: GitResult) -> str:
    """The most telling line git wrote: its ``fatal:``/``error:`` line, else the first."""
    lines = [ln.strip() for ln in (result.stderr + "\n" + result.stdout).splitlines()]
    lines = [ln for ln in lines if ln]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[0] if lines else f"exit status {result.returncode}"
