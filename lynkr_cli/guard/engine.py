"""One pass over a request's text: a combined candidate regex, then a check per candidate.

Every detector contributes a *candidate* pattern: its shape, without lookarounds, over
ASCII. All candidates of the chosen kinds are alternatives of one regex run by RE2
(google-re2): a DFA that reads the text once, whatever the number of detectors, in
time linear in the text (no backtracking, so no request can make it slow). Most
requests have no candidate at all; each candidate is confirmed by the detector's own
rules (:mod:`.secrets`, :mod:`.pii`). Without google-re2 the same regex runs on
Python's ``re`` (correct, several times slower).

The text is the request's texts joined (:mod:`.collect`) and encoded to ASCII with
each other character as ``?``: one byte per character, so offsets agree with the
joined ``str`` the verifiers read, and nothing outside ASCII can start a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lynkr_cli.guard import pii, secrets
from lynkr_cli.guard.collect import Texts
from lynkr_cli.guard.kinds import ALL_KINDS
from lynkr_cli.guard.spans import Context, Span, Verdict

Verifier = Callable[[Context, int, int], Verdict]

_ASSIGN_WORDS = (
    r"secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credential|auth[_-]?(?:token|key|secret|header)"
)
_ENV_WORDS = (
    r"SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIAL|AUTH_?(?:TOKEN|KEY|SECRET)"
)

# name -> (candidate pattern, the kinds it may turn out to be, the verifier)
CANDIDATES: dict[str, tuple[str, tuple[str, ...], Verifier]] = {
    "pem": (r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY", ("private_key",), secrets.private_key),
    "akia": (r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}", ("aws_access_key",),
             secrets.token("aws_access_key")),
    "aiza": (r"AIza[0-9A-Za-z_\-]{35}", ("gcp_api_key",), secrets.token("gcp_api_key")),
    "pkid": (r"\"private_key_id\"", ("gcp_service_account_key",), secrets.gcp_service_account),
    "acck": (r"AccountKey=[A-Za-z0-9+/]{86}==", ("azure_storage_key",), secrets.azure_storage),
    "azad": (r"[A-Za-z0-9_~.]{3}[0-9]Q~", ("azure_client_secret",),
             secrets.token("azure_client_secret")),
    "gh": (r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60}", ("github_token",),
           secrets.token("github_token")),
    "xox": (r"xox[abposr]-[A-Za-z0-9\-]{10}", ("slack_token",), secrets.token("slack_token")),
    "hook": (r"https://hooks\.slack\.com/services/T", ("slack_webhook",),
             secrets.token("slack_webhook")),
    "sk": (r"sk-[A-Za-z0-9_\-]{20}", ("anthropic_api_key", "openai_api_key"),
           secrets.openai_or_anthropic),
    "dapi": (r"dapi[0-9a-f]{32}", ("databricks_token",), secrets.token("databricks_token")),
    "url": (r"://[^\s/?#@:]{0,256}:[^\s/?#@]{1,256}@", ("url_password",), secrets.url_password),
    # These three can start at one offset (``AWS_SECRET_ACCESS_KEY=…``): one verifier
    # tries them all, so which alternative the regex reports does not matter.
    "awss": (r"(?i:aws).{0,20}(?i:secret).{0,20}[=:]", ("aws_secret_key",), secrets.assignment),
    "assign": (rf"(?i:{_ASSIGN_WORDS})[\w.\-]*['\"]?\s*(?::=|=>|[:=])\s*['\"][^'\"\s]{{16}}",
               ("secret_assignment",), secrets.assignment),
    "env": (rf"(?:{_ENV_WORDS})[A-Z0-9_]*[ \t]*=[ \t]*['\"]?[^\s'\"]{{8}}",
            ("secret_assignment",), secrets.assignment),
    "email": (r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]+\.[A-Za-z]{2}", ("email",), pii.email),
    "phone": (r"\+[1-9][0-9 ().\-]{6,20}[0-9]|\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[\-. ][0-9]{4}",
              ("phone",), pii.phone),
    "card": (r"[0-9](?:[ \-]?[0-9]){12,18}", ("credit_card",), pii.credit_card),
    "iban": (r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2}", ("iban",), pii.iban),
    "ip": (r"(?:10|172|192|169)\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
           r"|[fF][cdeCDE][0-9a-fA-F]{2}:[0-9a-fA-F:]*:[0-9a-fA-F]", ("private_ip",),
           pii.private_ip),
}  # fmt: skip

_RANK = {kind: i for i, kind in enumerate(ALL_KINDS)}


@lru_cache(maxsize=32)
def candidate_regex(kinds: frozenset[str]) -> tuple[Any, tuple[Verifier, ...]]:
    """One regex over the candidates of ``kinds``; group ``i + 1`` calls ``verifiers[i]``."""
    chosen = [(p, v) for p, ks, v in CANDIDATES.values() if kinds.intersection(ks)]
    if not chosen:
        return None, ()
    source = "|".join(f"({pattern})" for pattern, _ in chosen).encode()
    return _compile(source), tuple(v for _, v in chosen)


def _compile(source: bytes) -> Any:
    try:
        import re2
    except ImportError:  # no wheel for this platform: same patterns, slower engine
        return re.compile(source)
    options = re2.Options()
    options.max_mem = 64 << 20  # room for the DFA of ~20 alternatives on large bodies
    return re2.compile(source, options)


def find_spans(texts: Texts, kinds: frozenset[str]) -> list[Span]:
    """Every confirmed finding of ``kinds`` in ``texts``, overlaps resolved, in order."""
    regex, verifiers = candidate_regex(kinds)
    if regex is None or not texts.parts:
        return []
    joined = texts.joined()
    data = joined.encode("ascii", "replace")  # one byte per character
    ctx = Context(texts, joined, data, kinds)
    spans: list[Span] = []
    pos = 0
    while (match := regex.search(data, pos)) is not None:
        start = match.start()
        found, resume = verifiers[match.lastindex - 1](ctx, start, match.end())
        spans += (s for s in found if s.kind in kinds)
        pos = max(resume, start + 1)
    return _resolve(spans)


def _resolve(spans: list[Span]) -> list[Span]:
    """Overlapping findings: the more specific kind wins (secrets before PII)."""
    kept: list[Span] = []
    cluster: list[Span] = []
    reach = -1
    for span in sorted(spans, key=lambda s: s.start):
        if cluster and span.start >= reach:
            kept += _winners(cluster)
            cluster = []
        cluster.append(span)
        reach = max(reach, span.end) if len(cluster) > 1 else span.end
    return kept + _winners(cluster)


def _winners(cluster: list[Span]) -> list[Span]:
    if len(cluster) == 1:
        return cluster
    won: list[Span] = []
    for span in sorted(cluster, key=lambda s: (_RANK[s.kind], s.start)):
        if all(span.end <= w.start or span.start >= w.end for w in won):
            won.append(span)
    return sorted(won, key=lambda s: s.start)
