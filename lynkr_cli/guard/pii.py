"""Confirming personal-data candidates: the checks that keep code from looking like PII.

- ``email``: ASCII addresses; not ``noreply@``/``git@`` logins, reserved domains
  (``example.com``, ``.test``, ``.invalid``, ``.local``, ``localhost``) or a "TLD" that
  is a file extension (``icon@2x.png``).
- ``phone``: international numbers written with ``+`` (and the North American
  ``(NNN) NNN-NNNN``), that libphonenumber calls valid for their country, outside the
  ranges reserved for fiction (NANP 555-0100..0199 as in ``(415) 555-0132``, Ofcom's
  drama numbers). National
  forms without ``+`` (``020 7946 0958``) are ambiguous without the country and look
  like any run of digits, so they are not looked for.
- ``credit_card``: 13-19 digits, ungrouped or in the printed groups (4-4-4-4, 4-6-5),
  with a known network prefix and a valid Luhn check digit; the networks' published
  test numbers (``4242 4242 4242 4242``) are not findings.
- ``iban``: a known country with its exact length and a valid mod-97 check, ungrouped
  or in groups of four; the two textbook examples are not findings.
- ``private_ip``: RFC 1918, RFC 4193 (``fc00::/7``) and link-local addresses.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from lynkr_cli.guard.spans import Context, Span, Verdict

_WORD = re.compile(r"[A-Za-z0-9_]")

# --------------------------------------------------------------------------- email

_LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-"
_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}(?P<tld>[A-Za-z]{2,24})"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)
_NO_PERSON = frozenset(
    {"noreply", "no-reply", "donotreply", "do-not-reply", "git", "mailer-daemon", "postmaster"}
)
_RESERVED = ("example.com", "example.org", "example.net", "localhost", "users.noreply.github.com")
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "internal"})
_FILE_TLDS = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "pdf", "txt",
    "md", "rst", "json", "yaml", "yml", "toml", "ini", "cfg", "lock", "js", "mjs", "cjs", "ts",
    "tsx", "jsx", "py", "pyc", "rb", "rs", "go", "java", "kt", "swift", "cs", "cpp", "hpp",
    "html", "htm", "css", "scss", "less", "map", "wasm", "zip", "gz", "tgz", "tar", "whl",
    "exe", "dll", "so", "dylib", "bin", "log", "csv", "tsv", "xml", "sql", "sh", "bash", "zsh",
    "ps1", "bat",
})  # fmt: skip
_NOT_TLDS = _RESERVED_TLDS | _FILE_TLDS


def email(ctx: Context, start: int, _end: int) -> Verdict:
    joined = ctx.joined
    at = joined.find("@", start, start + 2)
    floor = ctx.start_of(at)
    window = joined[max(floor, at - 65) : at]
    size = len(window) - len(window.rstrip(_LOCAL_CHARS))
    domain = _DOMAIN.match(joined, at + 1, ctx.limit(at))
    if not 0 < size <= 64 or domain is None:
        return [], at + 1
    name, host = window[-size:].lstrip("._%+-"), domain[0].lower()
    begin = at - len(name)
    if (
        not name
        or name.endswith(".")
        or ".." in name
        or name.lower() in _NO_PERSON
        or host.endswith(_RESERVED)
        or domain["tld"].lower() in _NOT_TLDS
        or _in_url_userinfo(joined, floor, begin)
    ):
        return [], domain.end()
    return [Span("email", begin, domain.end())], domain.end()


def _in_url_userinfo(joined: str, floor: int, begin: int) -> bool:
    """``http://user:pass@host``: the ``pass@host`` is a URL's credentials, not an address."""
    if begin <= floor or joined[begin - 1] != ":":
        return False
    token = joined[max(floor, begin - 256) : begin - 1].rsplit(None, 1)[-1:]
    return bool(token) and "//" in token[0] and "@" not in token[0].rpartition("//")[2]


# --------------------------------------------------------------------------- phone

