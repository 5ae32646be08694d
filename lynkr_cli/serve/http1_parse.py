"""The upstream client's HTTP/1.1 response parser, without I/O (RFC 9112, read strictly).

:class:`Parser` turns the bytes in ``buf`` into calls of three hooks: ``on_head``
(the final answer's status, reason and headers), ``on_body`` (body bytes, framing
removed) and ``on_end``. The connection in :mod:`lynkr_cli.serve.http1` is one
subclass; the tests feed another one bytes directly and compare it with h11.

Anything that is not well-formed raises :class:`BadResponse`; the caller drops the
connection. Where RFC 9112 lets a recipient choose, this parser refuses, as llhttp
(Node's parser) does, because a lenient upstream parser is how response splitting
and smuggling start:

- the status line is ``HTTP/1.<digit> <100-599>[ <reason>]``; no leading empty lines;
- lines end with CRLF; a bare LF is refused (§2.2 allows it only as a MAY);
- a field is ``token ":" OWS value OWS``: no whitespace before the colon, no
  obs-fold (§5.2 lets a gateway refuse it with a 502), values of visible
  characters, SP and HTAB only (no NUL, CR, LF or other controls, RFC 9110 §5.5);
- ``Content-Length`` is 1 to 20 digits; copies of one value (``5, 5`` or two
  lines) are one value (RFC 9110 §8.6), different values are refused;
- ``Transfer-Encoding`` must be exactly ``chunked``: the gateway never sends
  ``TE``, so other codings are not acceptable, and it cannot relay them;
- ``Transfer-Encoding`` with ``Content-Length`` is refused (§6.3 rule 3: "ought to
  be handled as an error"; §6.1 forbids a sender to send both), and so is
  ``Transfer-Encoding`` in an HTTP/1.0 answer (§6.1: faulty framing);
- a chunk size is 1 to 20 hex digits, nothing else (no ``0x``, sign, ``_`` or
  leading space: ``int(x, 16)`` accepts all of those); extensions follow the
  §7.1.1 grammar and the whole line is at most :data:`MAX_CHUNK_LINE` bytes;
- trailer fields are checked like header fields, bounded by :data:`MAX_HEAD`
  in all, and discarded;
- 1xx answers are skipped (their fields checked), 101 is refused (no upgrade was
  asked for); 204, 304 and the answer to HEAD have no body, whatever their
  framing fields say (those are still checked).
"""

from __future__ import annotations

import re

from multidict import CIMultiDict

from lynkr_cli.serve.transport import RemoteProtocolError

MAX_HEAD = 2**16  # the largest response head (and trailer section) accepted
MAX_CHUNK_LINE = 4096  # the longest chunk-size line, extensions included
MAX_LENGTH_DIGITS = 20  # Content-Length and chunk-size digits (h11's bound too)

# body framing states
HEAD, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILER, UNTIL_CLOSE = range(7)

_HEXDIGITS = b"0123456789abcdefABCDEF"
_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_TEXT = rb"[\t\x20-\x7e\x80-\xff]*"  # field-value / reason-phrase octets: no controls but HTAB
_QUOTED = rb'"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"'
_STATUS = rb"HTTP/1\.([0-9]) ([1-5][0-9][0-9])(?: (" + _TEXT + rb"))?"
STATUS = re.compile(_STATUS)
# possessive (++, *+): neither a name nor a value can hold what ends it, so no backtracking
_HEAD = re.compile(_STATUS + rb"\r\n(?:" + _TOKEN + rb"+:" + _TEXT + rb"+\r\n)*+")  # one pass
_FIELD = re.compile(_TOKEN + rb":" + _TEXT)
_CHUNK = re.compile(
    rb"([0-9A-Fa-f]{1,20})"
    rb"(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*"
    rb"[ \t]*"  # trailing whitespace: not in the grammar, harmless, and sent in the wild
)


class BadResponse(RemoteProtocolError):
    """The upstream's answer is not well-formed HTTP/1.1; ``detail`` says how. It never
    quotes a field's value (an upstream's cookie has no business in a client's error)."""


