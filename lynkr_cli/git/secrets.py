"""Finding secrets in added lines. Findings say where and what kind, never the value.

The detectors are :mod:`lynkr_cli.secretscan`'s (shared with the gateway's guard): a
regex per credential with a recognisable shape (private keys, cloud keys, vendor
tokens), then generic assignments such as ``api_key = "…"`` whose value looks random
(Shannon entropy), skipping obvious placeholders.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

from lynkr_cli.git.models import Record
from lynkr_cli.secretscan import ASSIGNMENT as _ASSIGNMENT
from lynkr_cli.secretscan import DETECTORS, looks_random, shannon_entropy
from lynkr_cli.secretscan import HINTS as _HINTS


@dataclass(frozen=True)
class SecretFinding(Record):
    path: str
    line: int
    kind: str


def scan_line(text: str) -> str | None:
    """The kind of secret in ``text``, or None."""
    for kind, pattern in DETECTORS:
        if pattern.search(text):
            return kind
    match = _ASSIGNMENT.search(text)
    if match is not None and looks_random(match["value"]):
        return "high-entropy secret assignment"
    return None


def scan(path: str, lines: Iterable[tuple[int, str]]) -> list[SecretFinding]:
    """Findings in the numbered (added) lines of one file."""
    return [
        SecretFinding(path, number, kind)
        for number, text in lines
        if (kind := scan_line(text)) is not None
    ]


def redact_line(text: str) -> str:
    """``text`` with anything that looks like a secret replaced (before it leaves lynkr)."""
    for _, pattern in DETECTORS:
        text = pattern.sub("[REDACTED]", text)
    match = _ASSIGNMENT.search(text)
    if match is not None and scan_line(text) is not None:
        text = text[: match.start("value")] + "[REDACTED]" + text[match.end("value") :]
    return text


# --------------------------------------------------------------------------- secret files
#
# The one definition of "a file whose content never reaches a model", shared by the
# gateway's tools (read, search, diff, show) and anything else that sends file content
# to a model. Names match case-insensitively.

SECRET_NAMES = (
    ".env", ".env.*", "*.env", ".envrc", ".netrc", "_netrc", ".npmrc", ".pypirc", ".yarnrc.yml",
    ".git-credentials", ".pgpass", ".my.cnf", ".htpasswd", ".vault-token", ".boto", ".s3cfg",
    ".dockercfg", "*.pem", "*.key", "*.p12", "*.pfx", "*.keystore", "*.jks", "*.kdbx", "*.ppk",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "credentials", "credentials.json",
    "credentials.yml", "credentials.yaml", "credentials.toml", "credentials.csv", "secrets.json",
    "secrets.yml", "secrets.yaml", "secrets.toml", "secrets.ini", "secrets.env", "secrets.txt",
    ".secrets", "*.secret", "*.secrets", "*.tfvars", "*.tfvars.json", "*.tfstate",
    "*.tfstate.backup", "kubeconfig", "service-account*.json",
)  # fmt: skip
# Templates that conventionally hold no real values: shown, but with every value redacted.
SECRET_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist")
# Every file under a directory of these names (at any depth) is a secret.
SECRET_DIRS = frozenset({".ssh", ".gnupg", ".aws", ".azure"})
# Paths whose last segments match one of these.
SECRET_PATHS = (".kube/config", ".docker/config.json", ".config/gh/hosts.yml", ".config/gcloud/*")
# Files of KEY=VALUE lines: wherever one is shown, every value is redacted.
ENV_NAMES = (".env", ".env.*", "*.env", ".envrc")
# Configuration formats: a secret-named key's value is redacted even unquoted.
CONFIG_SUFFIXES = (".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".properties", ".json")


def _glob(pattern: str) -> str:
    """A regex for a glob over path segments (``*`` stays within one segment)."""
    return "/".join(re.escape(seg).replace(r"\*", "[^/]*") for seg in pattern.split("/"))


_NAME_RE = re.compile("|".join(_glob(p) for p in SECRET_NAMES))
_PATH_RE = re.compile(r"(?:^|/)(?:" + "|".join(_glob(p) for p in SECRET_PATHS) + r")$")
_PATH_HEADS = frozenset(p.split("/")[0] for p in SECRET_PATHS)
_ENV_RE = re.compile("|".join(fnmatch.translate(p) for p in ENV_NAMES))


def _parts(path: str | PurePath) -> tuple[str, ...]:
    return PurePosixPath(str(path).replace("\\", "/").lower()).parts


def is_secret_path(path: str | PurePath) -> bool:
    """True when ``path`` names a likely secret store (by its name or where it lives).

    Called for every file a search walks, so it sticks to string operations.
    """
    text = str(path).replace("\\", "/").lower()
    parts = text.split("/")
    name, parents = parts[-1], parts[:-1]
    if name in SECRET_TEMPLATES:
        return False
    if _NAME_RE.fullmatch(name) or not SECRET_DIRS.isdisjoint(parents):
        return True
    return not _PATH_HEADS.isdisjoint(parents) and _PATH_RE.search(text) is not None


def content_mode(path: str | PurePath | None) -> str:
    """How content from ``path`` is redacted: ``env``, ``config`` or ``code`` (the default)."""
    if path is None:
        return "code"
    name = (_parts(path) or ("",))[-1]
    if _ENV_RE.match(name):
        return "env"
    return "config" if name.endswith(CONFIG_SUFFIXES) else "code"


# --------------------------------------------------------------------------- redaction
#
# One redactor for everything a model is shown. It masks, in order: the known secret
# values (configured keys, the workspace's .env values), private-key blocks, every
# detector's shape and the log redactor's (``sk-…``, ``Bearer …``, ``user:pass@``), then
# the value of each ``KEY=VALUE``-like assignment whose key names a secret, in any shape
# (``export K=V``, ``K = "V"``, ``K: V``, ``"k": "v"``, ``--password=V``). In env files
# every value goes, whatever its key.

REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(
    r"(?i)secret|passw(?:or)?d|passwd|passphrase|pwd|token(?!s|iz|_?count|_?limit|_?type)"
    r"|api[_-]?key|(?:access|private|signing|encryption|master|client|app|license|service"
    r"|account)[_-]?key|credential|auth(?!or|ent|ority)|cookie|session[_-]?id|dsn"
    r"|conn(?:ection)?[_-]?str"
)
_NOT_SECRET_KEYS = frozenset({"PWD", "OLDPWD"})
_ASSIGN = re.compile(
    r"""(?:^|(?<=[\s{,;(\[+\-]))(?P<kq>["']?)(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)(?P=kq)"""
    r"""[ \t]*(?::=|=>|==?|:)[ \t]*(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',;#()\[\]{}]+)""",
    re.MULTILINE,
)
_ENV_LINE = re.compile(
    r"^(?P<pre>[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[ \t]*(?::=|=|:)[ \t]*)"
    r"(?P<value>.*?)[ \t]*$",
    re.MULTILINE,
)
_NON_VALUE = re.compile(
    r"(?i)(?:\$\w+|\$\{.*\}|\{\{.*\}\}|<[^>]*>|\[REDACTED\]|\*{3,}|none|null|nil|true|false"
    r"|undefined)"
)
_BEGIN_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_END_KEY = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_LOOKBACK = 200  # lines: a PEM key is far shorter
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_BASIC_AUTH = re.compile(r"\bBasic\s+(?P<b64>[A-Za-z0-9+/]{8,}={0,2})")


def known_pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of ``values`` (longest first), or None when there are none."""
    # A value spanning lines could not be masked without merging lines: none are that shape.
    chosen = sorted({v for v in values if v and "\n" not in v}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in chosen)) if chosen else None


def is_secret_name(name: str) -> bool:
    """True when a variable or key called ``name`` holds a secret (``DB_PASSWORD``)."""
    return name.upper() not in _NOT_SECRET_KEYS and _SECRET_KEY.search(name) is not None


def worth_knowing(name: str, value: str) -> bool:
    """Whether ``value`` of ``name`` is masked wherever it appears (too short is too common)."""
    value = value.strip().strip("'\"")
    if len(value) < 8 or _NON_VALUE.fullmatch(value) or (value.isalpha() and value.islower()):
        return False
    return is_secret_name(name) or (len(value) >= 12 and shannon_entropy(value) >= 3.5)


def env_file_values(text: str) -> list[str]:
    """The secret-looking values assigned in env-file ``text`` (for :func:`known_pattern`)."""
    found = []
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        value = match["value"].strip().strip("'\"")
        if worth_knowing(match["key"], value):
            found.append(value)
    return found


def _non_value(raw: str) -> bool:
    return not raw or _NON_VALUE.fullmatch(raw) is not None


def _redact_assignment(match: re.Match[str], mode: str, text: str) -> str:
    key, value = match["key"], match["value"]
    if not is_secret_name(key.rsplit(".", 1)[-1]):
        return match[0]
    quoted = value[:1] in ("'", '"')
    raw = value[1:-1] if quoted else value
    if _non_value(raw):
        return match[0]
    if not quoted and mode == "code":
        # `self.token = token`, `password: str`, `token = load()`: code, not a value.
        if text[match.end() : match.end() + 1] in ("(", "[", "."):
            return match[0]
        looks_random = any(c.isdigit() for c in raw) and any(c.isalpha() for c in raw)
        if not (key.isupper() or looks_random):
            return match[0]
    start = match.start("value") - match.start() + (1 if quoted else 0)
    end = start + len(raw)
    return match[0][:start] + REDACTED + match[0][end:]


def _basic_auth(match: re.Match[str]) -> str:
    """``Basic <base64 of user:password>`` (and not the word "Basic" in prose)."""
    import base64
    import binascii

    try:
        decoded = base64.b64decode(match["b64"] + "==", validate=False)
    except (binascii.Error, ValueError):
        return match[0]
    return f"Basic {REDACTED}" if b":" in decoded else match[0]


def _env_value(match: re.Match[str]) -> str:
    raw = match["value"].strip("'\"")
    return match[0] if _non_value(raw) else match["pre"] + REDACTED


def _mask_key_blocks(text: str) -> str:
    """Private keys masked from BEGIN to END (or the last line of base64), line by line."""
    lines = text.split("\n")
    in_key = False
    for i, line in enumerate(lines):
        if in_key or _BEGIN_KEY.search(line):
            in_key = not _END_KEY.search(line)
            line = _KEY_BODY.sub(REDACTED, _BEGIN_KEY.sub(REDACTED, line))
            lines[i] = _END_KEY.sub(REDACTED, line)
    return "\n".join(lines)


def _redact_text(text: str, mode: str, known: re.Pattern[str] | None) -> str:
    """Lines of one ``mode`` at once; never joins or splits a line (see the fallback)."""
    from lynkr_cli.logs import redact_text

    if known is not None:
        text = known.sub(REDACTED, text)
    if "PRIVATE KEY" in text:
        text = _mask_key_blocks(text)
    if mode == "env":
        text = _ENV_LINE.sub(_env_value, text)
    lowered = text.lower()
    for kind, pattern in DETECTORS:
        hints = _HINTS.get(kind)
        if hints is None or any(h in lowered for h in hints):
            text = pattern.sub(REDACTED, text)
    if "basic" in lowered:
        text = _BASIC_AUTH.sub(_basic_auth, text)
    text = redact_text(text)
    return _ASSIGN.sub(lambda m: _redact_assignment(m, mode, text), text)


def _redact_lines(contents: list[str], mode: str, known: re.Pattern[str] | None) -> list[str]:
    """``contents`` redacted, one output line per input line."""
    out = _redact_text("\n".join(contents), mode, known).split("\n")
    if len(out) != len(contents):
        # A shape matched across a line break (``Bearer\n…``): redo it one line at a time.
        out = [_redact_text(line, mode, known) for line in _mask_key_blocks(
            "\n".join(contents)).split("\n")]  # fmt: skip
    return out


def redact_secrets(
    text: str, path: str | PurePath | None = None, known: re.Pattern[str] | None = None
) -> str:
    """``text`` (the content of ``path``, when known) with every secret masked."""
    return "\n".join(_redact_lines(text.split("\n"), content_mode(path), known))


def redact_window(
    lines: list[str], start: int, stop: int, path: str | PurePath | None,
    known: re.Pattern[str] | None = None,
) -> list[str]:  # fmt: skip
    """``lines[start:stop]`` redacted, as if the whole file had been: a window that opens
    inside a private key (``start_line`` in its middle) still has the key's body masked."""
    if start >= min(stop, len(lines)):
        return []
    begin = start
    for i in range(start - 1, max(start - _KEY_LOOKBACK, 0) - 1, -1):
        if _END_KEY.search(lines[i]):
            break
        if _BEGIN_KEY.search(lines[i]):
            begin = i
            break
    text = redact_secrets("\n".join(lines[begin:stop]), path, known)
    return text.split("\n")[start - begin :]


def redact_patch(patch: str, known: re.Pattern[str] | None = None) -> str:
    """A unified diff fit for a model: secret files' hunks withheld, the rest redacted."""
    sections = re.split(r"(?m)^(?=diff --git )", patch)
    return "".join(_redact_section(s, known) for s in sections)


def _redact_section(section: str, known: re.Pattern[str] | None) -> str:
    from lynkr_cli.git.diffparse import parse_patch

    parsed = parse_patch(section) if section.startswith("diff --git ") else []
    if not parsed:
        return redact_secrets(section, None, known)
    changed = parsed[0]
    if any(p is not None and is_secret_path(p) for p in (changed.path, changed.orig_path)):
        return _withheld(section, changed.path)
    lines = section.split("\n")
    first = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
    head = _redact_lines(lines[:first], "code", known)
    hunks = lines[first:]
    prefixes = [line[:1] if line[:1] in ("+", "-", " ") else "" for line in hunks]
    contents = [line[len(pre) :] for pre, line in zip(prefixes, hunks, strict=True)]
    body = _redact_lines(contents, content_mode(changed.path), known)
    return "\n".join([*head, *(pre + c for pre, c in zip(prefixes, body, strict=True))])


def _withheld(section: str, path: str) -> str:
    head = section.partition("\n@@")[0].rstrip("\n")
    lines = section.split("\n")
    added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++ "))
    removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("--- "))
    note = f"[{path} is a secrets file: its {added} added and {removed} removed lines are withheld]"
    return f"{head}\n{note}\n"
