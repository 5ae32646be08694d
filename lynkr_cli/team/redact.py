"""Redaction of audit bodies and stored error text: no credential reaches the database.

The project's one redactor does the work (``git.secrets.redact_secrets``: private-key
blocks, every detector ``lynkr git review`` uses, the log redactor's shapes, and the
values of secret-named assignments), after the log redactor's masking of values
under secret-looking names (``logs.redact``). On top of it, lynkr's own keys
(``lk-…``) and the gateway's configured secret values (its upstream keys, say) are
masked wherever they appear.

A Claude Code request carries hundreds of KB, most of it the conversation the turn
before already sent, so :class:`Redactor` remembers the redacted form of long
strings it has seen (by a BLAKE2 digest, bounded in total size) instead of redacting
them again with every new request.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from lynkr_cli.team.keys import KEY_PATTERN

TRUNCATED = "…[truncated by lynkr: {n} more characters]"
MEMO_MIN_CHARS = 512  # shorter strings are cheaper to redact than to look up
MEMO_MAX_CHARS = 64 * 1024 * 1024  # redacted text kept for reuse, in total


class Redactor:
    """Redacts bodies, remembering the result for long strings."""

    def __init__(
        self, max_chars: int, known: Iterable[str] = (), memo_chars: int = MEMO_MAX_CHARS
    ) -> None:
        from lynkr_cli.git.secrets import known_pattern

        self.max_chars = max_chars
        self.known = known_pattern(known)
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
            return redact_text(text, self.max_chars, self.known)
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            done = self._memo.get(key)
            if done is not None:
                self._memo.move_to_end(key)
                return done
        done = redact_text(text, self.max_chars, self.known)
        with self._lock:
            if key not in self._memo:
                self._memo[key] = done
                self._held += len(done)
            while self._held > self.memo_chars and self._memo:
                self._held -= len(self._memo.popitem(last=False)[1])
        return done


def redact_text(text: str, max_chars: int, known: re.Pattern[str] | None = None) -> str:
    """``text`` cut to ``max_chars``, with every credential masked."""
    from lynkr_cli.git.secrets import REDACTED, redact_secrets

    if len(text) > max_chars:
        text = text[:max_chars] + TRUNCATED.format(n=len(text) - max_chars)
    if "lk-" in text:
        text = KEY_PATTERN.sub(REDACTED, text)
    return redact_secrets(text, None, known)


def redact_error(text: str, known: re.Pattern[str] | None = None, max_chars: int = 2000) -> str:
    """An error message as it may be stored: every redactor applied, length bounded."""
    return redact_text(text, max_chars, known) if text else text
