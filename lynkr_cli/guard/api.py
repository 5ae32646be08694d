"""The Python API of the guard: what a Messages request would show the upstream.

Call :func:`scan` before a request leaves the gateway::

    from lynkr_cli.guard.api import scan

    result = scan(body, mode="redact", kinds=("secrets", "pii"))
    result.findings    # (Finding(kind="aws_access_key", location="messages.3.content.1",
                       #          count=1, redacted=True, signed=False), ...)
    result.body        # what to send: ``body`` itself when nothing changed, else a copy
    result.changed     # result.body is a new object, with ``[REDACTED:<kind>]`` placeholders
    result.blocked     # mode "block" and a finding outside signed thinking blocks
    result.message()   # the 400 invalid_request_error text: kinds and locations, no value
    result.counts()    # {"aws_access_key": 1, ...}: for metrics and the usage record
    result.to_dict()   # JSON-ready, for --json and audit records

Modes: ``off`` (nothing scanned), ``warn`` (findings only), ``redact`` (each finding
replaced by ``[REDACTED:<kind>]`` in a new body; the original is never changed),
``block`` (findings, and ``blocked`` when any finding can be acted on). The mode is a
parameter, so a caller picks it per request (per gateway, or per key).

``kinds`` names kinds or groups (:mod:`lynkr_cli.guard.kinds`); an unknown name raises
ValueError. What is scanned and what is not: :mod:`lynkr_cli.guard.collect`. How: one
RE2 pass (:mod:`lynkr_cli.guard.engine`). No aiohttp, no I/O: safe in any thread.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lynkr_cli.guard.collect import collect
from lynkr_cli.guard.engine import candidates, find_spans
from lynkr_cli.guard.kinds import DEFAULT_KINDS, MODES, Mode, resolve_kinds
from lynkr_cli.guard.redact import Finding, findings, placeholder, redacted_body

__all__ = ["Finding", "GuardResult", "Mode", "placeholder", "scan", "warm"]

_SHOWN = 10  # locations named in a block message; the rest are counted


@dataclass(frozen=True)
class GuardResult:
    mode: Mode
    findings: tuple[Finding, ...]
    body: Mapping[str, Any]
    changed: bool = False
    # False when the request held too many candidates to check them all (MAX_COST): then
    # "redact" and "block" refuse it rather than send what was not checked.
    complete: bool = True

    @property
    def blocked(self) -> bool:
        if not self.complete and self.mode in ("redact", "block"):
            return True
        return self.mode == "block" and any(not f.signed for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Findings by kind (signed ones included)."""
        total: Counter[str] = Counter()
        for finding in self.findings:
            total[finding.kind] += finding.count
        return dict(total)

    def message(self) -> str:
        """Why a blocked request was refused: each kind and where, never a value."""
        if not self.complete:
            return (
                "lynkr's guard refused this request: it holds more strings shaped like secrets "
                "or personal data than the guard checks in one request, so it was not sent "
                "unchecked. Send less at once (in Claude Code, /compact or /clear)."
            )
        acted = [f for f in self.findings if not f.signed]
        shown = [
            f"{f.kind} at {f.location}" + (f" (x{f.count})" if f.count > 1 else "")
            for f in acted[:_SHOWN]
        ]
        more = f", and {len(acted) - _SHOWN} more" if len(acted) > _SHOWN else ""
        return (
            "lynkr's guard refused this request: it contains what looks like a secret or "
            f"personal data ({'; '.join(shown)}{more}). Remove it and send the request "
            "again (in Claude Code, /clear starts a conversation without it); the gateway's "
            "operator can set guard.mode=redact to send such requests with placeholders."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "blocked": self.blocked,
            "changed": self.changed,
            "complete": self.complete,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }


def scan(
    body: Mapping[str, Any], *, mode: Mode = "warn", kinds: Iterable[str] = DEFAULT_KINDS
) -> GuardResult:
    """Scan the texts of a Messages request ``body`` for ``kinds``, as ``mode`` says."""
    if mode not in MODES:
        raise ValueError(f"unknown guard mode '{mode}' (known: {', '.join(MODES)})")
    if mode == "off" or not isinstance(body, Mapping):
        return GuardResult(mode, (), body)
    chosen = _kinds(frozenset(kinds))
    texts = collect(body)  # type: ignore[arg-type]
    spans, complete = find_spans(texts, chosen)
    if not spans:
        return GuardResult(mode, (), body, complete=complete)
    found = tuple(findings(texts, spans, redacting=mode == "redact" and complete))
    if mode != "redact" or not complete:
        return GuardResult(mode, found, body, complete=complete)
    new = redacted_body(body, texts, spans)  # type: ignore[arg-type]
    return GuardResult(mode, found, new, changed=new is not body)


@lru_cache(maxsize=64)
def _kinds(names: frozenset[str]) -> frozenset[str]:
    return resolve_kinds(names)


def warm(kinds: Iterable[str] = DEFAULT_KINDS) -> None:
    """Compile the detectors and load the phone metadata now, not on a request (startup)."""
    candidates(_kinds(frozenset(kinds)))
    import phonenumbers  # noqa: F401
