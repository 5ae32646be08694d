"""Where else Claude Code's variables are set, and which extra variables are risky.

Claude Code reads ``ANTHROPIC_*`` from its process environment and from the
``env`` blocks of its settings files (user < project < local, later wins), and
a ``primaryApiKey`` saved in ``~/.claude.json`` by ``/login``. A profile that
loses to any of those looks like a switch that "did nothing". The scanners here
find every such source with ``file:line``; values are always masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lynkr_cli.logs import redact_text
from lynkr_cli.settings import mask_secret
from lynkr_cli.switch import targets
from lynkr_cli.switch.profiles import is_secret_name

# Names whose presence in a shared profile can run code, redirect traffic or weaken TLS.
_RISKY_EXACT = {
    "PATH": "changes which programs run",
    "NODE_OPTIONS": "can load arbitrary code into Claude Code (--require)",
    "NODE_PATH": "changes which modules Claude Code loads",
    "NODE_TLS_REJECT_UNAUTHORIZED": "can turn off TLS certificate checks",
    "NODE_EXTRA_CA_CERTS": "adds trusted certificate authorities",
    "PYTHONPATH": "changes which Python code runs",
    "PYTHONSTARTUP": "runs a file in every Python started",
    "BASH_ENV": "runs a file in every bash started",
    "ENV": "runs a file in every sh started",
    "SHELL": "changes the shell Claude Code runs commands in",
    "CLAUDE_CODE_SHELL_PREFIX": "wraps every command Claude Code runs",
}
_RISKY_PREFIX = {
    "LD_": "can inject libraries into every process",
    "DYLD_": "can inject libraries into every process",
}
_PROXY = re.compile(r"^(HTTPS?_PROXY|ALL_PROXY|NO_PROXY|SOCKS_PROXY)$", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One variable set somewhere: ``where`` is a label or ``file:line``."""

    name: str
    value: str  # masked when secret
    where: str
    kind: str  # process-env | rc-file | dotenv | settings | claude-json

    def as_dict(self) -> dict[str, str]:
        return self.__dict__.copy()