class Parser:
    """Response framing over ``buf``; a subclass appends bytes and calls :meth:`parse`."""

    def __init__(self) -> None:
        self.buf = b""
        self.state = HEAD
        self.remaining = 0
        self.keep_alive = True
        self.no_body = False  # set before each request: the answer to HEAD has no body
        self.trailer = 0  # trailer bytes so far

    # -- hooks ----------------------------------------------------------------------------
    def on_head(self, status: int, reason: str, headers: CIMultiDict[str]) -> None:
        """The final answer's head has arrived (``keep_alive`` is set)."""

    def on_body(self, data: bytes) -> None:
        """Body bytes, in order, framing removed."""

    def on_end(self) -> None:
        """The body is complete (``state`` is back to ``HEAD``)."""

    # -- parsing --------------------------------------------------------------------------
    def parse(self) -> None:
        """Consume what ``buf`` holds; stops after a complete answer (what follows it is
        left in ``buf``). Raises :class:`BadResponse`."""
        parts: list[bytes] = []
        try:
            while self.state == HEAD:
                got = self._head()
                if got is None:
                    return  # an incomplete head: wait for more bytes
                if got and self.state == HEAD:
                    return  # a complete answer without a body
            state = self.state
            if state == LENGTH:
                if self._take(parts):
                    self._flush(parts)
                    self.state = HEAD
                    self.on_end()
            elif state == UNTIL_CLOSE:
                parts.append(self.buf)
                self.buf = b""
            else:
                self._chunked(parts)
        finally:
            self._flush(parts)

    def _take(self, parts: list[bytes]) -> bool:
        """Move up to ``remaining`` body bytes from the buffer to ``parts``; True when
        none remain (the body, or the chunk, is complete)."""
        buf, remaining = self.buf, self.remaining
        if len(buf) <= remaining:
            parts.append(buf)
            self.remaining = remaining - len(buf)
            self.buf = b""
        else:
            parts.append(buf[:remaining])
            self.buf = buf[remaining:]
            self.remaining = 0
        return not self.remaining

    def _flush(self, parts: list[bytes]) -> None:
        if parts:
            self.on_body(parts[0] if len(parts) == 1 else b"".join(parts))
            parts.clear()

    def _chunked(self, parts: list[bytes]) -> None:
        while self.buf:
            state = self.state
            if state == CHUNK_SIZE:
                end = self.buf.find(b"\r\n", 0, MAX_CHUNK_LINE + 1)
                if end < 0:
                    if len(self.buf) > MAX_CHUNK_LINE:
                        raise BadResponse("chunk size line too long")
                    return
                line = self.buf[:end]
                self.buf = self.buf[end + 2 :]
                if 0 < end <= MAX_LENGTH_DIGITS and not line.strip(_HEXDIGITS):
                    size = int(line, 16)  # the usual line, hex digits only: int() is safe
                else:
                    size = _chunk_size(line)
                self.remaining = size
                self.state = CHUNK_DATA if size else TRAILER
            elif state == CHUNK_DATA:
                if self._take(parts):
                    self.state = CHUNK_END
            elif state == CHUNK_END:
                if len(self.buf) < 2:
                    return
                if self.buf[:2] != b"\r\n":
                    raise BadResponse("chunk not followed by CRLF")
                self.buf = self.buf[2:]
                self.state = CHUNK_SIZE
            else:  # TRAILER
                last = self._trailer_line()
                if last is None:
                    return
                if last:
                    self._flush(parts)
                    self.state = HEAD
                    self.on_end()
                    return

    def _trailer_line(self) -> bool | None:
        """Consume one trailer line: True at the empty line that ends the body, None
        when the buffer holds no whole line."""
        end = self.buf.find(b"\r\n", 0, MAX_HEAD + 1)
        if end < 0 or self.trailer + end > MAX_HEAD:
            if self.trailer + len(self.buf) > MAX_HEAD:
                raise BadResponse("trailer section too large")
            return None
        line, self.buf = self.buf[:end], self.buf[end + 2 :]
        if not line:
            self.trailer = 0
            return True
        if _FIELD.fullmatch(line) is None:
            raise BadResponse(f"bad trailer field: {_bad_field(line)}")
        self.trailer += end + 2
        return False

    def _head(self) -> bool | None:
        """Parse a response head: True for the answer, False for an interim (1xx) one,
        None when the buffer does not hold a whole head yet."""
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEAD:
            if len(buf) > MAX_HEAD:
                raise BadResponse("response head too large")
            return None
        first = buf.find(b"\r\n", 0, end + 2)
        match = _HEAD.fullmatch(buf, 0, end + 2)
        if match is None:
            if STATUS.fullmatch(buf, 0, first) is None:
                raise BadResponse(f"bad status line {buf[:first][:40]!r}")
            raise BadResponse(f"bad header field: {_bad_field(buf[first + 2 : end])}")
        self.buf = buf[end + 4 :]
        pairs: list[tuple[str, str]] = []
        if end > first:
            for line in buf[first + 2 : end].decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                pairs.append((name, value.strip(" \t")))
        headers: CIMultiDict[str] = CIMultiDict(pairs)
        minor, status = match.group(1), int(match.group(2))
        framing, length = _framing(headers, minor != b"0")
        if status < 200:
            if status == 101:
                raise BadResponse("unexpected upgrade (101) from the upstream")
            return False  # an interim answer: the real one follows
        self.keep_alive = minor != b"0" and not _closes(headers)
        if self.no_body or status in (204, 304):
            framing = HEAD
        elif framing == LENGTH:
            self.remaining = length
            if not length:
                framing = HEAD
        self.state = framing
        if framing == UNTIL_CLOSE:
            self.keep_alive = False
        reason = match.group(3)
        self.on_head(status, reason.decode("latin-1") if reason else "", headers)
        if framing == HEAD:
            self.on_end()
        return True


