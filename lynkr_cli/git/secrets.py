"""Finding secrets in added lines. Findings say where and what kind, never the value.

Each detector is a regex for a credential with a recognisable shape (private
keys, cloud keys, vendor tokens). The last one catches generic assignments such
as ``api_key = "…"`` whose value looks random (Shannon entropy), while skipping
obvious placeholders.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from lynkr_cli.git.models import Record

# Order matters: the first matching kind names a line (Anthropic before OpenAI's "sk-").
DETECTORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    (
        "AWS secret access key",
        re.compile(r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    ),
    ("GCP API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("GCP service account key", re.compile(r"\"private_key_id\"\s*:\s*\"[0-9a-f]{40}\"")),
    ("Azure storage account key", re.compile(r"AccountKey=[A-Za-z0-9+/]{86}==")),
    ("Azure AD client secret", re.compile(r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "Slack webhook",
        re.compile(r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}"),
    ),
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{40,}")),
    (
        "OpenAI API key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}"
        ),
    ),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}")),
    ("Databricks token", re.compile(r"\bdapi[0-9a-f]{32}(?:-\d)?\b")),
)

_ASSIGNMENT = re.compile(
    r"(?i)(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credential|auth[_-]?(?:token|key|secret|header))[\w.\-]*['\"]?\s*(?::=|=>|[:=])\s*"
    r"['\"](?P<value>[^'\"\s]{16,})['\"]"
)
_PLACEHOLDER = re.compile(
    r"(?i)example|sample|dummy|fake|mock|test|secret|placeholder|changeme|your[_-]|xxxx"
    r"|\*\*\*|\$\{|\{\{|<[^>]*>|redacted"
)
_MIN_ENTROPY = 3.5


@dataclass(frozen=True)
class SecretFinding(Record):
    path: str
    line: int
    kind: str


def shannon_entropy(text: str) -> float:
    """Bits per character; random tokens score high, words and repeats low."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def scan_line(text: str) -> str | None:
    """The kind of secret in ``text``, or None."""
    for kind, pattern in DETECTORS:
        if pattern.search(text):
            return kind
    match = _ASSIGNMENT.search(text)
    if match is not None:
        value = match["value"]
        if not _PLACEHOLDER.search(value) and shannon_entropy(value) >= _MIN_ENTROPY:
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
