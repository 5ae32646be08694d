"""The secret detectors, one table for everything that looks for credentials.

``lynkr git review`` and the commit guard (``git/secrets.py``), the tools' redactor and
the gateway's guard (``guard/``) all read this table, so a detector added here is found
everywhere. Each :class:`SecretKind` is a regex for a credential with a recognisable shape
(private keys, cloud keys, vendor tokens), its stable id (``aws_access_key``: the guard's
placeholders and metrics), the human label ``git review`` prints, and literals every match
contains (a cheap pre-filter). :data:`ASSIGNMENT` catches generic assignments such as
``api_key = "…"`` whose value looks random (Shannon entropy), skipping obvious placeholders.

Nothing here imports beyond the standard library: the module is safe for any package.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class SecretKind:
    kind: str  # stable id: placeholders, metrics, settings
    label: str  # what `lynkr git review` prints
    pattern: re.Pattern[str]
    hints: tuple[str, ...]  # lower-case literals; every match contains one of them


def _k(kind: str, label: str, pattern: str, *hints: str) -> SecretKind:
    return SecretKind(kind, label, re.compile(pattern), hints)


# Order matters: the first matching kind names a line (Anthropic before OpenAI's "sk-").
SECRET_KINDS: tuple[SecretKind, ...] = (
    _k("private_key", "private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
       "private key"),
    _k("aws_access_key", "AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
       "akia", "asia", "abia", "acca"),
    _k("aws_secret_key", "AWS secret access key",
       r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])", "aws"),
    _k("gcp_api_key", "GCP API key", r"\bAIza[0-9A-Za-z_\-]{35}\b", "aiza"),
    _k("gcp_service_account_key", "GCP service account key",
       r"\"private_key_id\"\s*:\s*\"[0-9a-f]{40}\"", "private_key_id"),
    _k("azure_storage_key", "Azure storage account key", r"AccountKey=[A-Za-z0-9+/]{86}==",
       "accountkey="),
    _k("azure_client_secret", "Azure AD client secret",
       r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}\b", "q~"),
    _k("github_token", "GitHub token",
       r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})", "gh", "github_pat_"),
    _k("slack_token", "Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "xox"),
    _k("slack_webhook", "Slack webhook",
       r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}",
       "hooks.slack.com"),
    _k("anthropic_api_key", "Anthropic API key", r"\bsk-ant-[A-Za-z0-9]+-[A-Za-z0-9_\-]{40,}",
       "sk-ant-"),
    _k("openai_api_key", "OpenAI API key",
       r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}", "sk-"),
    _k("openai_api_key", "OpenAI API key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}",
       "sk-"),
    _k("databricks_token", "Databricks token", r"\bdapi[0-9a-f]{32}(?:-\d)?\b", "dapi"),
)  # fmt: skip

# ``(label, pattern)`` in detection order: the shape ``git review`` iterates.
DETECTORS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (k.label, k.pattern) for k in SECRET_KINDS
)
# label -> the literals one of which every match of that label contains (lower case).
HINTS: dict[str, tuple[str, ...]] = {k.label: k.hints for k in SECRET_KINDS}

ASSIGNMENT_KIND, ASSIGNMENT_LABEL = "secret_assignment", "high-entropy secret assignment"
ASSIGNMENT = re.compile(
    r"(?i)(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credential|auth[_-]?(?:token|key|secret|header))[\w.\-]*['\"]?\s*(?::=|=>|[:=])\s*"
    r"['\"](?P<value>[^'\"\s]{16,})['\"]"
)
PLACEHOLDER = re.compile(
    r"(?i)example|sample|dummy|fake|mock|test|secret|placeholder|changeme|your[_-]|xxxx"
    r"|\*\*\*|\$\{|\{\{|<[^>]*>|redacted"
)
MIN_ENTROPY = 3.5


def shannon_entropy(text: str) -> float:
    """Bits per character; random tokens score high, words and repeats low."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str) -> bool:
    """True for an assignment's value that is no placeholder and random enough to be a key."""
    return not PLACEHOLDER.search(value) and shannon_entropy(value) >= MIN_ENTROPY
