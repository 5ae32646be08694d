"""Where our response parser and h11 differ on purpose, each with its RFC reason and a proof.

A repair rewrites one feature that h11 tolerates (and we refuse) into the strict form
that h11 reads the same way, or the other way round; a disagreement is excused when,
after the repairs, the two agree. What cannot be repaired (a value h11 keeps and we
refuse) is excused only on evidence in h11's own answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.security.http1_verdicts import Verdict, agree, ours_whole, reference

_HEAD_END = re.compile(rb"\n\r?\n")  # where h11 ends a head
_BARE_LF = re.compile(rb"(?<!\r)\n")
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    """The heads h11 reads (interim ones, then the final one) and what follows them."""
    heads: list[bytes] = []
    start = 0
    while True:
        match = _HEAD_END.search(data, start)
        if match is None:
            return [*heads, data[start:]], b""
        heads.append(data[start : match.end()])
        start = match.end()
        if not re.match(rb"HTTP/[0-9]\.[0-9] 1[0-9][0-9]", heads[-1]) or heads[-1][9:12] == b"101":
            return heads, data[start:]


def _on_heads(fix: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        heads, rest = _split(data)
        return b"".join(fix(head) for head in heads) + rest

    return apply


def _chunked(head: bytes) -> bool:
    return re.search(rb"(?im)^transfer-encoding:[ \t]*chunked[ \t]*\r?$", head) is not None


def _walk(rest: bytes) -> tuple[list[tuple[int, int]], int | None]:
    """The chunk-size lines of a chunked body (start, end), walking the chunks as h11
    does (data that looks like a size line is data), and where the trailer starts."""
    lines: list[tuple[int, int]] = []
    pos = 0
    while (end := rest.find(b"\r\n", pos)) >= 0:
        size = re.match(rb"[0-9A-Fa-f]{1,20}", rest[pos:end])
        if size is None:
            return lines, None
        lines.append((pos, end))
        length = int(size[0], 16)
        if not length:
            return lines, end + 2
        pos = end + 2 + length + 2
    return lines, None


def _on_chunk_lines(fix: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Apply ``fix`` to each chunk-size line of a chunked answer."""

    def apply(data: bytes) -> bytes:
        heads, rest = _split(data)
        if not _chunked(heads[-1]):
            return data
        out, pos = [], 0
        for start, end in _walk(rest)[0]:
            out += [rest[pos:start], fix(rest[start:end])]
            pos = end
        return b"".join(heads) + b"".join(out) + rest[pos:]

    return apply