def _chunk_size(line: bytes) -> int:
    """The size on a chunk-size line with extensions or anything odd (the usual line,
    hex digits only, is read in place)."""
    match = _CHUNK.fullmatch(line)
    if match is None:
        raise BadResponse(f"malformed chunk size line {line[:40]!r}")
    return int(match.group(1), 16)


def _framing(headers: CIMultiDict[str], http11: bool) -> tuple[int, int]:
    """How the body is delimited (``CHUNK_SIZE``, ``LENGTH`` or ``UNTIL_CLOSE``) and
    the length. Checks the framing fields even on answers without a body, as h11 does."""
    codings = headers.getall("transfer-encoding", None)
    lengths = headers.getall("content-length", None)
    if codings is not None:
        if lengths is not None:
            raise BadResponse("both Transfer-Encoding and Content-Length (RFC 9112 §6.3)")
        if not http11:
            raise BadResponse("Transfer-Encoding in an HTTP/1.0 answer (RFC 9112 §6.1)")
        if len(codings) != 1 or codings[0].lower() != "chunked":
            raise BadResponse(f"unsupported Transfer-Encoding {', '.join(codings)[:40]!r}")
        return CHUNK_SIZE, 0
    if lengths is None:
        return UNTIL_CLOSE, 0
    value = lengths[0]
    if len(lengths) > 1 or "," in value:
        values = {v.strip(" \t") for line in lengths for v in line.split(",")}
        if len(values) != 1:
            raise BadResponse(f"conflicting Content-Length values {sorted(values)[:4]!r}")
        value = values.pop()
    if not (value.isdigit() and value.isascii() and len(value) <= MAX_LENGTH_DIGITS):
        raise BadResponse(f"bad Content-Length {value[:30]!r}")
    return LENGTH, int(value)


def _closes(headers: CIMultiDict[str]) -> bool:
    """The answer says ``Connection: close``."""
    values = headers.getall("connection", None)
    if values is None:
        return False
    return any(t.strip(" \t").lower() == "close" for v in values for t in v.split(","))


def _bad_field(block: bytes) -> str:
    """What is wrong with the first field line of ``block`` that is not well-formed."""
    line = next((ln for ln in block.split(b"\r\n") if _FIELD.fullmatch(ln) is None), b"")
    name, colon, _ = line.partition(b":")
    shown = repr(name[:40].decode("latin-1"))
    if line[:1] in (b" ", b"\t"):
        return "a line starting with whitespace (obs-fold)"
    if b"\n" in line or b"\r" in line:
        return f"a bare CR or LF in or after {shown}"
    if not colon:
        start = re.match(_TOKEN, line)
        return f"a line without a colon, starting {(start[0] if start else b'')[:40]!r}"
    if name.rstrip(b" \t") != name and name.strip(b" \t"):
        return f"whitespace before the colon in {shown}"
    if not re.fullmatch(_TOKEN, name):
        return f"an invalid field name {shown}"
    return f"a control character in the value of {shown}"
