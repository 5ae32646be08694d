"""Export lines for one shell: ``eval "$(lynkr switch NAME --shell bash)"``.

Values are quoted for the target shell so any byte survives; managed variables
the profile does not set are unset, so a stale key from an earlier export never
wins over the new profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from lynkr_cli.errors import UsageError

Shell = Literal["bash", "zsh", "fish", "powershell"]
SHELLS: tuple[Shell, ...] = ("bash", "zsh", "fish", "powershell")


def quote(shell: Shell, value: str) -> str:
    if shell in ("bash", "zsh"):
        return "'" + value.replace("'", "'\\''") + "'"
    if shell == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def export_line(shell: Shell, name: str, value: str) -> str:
    if shell in ("bash", "zsh"):
        return f"export {name}={quote(shell, value)}"
    if shell == "fish":
        return f"set -gx {name} {quote(shell, value)}"
    return f"$env:{name} = {quote(shell, value)}"


def unset_line(shell: Shell, name: str) -> str:
    if shell in ("bash", "zsh"):
        return f"unset {name}"
    if shell == "fish":
        return f"set -e {name}"
    return f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"


def script(shell: str, env: Mapping[str, str], unset: Iterable[str] = ()) -> str:
    """The lines that make ``env`` the shell's environment and drop ``unset``."""
    if shell not in SHELLS:
        raise UsageError(f"unknown shell {shell!r}", hint=f"Use one of {', '.join(SHELLS)}.")
    checked: Shell = shell
    lines = [unset_line(checked, name) for name in unset if name not in env]
    lines += [export_line(checked, name, value) for name, value in env.items()]
    return "\n".join(lines) + "\n"