_PHONE = re.compile(r"\+[1-9](?:[ .\-]?\(?[0-9]{1,4}\)?){2,7}")
_NANP = re.compile(r"\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[\-. ][0-9]{4}")


def phone(ctx: Context, start: int, _end: int) -> Verdict:
    nanp = ctx.joined.startswith("(", start)
    match = (_NANP if nanp else _PHONE).match(ctx.joined, start, ctx.limit(start))
    if match is None or _glued(ctx, start, match.end(), before="+/.", after="-"):
        return [], start + 1
    text = match[0]
    digits = sum(c.isdigit() for c in text)
    if not 8 <= digits <= 15 or text.count("(") != text.count(")"):
        return [], match.end()
    ctx.cost += PHONE_COST
    if not _valid_phone(text, "US" if nanp else None):
        return [], match.end()
    return [Span("phone", start, match.end())], match.end()


PHONE_COST = 20  # a libphonenumber check costs about as much as 20 other candidates
# Ranges reserved for fiction and documentation: NANP 555-0100..0199, Ofcom's drama numbers.
_FICTIONAL = {
    1: re.compile(r"[2-9][0-9]{2}55501[0-9]{2}"),
    44: re.compile(
        r"(?:2079460|1134960|1144960|1154960|1164960|1174960|1184960|1214960|1314960|1414960"
        r"|1514960|1614960|2896496|2920180|1632960|7700900|8081570|9098790|3069990)"
    ),
}


def _valid_phone(text: str, region: str | None) -> bool:
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    fiction = _FICTIONAL.get(number.country_code or 0)
    national = phonenumbers.national_significant_number(number)
    if fiction is not None and fiction.match(national):
        return False
    return bool(phonenumbers.is_valid_number(number))


# --------------------------------------------------------------------------- card

_CARD_FORMS = re.compile(
    r"[0-9]{13,19}"
    r"|[0-9]{4}(?P<s1>[ \-])[0-9]{4}(?P=s1)[0-9]{4}(?P=s1)[0-9]{4}(?:(?P=s1)[0-9]{1,3})?"
    r"|[0-9]{4}(?P<s2>[ \-])[0-9]{6}(?P=s2)[0-9]{4,5}"
)
_DIGIT_RUN = re.compile(r"[0-9](?:[ \-]?[0-9])*")
_GROUP_GAP = re.compile(r"[ \-]")
_DIGITS = re.compile(r"[0-9]+")
_LONGEST_CARD = 23  # 19 digits in groups of four
# Published test numbers (Stripe, Braintree, Adyen, PayPal docs): no account behind them.
TEST_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
    "4000000000000002", "4000000000009995", "4000000000000077", "4222222222222",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222",
    "2223000048400011", "378282246310005", "371449635398431", "378734493671000",
    "6011111111111117", "6011000990139424", "6011000400000000", "3056930009020004",
    "30569309025904", "38520000023237", "36227206271667", "3566002020360505",
    "3530111333300000", "3566111111111113", "6200000000000005", "6250941006528599",
    "6759649826438453",
})  # fmt: skip


def credit_card(ctx: Context, start: int, _end: int) -> Verdict:
    """The longest printed card form starting here; else resume at the next digit group
    (so in a list of numbers each one is tried, each costing one candidate)."""
    joined, limit = ctx.joined, ctx.limit(start)
    digits = _DIGITS.match(joined, start, limit)
    first = digits.end() if digits is not None else start + 1
    if _glued_before(ctx, start, ".,-+/$"):
        return [], first
    run = _DIGIT_RUN.match(joined, start, min(limit, start + _LONGEST_CARD))
    if run is None:
        return [], first
    ends = [m.start() for m in _GROUP_GAP.finditer(joined, start, run.end())] + [run.end()]
    for end in reversed(ends):
        form = _CARD_FORMS.fullmatch(joined, start, end)
        if form is not None and _is_card(form[0]) and not _glued_after(ctx, end, ".,"):
            return [Span("credit_card", start, end)], end
    return [], first


