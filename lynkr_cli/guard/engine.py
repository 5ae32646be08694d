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


class Candidates:
    """The combined candidate regex of some kinds: ``next(data, pos)`` finds the next one.

    RE2 finds where a candidate is (no capture groups: the cheapest mode of its DFA); the
    same pattern, anchored there in Python's ``re``, says which alternative it is. Both
    pick the first alternative that matches at the leftmost offset, so they agree.
    """

    def __init__(self, patterns: list[str], verifiers: tuple[Verifier, ...]) -> None:
        source = "|".join(f"({p})" for p in patterns).encode()
        self.verifiers = verifiers
        self._which = re.compile(source)
        self._find = _re2_finder(source)

    def next(self, data: bytes, pos: int) -> tuple[int, int, Verifier] | None:
        if self._find is None:
            match = self._which.search(data, pos)
            if match is None:
                return None
            start, end, which = match.start(), match.end(), match.lastindex
        else:
            start, end = self._find(data, pos, len(data))
            if start < 0:
                return None
            anchored = self._which.match(data, start, end)
            if anchored is None:  # cannot happen (same pattern); never loop on it
                return start, start + 1, _skip
            which = anchored.lastindex
        return start, end, self.verifiers[(which or 1) - 1]


def _skip(ctx: Context, start: int, end: int) -> Verdict:
    return [], start + 1


def _re2_finder(source: bytes) -> Callable[[bytes, int, int], tuple[int, int]] | None:
    """RE2's search, as ``find(data, pos, end) -> (start, end)`` (-1 when none), or None."""
    try:
        import re2
    except ImportError:  # no wheel for this platform: Python's re does it all, slower
        return None
    options = re2.Options()
    options.never_capture = True
    options.max_mem = 64 << 20  # DFA room for ~20 alternatives over large bodies
    compiled = re2.compile(source, options)
    raw = getattr(compiled, "_regexp", None)
    if raw is None or not hasattr(raw, "Match"):  # the binding changed: its public API
        return lambda data, pos, end: (
            (m.start(), m.end()) if (m := compiled.search(data, pos, end)) else (-1, -1)
        )
    unanchored = getattr(re2, "_Anchor").UNANCHORED  # noqa: B009 (not in the stubs)
    return lambda data, pos, end: raw.Match(unanchored, data, pos, end)[0]


@lru_cache(maxsize=32)
def candidates(kinds: frozenset[str]) -> Candidates | None:
    """The candidates of ``kinds``, compiled once per set of kinds."""
    chosen = [(p, v) for p, ks, v in CANDIDATES.values() if kinds.intersection(ks)]
    if not chosen:
        return None
    return Candidates([p for p, _ in chosen], tuple(v for _, v in chosen))


# The checks one request may cost (each candidate 1, a phone number PHONE_COST): ~0.1 s.
# A request past it is abnormal (tens of thousands of addresses or key-shaped strings):
# the scan stops and says it is incomplete, and the caller fails closed.
MAX_COST = 20_000


def find_spans(texts: Texts, kinds: frozenset[str]) -> tuple[list[Span], bool]:
    """Every confirmed finding of ``kinds`` in ``texts``, overlaps resolved, in order, and
    whether the scan completed (False: it stopped at :data:`MAX_COST`)."""
    found = candidates(kinds)
    if found is None or not texts.parts:
        return [], True
    joined = texts.joined()
    data = joined.encode("ascii", "replace")  # one byte per character
    ctx = Context(texts, joined, data, kinds)
    spans: list[Span] = []
    pos = 0
    while (candidate := found.next(data, pos)) is not None:
        ctx.cost += 1
        if ctx.cost > MAX_COST:
            return _resolve(spans), False
        start, end, verify = candidate
        confirmed, resume = verify(ctx, start, end)
        spans += (s for s in confirmed if s.kind in kinds)
        pos = max(resume, start + 1)
    return _resolve(spans), True


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