def risky(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """Extra variables to confirm before saving an imported profile: (name, why)."""
    out = []
    for name in env:
        upper = name.upper()
        if upper in _RISKY_EXACT:
            out.append((name, _RISKY_EXACT[upper]))
        elif _PROXY.match(name):
            out.append((name, "sends Claude Code's traffic (and your key) through a proxy"))
        else:
            for prefix, why in _RISKY_PREFIX.items():
                if upper.startswith(prefix):
                    out.append((name, why))
    return out


def insecure_base_url(url: str) -> bool:
    """Plain http to anything but this machine sends the key in the clear."""
    parts = urlsplit(url.strip())
    if parts.scheme != "http" or not parts.hostname:
        return False
    host = parts.hostname
    return host not in ("localhost", "::1") and not host.startswith("127.")


def masked(name: str, value: str) -> str:
    """Secret-named values masked; any credential-shaped text in the others too."""
    return (mask_secret(value) or "") if is_secret_name(name) else redact_text(value)


# Set to a true value, these make Claude Code use another cloud and ignore the base URL.
THIRD_PARTY = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")


def _wanted(name: str) -> bool:
    return name.startswith("ANTHROPIC_") or name == "CLAUDE_CONFIG_DIR" or name in THIRD_PARTY


def truthy(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "no", "off")


# --------------------------------------------------------------------------- scanners


Wanted = Callable[[str], bool]


def process_env(environ: Mapping[str, str], wanted: Wanted = _wanted) -> list[Finding]:
    return [
        Finding(name, masked(name, value), "process environment", "process-env")
        for name, value in sorted(environ.items())
        if wanted(name)
    ]


RC_FILES = (
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish/config.fish",
)
_SH_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$")
_FISH_SET = re.compile(r"^\s*set\s+(?:-[a-zA-Z]+\s+)*([A-Z_][A-Z0-9_]*)\s+(.*)$")


_FISH_UNIVERSAL = re.compile(r"^SETUVAR\s+--export\s+([A-Z_][A-Z0-9_]*):(.*)$")


def _fish_unescape(value: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def _unquote(value: str) -> str:
    value = value.strip().split(" #")[0].strip().rstrip(";")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def rc_files(home: Path, wanted: Wanted = _wanted) -> list[Finding]:
    """``ANTHROPIC_*`` assignments in shell startup files, as ``file:line``."""
    files = [home / name for name in RC_FILES]
    files += sorted((home / ".config" / "fish" / "conf.d").glob("*.fish"))
    out = []
    for path in files:
        pattern = _FISH_SET if path.suffix == ".fish" else _SH_ASSIGN
        out += _scan_lines(path, pattern, "rc-file", wanted)
    # `set -Ux` keeps exported universal variables here, in no startup file at all.
    fish_vars = home / ".config" / "fish" / "fish_variables"
    out += _scan_lines(fish_vars, _FISH_UNIVERSAL, "rc-file", wanted)
    return out


_NEEDLES = ("ANTHROPIC_", "CLAUDE_")


def _candidate_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for lines naming a variable we care about.

    rc files are long and almost never match: str.find the needles (far faster than
    a regex or a Python loop over lines), then cut out just those lines.
    """
    starts: set[int] = set()
    for needle in _NEEDLES:
        at = text.find(needle)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            at = text.find(needle, at + len(needle))
    out = []
    for start in sorted(starts):
        end = text.find("\n", start)
        out.append((text.count("\n", 0, start) + 1, text[start : end if end >= 0 else None]))
    return out


def _scan_lines(
    path: Path, pattern: re.Pattern[str], kind: str, wanted: Wanted = _wanted
) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for number, line in _candidate_lines(text):
        if line.lstrip().startswith("#"):
            continue
        match = pattern.match(line)
        if match and wanted(match.group(1)):
            raw = match.group(2)
            value = _fish_unescape(raw) if pattern is _FISH_UNIVERSAL else _unquote(raw)
            name = match.group(1)
            out.append(Finding(name, masked(name, value), f"{path}:{number}", kind))
    return out


def dotenv_files(cwd: Path, wanted: Wanted = _wanted) -> list[Finding]:
    out = []
    for name in (".env", ".env.local"):
        out += _scan_lines(cwd / name, _SH_ASSIGN, "dotenv", wanted)
    return out


def settings_files(cwd: Path) -> list[Finding]:
    out = []
    for scope in targets.SCOPES:
        path = targets.settings_path(scope, cwd)
        for name, value in targets.file_env(path).items():
            if _wanted(name):
                out.append(Finding(name, masked(name, value), f"{path} ({scope})", "settings"))
    return out


def api_key_helpers(cwd: Path) -> list[Finding]:
    """``apiKeyHelper`` in a settings file: its output becomes the key on every request."""
    out = []
    for scope in targets.SCOPES:
        path = targets.settings_path(scope, cwd)
        try:
            helper = targets.read_settings(path).get("apiKeyHelper")
        except Exception:
            continue  # unreadable files are reported by the settings checks
        if helper:
            # A helper is a command line, sometimes with a key pasted into it.
            shown = redact_text(str(helper))
            out.append(Finding("apiKeyHelper", shown, f"{path} ({scope})", "settings"))
    return out


def claude_json(home: Path) -> list[Finding]:
    """``primaryApiKey`` saved by ``/login`` competes with any profile's key."""
    path = home / ".claude.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    key = data.get("primaryApiKey") if isinstance(data, dict) else None
    if not key:
        return []
    return [Finding("primaryApiKey", mask_secret(str(key)) or "", str(path), "claude-json")]


def scan_all(environ: Mapping[str, str], home: Path, cwd: Path) -> list[Finding]:
    return (
        process_env(environ)
        + rc_files(home)
        + dotenv_files(cwd)
        + settings_files(cwd)
        + claude_json(home)
    )


def effective(environ: Mapping[str, str], cwd: Path) -> dict[str, tuple[str, str]]:
    """What Claude Code would see started here: name -> (value, where), later wins."""
    out: dict[str, tuple[str, str]] = {
        name: (value, "process environment") for name, value in environ.items() if _wanted(name)
    }
    for scope in targets.SCOPES:
        path = targets.settings_path(scope, cwd)
        for name, value in targets.file_env(path).items():
            out[name] = (value, f"{path} ({scope})")
    return out


def shadowing(scope: str, environ: Mapping[str, str], cwd: Path) -> list[Finding]:
    """Sources that would override a profile just written at ``scope``."""
    later = list(targets.SCOPES)[list(targets.SCOPES).index(scope) + 1 :]  # type: ignore[arg-type]
    out = []
    for other in later:
        path = targets.settings_path(other, cwd)
        for name, value in targets.file_env(path).items():
            if name in ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
                out.append(Finding(name, masked(name, value), f"{path} ({other})", "settings"))
    return out


# --------------------------------------------------------------------------- after a switch

# Names people set (the Lynkr article says CLAUDE_CODE_ENDPOINT) that Claude Code never reads.
UNREAD = {
    "CLAUDE_CODE_ENDPOINT": "ANTHROPIC_BASE_URL",
    "CLAUDE_CODE_BASE_URL": "ANTHROPIC_BASE_URL",
}


def unread_names(environ: Mapping[str, str], home: Path, cwd: Path) -> list[Finding]:
    """Where a variable Claude Code does not read is set (environment, rc files, .env)."""

    def wanted(name: str) -> bool:
        return name in UNREAD

    return process_env(environ, wanted) + rc_files(home, wanted) + dotenv_files(cwd, wanted)


def endpoint_fix(url: str, gateway_port: int) -> str:
    """The commands that make Claude Code use ``url`` the way Claude Code reads it."""
    parts = urlsplit(url.strip())
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if local and (parts.port or 80) == gateway_port and parts.path.strip("/") == "":
        return "`lynkr switch lynkr` (writes ANTHROPIC_BASE_URL for the local gateway)"
    base = url.strip().rstrip("/")
    return (
        f"`lynkr switch add gateway --base-url {base} --key lynkr-local && lynkr switch gateway`,"
        f" or `export ANTHROPIC_BASE_URL={base}`"
    )


def stale_after_switch(env: Mapping[str, str], home: Path, cwd: Path) -> list[Finding]:
    """rc-file and ``.env`` lines that disagree with the profile just written (``env``).

    Claude Code lets its settings files override the environment for the variables a
    profile sets, but a managed variable the profile does *not* set still reaches it
    from the shell (a second key, an old model), and a Bedrock/Vertex switch turns the
    base URL off entirely: the usual reasons a switch "did not work".
    """
    from lynkr_cli.switch.profiles import MANAGED_VARS

    def wanted(name: str) -> bool:
        return name in MANAGED_VARS or name in THIRD_PARTY

    out = []
    for found in rc_files(home, wanted) + dotenv_files(cwd, wanted):
        if found.name in THIRD_PARTY:
            if truthy(found.value):
                out.append(found)
        elif found.name not in env or found.value != masked(found.name, env[found.name]):
            out.append(found)
    return out