def _is_card(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    return digits not in TEST_CARDS and _card_network(digits) and luhn(digits)


def luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _card_network(digits: str) -> bool:
    """A prefix and length some card network issues (Visa, Mastercard, Amex, Discover,
    Diners, JCB, UnionPay, Mir); Maestro's range is too broad to tell from any number."""
    n, two, four = len(digits), int(digits[:2]), int(digits[:4])
    return (
        (digits[0] == "4" and n in (13, 16, 19))
        or ((51 <= two <= 55 or 2221 <= four <= 2720) and n == 16)
        or (two in (34, 37) and n == 15)
        or ((digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649)
            and 16 <= n <= 19)
        or ((300 <= int(digits[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19)
        or ((3528 <= four <= 3589 or two == 62 or 2200 <= four <= 2204) and 16 <= n <= 19)
    )  # fmt: skip


# --------------------------------------------------------------------------- IBAN

# ISO 13616 registry: country -> IBAN length.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
EXAMPLE_IBANS = frozenset({"GB82WEST12345698765432", "DE89370400440532013000"})


def iban(ctx: Context, start: int, _end: int) -> Verdict:
    joined = ctx.joined
    size = IBAN_LENGTHS.get(joined[start : start + 2])
    if size is None or _glued_before(ctx, start, ""):
        return [], start + 1
    compact: list[str] = []
    pos, limit = start, ctx.limit(start)
    grouped = joined[start + 4 : start + 5] == " "
    while len(compact) < size and pos < limit:
        char = joined[pos]
        if char.isascii() and char.isalnum() and (char.isdigit() or char.isupper()):
            compact.append(char)
        elif not (grouped and char == " " and len(compact) % 4 == 0 and compact):
            break
        pos += 1
    value = "".join(compact)
    if len(value) != size or _glued_after(ctx, pos, ""):
        return [], start + 1
    if value in EXAMPLE_IBANS or not _mod97(value):
        return [], pos
    return [Span("iban", start, pos)], pos


def _mod97(value: str) -> bool:
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


# --------------------------------------------------------------------------- private IP

_V4 = re.compile(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}")
_V6 = re.compile(r"[0-9A-Fa-f:]{2,39}(?:%[0-9A-Za-z]{1,16})?")
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7",
              "fe80::/10")
)  # fmt: skip


def private_ip(ctx: Context, start: int, _end: int) -> Verdict:
    v6 = ":" in ctx.joined[start : start + 5]
    match = (_V6 if v6 else _V4).match(ctx.joined, start, ctx.limit(start))
    if match is None or _glued(ctx, start, match.end(), before=":" if v6 else ".", after="."):
        return [], start + 1
    try:
        address: Any = ipaddress.ip_address(match[0].split("%", 1)[0])
    except ValueError:
        return [], match.end()
    if not any(address in network for network in _PRIVATE):
        return [], match.end()
    return [Span("private_ip", start, match.end())], match.end()


# --------------------------------------------------------------------------- shared


def _glued(ctx: Context, start: int, end: int, *, before: str, after: str) -> bool:
    """True when ``joined[start:end]`` runs on into a word (``x4111…``, ``…1111x``) or into
    one of the ``before``/``after`` characters (``v10.0.0.1``); a trailing ``after``
    character counts only when a digit follows it (``1.5`` runs on, a full stop does not)."""
    return _glued_before(ctx, start, before) or _glued_after(ctx, end, after)


def _glued_before(ctx: Context, start: int, chars: str) -> bool:
    if start <= ctx.start_of(start):
        return False
    prev = ctx.joined[start - 1]
    return prev in chars or _WORD.match(prev) is not None


def _glued_after(ctx: Context, end: int, chars: str) -> bool:
    limit = ctx.limit(end - 1) if end else 0
    if end >= limit:
        return False
    nxt = ctx.joined[end]
    if nxt in chars:
        return end + 1 < limit and ctx.joined[end + 1].isdigit()
    return _WORD.match(nxt) is not None
