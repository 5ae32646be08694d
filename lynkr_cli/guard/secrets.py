"""Confirming secret candidates with :mod:`lynkr_cli.secretscan`'s detectors.

A candidate is where the combined pass saw a secret's shape; the detector of
``lynkr git review`` is then matched at that very offset (so ``\\b`` and lookaheads
apply exactly as in a review). What is replaced is the secret itself: the value of an
assignment, the whole PEM block of a private key.

Documented examples are not findings: a value containing ``EXAMPLE`` (AWS's
``AKIAIOSFODNN7EXAMPLE`` and its secret key, in every SDK's docs and tests) cannot
authenticate anywhere, and flagging it would stop people sharing AWS documentation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lynkr_cli.guard.spans import Context, Span, Verdict
from lynkr_cli.secretscan import (
    ASSIGNMENT,
    ASSIGNMENT_KIND,
    MIN_ENTROPY,
    PLACEHOLDER,
    SECRET_KINDS,
    shannon_entropy,
)

# git review's patterns with ASCII classes: a key glued to "é" is still the key, and the
# candidates (ASCII) and their checks then agree on every boundary.
_BY_KIND: dict[str, list[re.Pattern[str]]] = {}
for _entry in SECRET_KINDS:
    _ascii = re.compile(_entry.pattern.pattern, _entry.pattern.flags & ~re.UNICODE | re.ASCII)
    _BY_KIND.setdefault(_entry.kind, []).append(_ascii)
_ASSIGNMENT = re.compile(ASSIGNMENT.pattern, ASSIGNMENT.flags & ~re.UNICODE | re.ASCII)

_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Without an END line: the base64 lines, headers and blank lines after BEGIN (a line may
# carry a `cat -n`-style number, as Claude Code's Read tool shows files).
_PEM_BODY = re.compile(
    r"(?:\r?\n[ \t]*(?:\d+(?:\u2192|\t))?[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z-]+:[^\n]*)?[ \t]*)*"
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_MIN_KEY_LINES = 2  # base64 runs of 16+: the smallest PEM key body has several 64-char lines
_PEM_SPAN = 64 * 1024  # a private key is far shorter: an END further away is not its own
_ENV_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
_ENV_ASSIGN = re.compile(
    r"(?P<key>[A-Z][A-Z0-9_]*)[ \t]*=[ \t]*(?:(?P<q>['\"])(?P<quoted>[^'\"\s]{8,}?)(?P=q)"
    r"|(?P<value>[^\s'\"`#;,(){}\[\]]{8,})(?=$|[\s;,)\]}]))"
)
_ENV_NOT_SECRET = re.compile(
    r"_(?:URL|URI|ENDPOINT|HOST|PATH|FILE|DIR|NAME|TYPE|LENGTH|LEN|COUNT|LIMIT|TTL|TIMEOUT"
    r"|MODE|ENABLED|HEADER|FORMAT|PREFIX|FIELD|ENV|VAR|ID|EXPIRY|EXPIRES|SECONDS|BYTES|SIZE"
    r"|MIN|MAX|COMMAND|CMD)$"
)
_ENV_SECRET_WORD = re.compile(
    r"SECRET|TOKEN(?!S|IZ|_?COUNT|_?LIMIT|_?TYPE)|PASSWORD|PASSWD|PASSPHRASE|PWD|API_?KEY"
    r"|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_?SECRET|CREDENTIAL|AUTH_?(?:TOKEN|KEY|SECRET)"
)
_NON_VALUE = re.compile(
    r"(?i)\$\w+|\$\{.*\}|\{\{.*\}\}|<[^>]*>|\[REDACTED[^\]]*\]|\*{3,}|none|null|nil|true|false"
    r"|undefined|[0-9_.]+"
)
_ENV_MIN_ENTROPY = 3.0
_IDENTIFIER = re.compile(r"[A-Z_=.\-]+|[a-z_=.\-]+")


# An ascending run of 8 (``01234567``, ``abcdefgh``): a value typed by hand, not a key.
_RUN = re.compile(
    "|".join(run[i : i + 8] for run in ("0123456789", "abcdefghijklmnopqrstuvwxyz")
             for i in range(len(run) - 7)),
    re.IGNORECASE,
)  # fmt: skip


def is_example(value: str) -> bool:
    """A documented example (``…EXAMPLE``) or an obvious fake (``0123456789abcdef``)."""
    return "example" in value.lower() or _RUN.search(value) is not None


def token(kind: str) -> Callable[[Context, int, int], Verdict]:
    """A verifier for a detector whose match is the secret itself (and starts at the candidate)."""

    def verify(ctx: Context, start: int, _end: int) -> Verdict:
        limit = ctx.limit(start)
        for pattern in _BY_KIND[kind]:
            match = pattern.match(ctx.joined, start, limit)
            if match is not None and not is_example(match[0]):
                return [Span(kind, start, match.end())], match.end()
        return [], start + 1

    return verify


def private_key(ctx: Context, start: int, _end: int) -> Verdict:
    """The whole PEM block: BEGIN to END, or BEGIN and the base64 lines after it."""
    limit = ctx.limit(start)
    begin = _BY_KIND["private_key"][0].match(ctx.joined, start, limit)
    if begin is None:
        return [], start + 1
    end = _PEM_END.search(ctx.joined, begin.end(), min(limit, begin.end() + _PEM_SPAN))
    if end is None:
        body = _PEM_BODY.match(ctx.joined, begin.end(), limit)
        stop = body.end() if body is not None else begin.end()
        stop = begin.end() + len(ctx.joined[begin.end() : stop].rstrip())
    else:
        stop = end.end()
    # A header with no key under it (a template, a doc) reveals nothing.
    if len(_BASE64.findall(ctx.joined, begin.end(), stop)) < _MIN_KEY_LINES:
        return [], begin.end()
    return [Span("private_key", start, stop)], stop


def _tail(kind: str, match: re.Match[str], size: int, after: int = 0) -> Span:
    """The last ``size`` characters of ``match`` (``after`` of them excluded): its value."""
    stop = match.end() - after
    return Span(kind, stop - size, stop)


def aws_secret(ctx: Context, start: int, _end: int) -> Verdict:
    match = _BY_KIND["aws_secret_key"][0].match(ctx.joined, start, ctx.limit(start))
    if match is None or is_example(match[0][-40:]):
        return [], start + 1
    return [_tail("aws_secret_key", match, 40)], match.end()


def gcp_service_account(ctx: Context, start: int, _end: int) -> Verdict:
    kind = "gcp_service_account_key"
    match = _BY_KIND[kind][0].match(ctx.joined, start, ctx.limit(start))
    if match is None:
        return [], start + 1
    return [_tail(kind, match, 40, after=1)], match.end()


def azure_storage(ctx: Context, start: int, _end: int) -> Verdict:
    kind = "azure_storage_key"
    match = _BY_KIND[kind][0].match(ctx.joined, start, ctx.limit(start))
    if match is None:
        return [], start + 1
    return [Span(kind, start + len("AccountKey="), match.end())], match.end()


def assignment(ctx: Context, start: int, end: int) -> Verdict:
    """``api_key = "…"`` (git review's rule), and ``DB_PASSWORD=…`` as in ``.env`` files.

    The candidate may be either shape, or ``aws…secret…=`` (they can start at one offset).
    """
    spans: list[Span] = []
    limit = ctx.limit(start)
    if "aws_secret_key" in ctx.kinds:
        spans += aws_secret(ctx, start, end)[0]
    if ASSIGNMENT_KIND in ctx.kinds:
        quoted = _ASSIGNMENT.match(ctx.joined, start, limit)
        if quoted is not None and _secret_value(quoted["value"]):
            spans.append(Span(ASSIGNMENT_KIND, quoted.start("value"), quoted.end("value")))
        spans += _env_assignment(ctx, start, limit)
    return spans, start + 1


def _secret_value(value: str, min_entropy: float = MIN_ENTROPY) -> bool:
    """git review's rule (random enough, no placeholder word), less what is plainly no key:
    a path, a URL, an identifier (``DATABRICKS_API_KEY=``), a template (``{values[``)."""
    return not (
        PLACEHOLDER.search(value)
        or shannon_entropy(value) < min_entropy
        or is_example(value)
        or value.startswith(("/", "~/", "./", "../"))
        or "://" in value
        or _IDENTIFIER.fullmatch(value)
        or any(c in value for c in "{}$<>()[]%")
    )


def _env_assignment(ctx: Context, start: int, limit: int) -> list[Span]:
    """``[export ]KEY=value``: an upper-case key naming a secret, a value that is one."""
    floor = ctx.start_of(start)
    window = ctx.joined[max(floor, start - 128) : start]
    key_start = start - (len(window) - len(window.rstrip(_ENV_KEY_CHARS)))
    before = ctx.joined[key_start - 1 : key_start] if key_start > floor else ""
    if before and (before.isalnum() or before in "._-$"):
        return []
    match = _ENV_ASSIGN.match(ctx.joined, key_start, limit)
    if match is None:
        return []
    group = "quoted" if match["quoted"] is not None else "value"
    key, value = match["key"], match[group].rstrip(".")
    if (
        not _ENV_SECRET_WORD.search(key)
        or _ENV_NOT_SECRET.search(key)
        or _NON_VALUE.fullmatch(value)
        or not _secret_value(value, _ENV_MIN_ENTROPY)
    ):
        return []
    return [Span(ASSIGNMENT_KIND, match.start(group), match.start(group) + len(value))]


_URL_USERINFO = re.compile(r"://(?P<user>[^\s/?#@:]*):(?P<password>[^\s/?#@]+)@")
_NOT_PASSWORDS = frozenset({"password", "passwd", "pass", "pwd", "pw", "secret", "x", "xxx"})


def url_password(ctx: Context, start: int, _end: int) -> Verdict:
    """The password of ``scheme://user:password@host`` (user and host stay: they are
    what the model needs to follow the text)."""
    match = _URL_USERINFO.match(ctx.joined, start, ctx.limit(start))
    if match is None:
        return [], start + 1
    password = match["password"]
    if (
        len(password) < 3
        or password.lower() in _NOT_PASSWORDS
        or _NON_VALUE.fullmatch(password)
        or PLACEHOLDER.search(password)
        or any(c in password for c in "{}$<>")
    ):
        return [], match.end()
    return [Span("url_password", match.start("password"), match.end("password"))], match.end()


def openai_or_anthropic(ctx: Context, start: int, end: int) -> Verdict:
    """``sk-…``: Anthropic's shape first, then OpenAI's (git review's order)."""
    for kind in ("anthropic_api_key", "openai_api_key"):
        if kind in ctx.kinds:
            spans, resume = token(kind)(ctx, start, end)
            if spans:
                return spans, resume
    return [], start + 1