def _on_trailer(fix: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Apply ``fix`` to the trailer section of a chunked answer."""

    def apply(data: bytes) -> bytes:
        heads, rest = _split(data)
        cut = _walk(rest)[1] if _chunked(heads[-1]) else None
        if cut is None:
            return data
        return b"".join(heads) + rest[:cut] + fix(rest[cut:])

    return apply


def _both(*fixes: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        for fix in fixes:
            data = fix(data)
        return data

    return apply


def _crlf(text: bytes) -> bytes:
    return _BARE_LF.sub(b"\r\n", text)


def _unfold(head: bytes) -> bytes:
    """h11's obs-fold: a line that starts with SP/HTAB joins the one before, after one SP
    (not the first line: a head's status line, or a trailer after a leading CRLF)."""
    lines = head.split(b"\r\n")
    out = lines[:1]
    for i, line in enumerate(lines[1:], 1):
        if not line:  # the end of the section: what follows is not fields
            return b"\r\n".join(out + lines[i:])
        if line[:1] in (b" ", b"\t") and len(out) > 1:
            out[-1] += b" " + line.lstrip(b" \t")
        else:
            out.append(line)
    return b"\r\n".join(out)


def _drop_ext(line: bytes) -> bytes:
    return re.sub(rb"^([0-9A-Fa-f]{1,20})[ \t]*;.*", rb"\1", line, flags=re.S)


def _drop_length_under_coding(head: bytes) -> bytes:
    if not re.search(rb"(?im)^transfer-encoding:", head):
        return head
    return re.sub(rb"(?im)^content-length:[^\r\n]*\r\n", b"", head)


def _tighten_ext(line: bytes) -> bytes:
    return re.sub(rb"^([0-9A-Fa-f]{1,20})[ \t]+;", rb"\1;", line)


def _drop_framing(trailer: bytes) -> bytes:
    return re.sub(rb"(?im)^(content-length|transfer-encoding):[^\r\n]*\r\n", b"", trailer)


@dataclass(frozen=True)
class Difference:
    name: str
    rfc: str  # why differing is right
    repair: Callable[[bytes], bytes] | None = None  # to the form both read alike
    ours_stricter: bool = True  # we refuse what h11 accepts (else the other way round)
    evidence: Callable[[Verdict, Verdict], bool] | None = None  # (ours, h11) when no repair


def _has_controls(mine: Verdict, theirs: Verdict) -> bool:
    texts = [theirs.reason, *theirs.interim] + [value for _, value in theirs.fields]
    return any(_CTL.search(text.encode("latin-1")) for text in texts)


def _coding_in_10(mine: Verdict, theirs: Verdict) -> bool:
    return theirs.version == "1.0" and any(n == "transfer-encoding" for n, _ in theirs.framing)


def _not_http1_status(mine: Verdict, theirs: Verdict) -> bool:
    versions = [theirs.version, *theirs.interim]
    return mine.why.startswith("bad status line") and (
        any(v[:2] != "1." and re.fullmatch(r"[0-9]\.[0-9]", v) for v in versions)
        or theirs.status >= 600
    )


DIFFERENCES = [
    Difference(
        "bare LF ends a line of the head or trailer",
        "RFC 9112 §2.2: a recipient MAY take a bare LF as a line terminator; h11 does, we "
        "refuse it as llhttp does (lenient line endings are how response splitting starts)",
        repair=_both(_on_heads(_crlf), _on_trailer(_crlf)),
    ),
    Difference(
        "obs-fold",
        "RFC 9112 §5.2: a gateway that receives obs-fold in a response MAY discard the "
        "answer with a 502 instead of unfolding it; h11 unfolds, we refuse",
        repair=_both(_on_heads(_unfold), _on_trailer(lambda t: _unfold(b"\r\n" + t)[2:])),
    ),
    Difference(
        "a chunk extension outside the grammar",
        "RFC 9112 §7.1.1: an extension's name is a token and its value a token or a "
        "quoted-string; h11 accepts anything after ';', we check the grammar as llhttp does",
        repair=_on_chunk_lines(_drop_ext),
    ),
    Difference(
        "Transfer-Encoding with Content-Length",
        "RFC 9112 §6.3 rule 3: Transfer-Encoding overrides Content-Length, and such a message "
        "'ought to be handled as an error' (§6.1: a sender MUST NOT send both); h11 lets "
        "Transfer-Encoding win, we refuse",
        repair=_on_heads(_drop_length_under_coding),
    ),
    Difference(
        "control characters in a field value or the reason",
        "RFC 9110 §5.5 and RFC 9112 §4: controls other than HTAB are invalid there, and a "
        "recipient MAY keep them; h11 keeps them, we refuse",
        evidence=_has_controls,
    ),
    Difference(
        "Transfer-Encoding in an HTTP/1.0 answer",
        "RFC 9112 §6.1: a client that receives one MUST treat its framing as faulty; h11 "
        "reads it as chunked",
        evidence=_coding_in_10,
    ),
    Difference(
        "an HTTP version other than 1.x, or a status of 600 or more",
        "RFC 9112 §2.3 (these are HTTP/1 messages) and RFC 9110 §15 (valid codes are "
        "100-599); h11 accepts any digit.digit version and any three digits from 200",
        evidence=_not_http1_status,
    ),
    Difference(
        "whitespace before a chunk extension's ';'",
        "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS ... ), so '5 ;a=b' is valid; h11 refuses it",
        repair=_on_chunk_lines(_tighten_ext),
        ours_stricter=False,
    ),
    Difference(
        "a framing field in the trailer section",
        "RFC 9110 §6.5.1: trailer fields are not used for framing and a recipient may "
        "discard them; we check their syntax and discard them, h11 also checks the value "
        "of a Content-Length or Transfer-Encoding there",
        repair=_on_trailer(_drop_framing),
        ours_stricter=False,
    ),
]


def explain(data: bytes, mine: Verdict, theirs: Verdict, method: str) -> list[str] | None:
    """The documented differences that account for this disagreement, or None. Repairs
    are applied until none changes anything more (one can uncover another: an unfolded
    ``Transfer-Encoding`` makes a trailer a trailer), then the evidence is weighed."""
    if mine.accepted == theirs.accepted:
        return None  # both accept, with different answers: no difference is documented
    stricter = not mine.accepted
    used: list[str] = []
    fixed = data
    repairs = [d for d in DIFFERENCES if d.ours_stricter == stricter and d.repair is not None]
    for _ in range(len(repairs)):
        progress = False
        for difference in repairs:
            assert difference.repair is not None
            candidate = difference.repair(fixed)
            if candidate == fixed:
                continue
            # a repair must not change what the side that tolerated the feature reads
            tolerant = reference if stricter else ours_whole
            if not agree(tolerant(candidate, method), theirs if stricter else mine):
                continue
            fixed, progress = candidate, True
            used += [difference.name] if difference.name not in used else []
            if stricter and agree(ours_whole(fixed, method), theirs):
                return used
            if not stricter and agree(mine, reference(fixed, method)):
                return used
        if not progress:
            break
    now = ours_whole(fixed, method)
    if now.accepted or not theirs.accepted:
        return None
    for difference in DIFFERENCES:
        if difference.evidence is not None and difference.evidence(now, theirs):
            return [*used, difference.name]
    return None
