"""Redaction of audit bodies and stored error text: no credential reaches the database.

Three layers, all of them the project's own: the log redactor (secret-looking key
names and value shapes: ``logs.redact``), lynkr's own keys (``lk-…``) and whole PEM
private-key blocks, then every detector ``lynkr git review`` uses
(``git.secrets.redact_line``), line by line.

The detectors cost up to ~0.3 ms per KB of code, and a Claude Code request carries
hundreds of KB, most of it the same conversation as the turn before. So:

- each detector needs a literal its match contains (``AKIA``, ``sk-``, ``xox``,
  ``secret``…): a line without any of them (case-insensitive) cannot match and is
  skipped, a check that runs in C over the whole text first;
- :class:`Redactor` remembers the redacted form of long strings it has seen (by a
  BLAKE2 digest, bounded in total size), so a conversation's earlier turns are not
  redacted again with every new request.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

TRUNCATED = "…[truncated by lynkr: {n} more characters]"
MASK = "[REDACTED]"
_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
# A literal (lower case) that every match of some detector contains.
_HINTS = (
    "-----begin", "akia", "asia", "abia", "acca", "aiza", "q~", "ghp_", "gho_", "ghu_",
    "ghs_", "ghr_", "github_pat_", "xox", "hooks.slack", "sk-", "dapi", "lk-", "secret",
    "token", "passw", "pwd", "key", "credential", "auth", "bearer", "://",
)  # fmt: skip


MEMO_MIN_CHARS = 512  # shorter strings are cheaper to redact than to look up
MEMO_MAX_CHARS = 64 * 1024 * 1024  # redacted text kept for reuse, in total


class Redactor:
    """Redacts bodies, remembering the result for long strings."""

    def __init__(self, max_chars: int, memo_chars: int = MEMO_MAX_CHARS) -> None:
        self.max_chars = max_chars
        self.memo_chars = memo_chars
        self._memo: OrderedDict[bytes, str] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()  # the writer thread, or callers after stop()

    def body(self, value: Any) -> Any:
        """A copy of a request or answer body with credentials masked and long strings cut."""
        from lynkr_cli.logs import redact

        return self._walk(redact(value))

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {str(k): self._walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._walk(v) for v in value]
        return value

    def text(self, text: str) -> str:
        if len(text) < MEMO_MIN_CHARS:
            return redact_text(text, self.max_chars)
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            done = self._memo.get(key)
            if done is not None:
                self._memo.move_to_end(key)
                return done
        done = redact_text(text, self.max_chars)
        with self._lock:
            if key not in self._memo:
                self._memo[key] = done
                self._held += len(done)
            while self._held > self.memo_chars and self._memo:
                self._held -= len(self._memo.popitem(last=False)[1])
        return done


def redact_body(value: Any, max_chars: int) -> Any:
    """A copy of a body with credentials masked and long strings cut (no memory)."""
    return Redactor(max_chars, 0).body(value)


def redact_error(text: str, max_chars: int = 2000) -> str:
    """An error message as it may be stored: every redactor applied, length bounded."""
    return redact_text(text, max_chars) if text else text


def redact_text(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` and with every credential masked."""
    if len(text) > max_chars:
        text = text[:max_chars] + TRUNCATED.format(n=len(text) - max_chars)
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):
        return text
    from lynkr_cli.git.secrets import redact_line
    from lynkr_cli.logs import redact_text as redact_shapes
    from lynkr_cli.team.keys import KEY_PATTERN

    if "-----begin" in lowered:
        text = _PEM.sub(MASK, text)
    if "lk-" in lowered:
        text = KEY_PATTERN.sub(MASK, text)
    text = redact_shapes(text)
    lines = text.split("\n")
    suspects = _hinted_lines(text.lower(), lines)
    for i, line in enumerate(lines):
        if i in suspects or _may_assign(line):
            lines[i] = redact_line(line)
    return "\n".join(lines)


def _hinted_lines(lowered: str, lines: list[str]) -> set[int]:
    """Numbers of the lines holding a literal some ``git.secrets`` detector needs."""
    found: set[int] = set()
    ends: list[int] | None = None
    for hint in _DETECTOR_HINTS:
        pos = lowered.find(hint)
        while pos != -1:
            if ends is None:
                ends = list(accumulate(len(line) + 1 for line in lines))
            found.add(bisect_right(ends, pos))
            pos = lowered.find(hint, pos + 1)
    return found


def _may_assign(line: str) -> bool:
    """Whether ``git.secrets``' ``name = "value"`` check could match: a quote and a word."""
    if "'" not in line and '"' not in line:
        return False
    low = line.lower()
    return any(word in low for word in _ASSIGN_WORDS)


_ASSIGN_WORDS = ("secret", "token", "passw", "pwd", "key", "credential", "auth")
# A literal each git.secrets detector's match contains (lower case); a test keeps this
# list in step with the detectors.
_DETECTOR_HINTS = (
    "-----begin", "akia", "asia", "abia", "acca", "aws", "aiza", "private_key_id",
    "accountkey=", "q~", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox",
    "hooks.slack", "sk-", "dapi",
)  # fmt: skip
