"""A differential fuzzer for the upstream client's response parser, with h11 as the reference.

Seeded mutations of valid upstream answers are fed to :class:`lynkr_cli.serve.http1_parse.Parser`
(whole, a byte at a time, and split at random points: the verdict may not depend on where
the reads split) and to h11's client-side parser. They must agree on accept or refuse, and
when both accept, on the status, reason, fields, body and whether the connection can be
reused. Where they differ on purpose, :data:`tests.security.http1_differences.DIFFERENCES`
names the difference and its RFC reason, and proves it.

Used by ``tests/security/test_http1_fuzz.py`` (a fixed number of cases in the suite) and
``tests/bench/bench_http1_fuzz.py`` (a larger run, for ``make bench``).
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.security.http1_differences import explain
from tests.security.http1_verdicts import agree, ours, reference

# -- the cases -------------------------------------------------------------------------------

JSON_BODY = b'{"type":"message","content":[{"type":"text","text":"hi"}]}'
SSE_CHUNKS = [b"event: ping\ndata: {}\n\n", b"event: message_stop\ndata: {}\n\n", b"x" * 17]


def _chunked(chunks: list[bytes], exts: list[bytes], trailer: bytes = b"") -> bytes:
    out = b""
    for chunk, ext in zip(chunks, exts, strict=True):
        out += b"%x%s\r\n%s\r\n" % (len(chunk), ext, chunk)
    return out + b"0\r\n" + trailer + b"\r\n"


SEEDS: list[tuple[str, bytes]] = [
    (
        "POST",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nrequest-id: req_1\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(JSON_BODY), JSON_BODY),
    ),
    (
        "POST",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        b"Cache-Control: no-cache\r\n\r\n"
        + _chunked(SSE_CHUNKS, [b"", b";a=b", b';q="x y"'], b"X-Trailer: done\r\n"),
    ),
    ("POST", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close"),
    (
        "POST",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
    ),
    (
        "POST",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked([b"Ab"], [b""]),
    ),
    ("POST", b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"),
    ("GET", b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'),
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n"),
    ("POST", b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"),
    ("POST", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"),
    (
        "POST",
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}",
    ),
    ("POST", b"HTTP/1.1 200\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz"),
    (
        "POST",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\nx-empty:\r\n\r\n"
        + _chunked([b"0123456789" * 2], [b" ;name"], b""),
    ),
    (
        "POST",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked([b"{}"], [b""], b"Content-Length: 2\r\nX-Sum: 1\r\n"),
    ),
]

ODD = [
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n ",
    b"\x00",
    b"\x01",
    b"\x0b",
    b"\x7f",
    b"\xff",
    b":",
    b";",
    b",",
    b'"',
    b"0",
    b"a",
    b"x",
    b"+",
    b"-",
    b"_",
    b"0x",
    b";a=b",
    b";a",
    b"=",
    b"HTTP/1.1 200 OK\r\n",
    b"\r\n\r\n",
]
CHUNK_SIZES = [
    b"0x5",
    b"1_0",
    b"+5",
    b" 5",
    b"5 ",
    b"05",
    b"-5",
    b"A",
    b"a",
    b"ffffffffffffffffffff",
    b"1" * 21,
    b"5;",
    b"5;a=",
    b'5;a="',
    b"5 ; a = b",
    b"5\t;a",
    b"5;a=b;c",
    b"",
    b"g",
    b"5;\x00",
    b'5;a="b\\"c"',
    b"5;a=b c",
]
LENGTHS = [
    b"+5",
    b" 5",
    b"5 ",
    b"0x5",
    b"1_0",
    b"-1",
    b"05",
    b"5, 5",
    b"5,6",
    b"5,",
    b"",
    b"\xb2",
    b"1" * 21,
    b"9" * 20,
    b"5\x00",
    b"five",
]
CODINGS = [
    b"chunked",
    b"Chunked",
    b"CHUNKED",
    b"chunked, chunked",
    b"gzip, chunked",
    b"chunked, gzip",
    b"identity",
    b"",
    b"chunked;q=1",
    b" chunked",
    b"chunk ed",
    b"x",
]
STATUS_LINES = [
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 200",
    b"HTTP/1.1 200 ",
    b"HTTP/1.0 200 OK",
    b"HTTP/1.2 200 OK",
    b"HTTP/2.0 200 OK",
    b"HTTP/1.1 99 X",
    b"HTTP/1.1 600 X",
    b"HTTP/1.1 999 X",
    b"HTTP/1.1  200 OK",
    b"http/1.1 200 OK",
    b"HTTP/1.1 2000 OK",
    b"HTTP/1.1 200 O\tK",
    b"HTTP/1.1 101 Switching",
    b"HTTP/1.1 100 Continue",
    b" HTTP/1.1 200 OK",
    b"HTTP/11 200 OK",
    b"HTTP/1.1 +20 OK",
]
EXTRA_FIELDS = [
    b"Content-Length: 3",
    b"Content-Length: 0",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Connection: close",
    b"Connection: keep-alive, Close",
    b"Connection: closed",
    b"X-A : 1",
    b" X-A: 1",
    b"X-A:1",
    b"X-A:\t1\t",
    b"X-A: \x80\xff",
    b"X A: 1",
    b"X-A",
    b": 1",
    b"X-A: a\x0bb",
    b"X-A: a\rb",
]


@dataclass
class Case:
    method: str
    data: bytes
    mutations: list[str] = field(default_factory=list)


def _lines(data: bytes) -> list[int]:
    """Offsets just after each CRLF."""
    return [m.end() for m in re.finditer(rb"\r\n", data)]


def _replace_token(
    rng: random.Random,
    data: bytes,
    pattern: bytes,
    options: list[bytes],
    same: Callable[[random.Random, bytes], bytes] | None = None,
) -> bytes:
    """Replace group 1 of one match of ``pattern``: by one of ``options``, or half the time
    by ``same(rng, digits)``, another spelling of the same number (which int() would read
    as that number: only a lenient parser frames the body right then)."""
    spots = list(re.finditer(pattern, data))
    if not spots:
        return data
    spot = rng.choice(spots)
    if same is not None and rng.random() < 0.5:
        new = same(rng, spot.group(1))
    else:
        new = rng.choice(options)
    return data[: spot.start(1)] + new + data[spot.end(1) :]


def _respell(rng: random.Random, token: bytes, hex_: bool) -> bytes:
    digits = re.match(rb"[0-9A-Fa-f]*" if hex_ else rb"[0-9]*", token)[0]  # type: ignore[index]
    if not digits:
        return token
    i = rng.randrange(len(digits) + 1)
    choices = [
        b"+" + digits,
        b" " + digits,
        b"\t" + digits,
        b"0" + digits,
        digits + b" ",
        digits[:i] + b"_" + digits[i:],
        b"-0" + digits,
        digits + b"\x00",
    ]
    if hex_:
        choices += [b"0x" + digits, b"0X" + digits, digits.upper(), digits + b";", digits + b" ;x"]
    else:
        choices += [digits + b", " + digits, digits + b"," + digits, b"0x" + b"%x" % int(digits)]
    return rng.choice(choices)


def _mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.choice(MUTATIONS)
    if kind == "flip" and data:
        i = rng.randrange(len(data))
        byte = rng.choice([rng.randrange(256), rng.choice(b" \t\r\n\x00:;,0ax")])
        return kind, data[:i] + bytes([byte]) + data[i + 1 :]
    if kind == "insert":
        spots = _lines(data) + [m.start() for m in re.finditer(rb"[:;\r]", data)]
        i = rng.choice(spots) if spots and rng.random() < 0.7 else rng.randrange(len(data) + 1)
        return kind, data[:i] + rng.choice(ODD) + data[i:]
    if kind == "delete" and data:
        i = rng.randrange(len(data))
        return kind, data[:i] + data[i + rng.randint(1, 3) :]
    if kind == "truncate" and data:
        return kind, data[: rng.randrange(len(data))]
    if kind == "duplicate":
        lines = _lines(data)
        if len(lines) > 2:
            i = rng.randrange(len(lines) - 1)
            line = data[lines[i] : lines[i + 1]]
            return kind, data[: lines[i + 1]] + line + data[lines[i + 1] :]
    if kind == "field":
        lines = _lines(data)
        if lines:
            i = rng.choice(lines[:3] if rng.random() < 0.8 else lines)
            return kind, data[:i] + rng.choice(EXTRA_FIELDS) + b"\r\n" + data[i:]
    if kind == "chunk-size":
        size = rb"\r\n([0-9a-fA-F]+[^\r\n]*)\r\n"
        return kind, _replace_token(
            rng, data, size, CHUNK_SIZES, lambda r, d: _respell(r, d, hex_=True)
        )
    if kind == "length":
        length = rb"(?i)content-length: ?([^\r\n]*)"
        return kind, _replace_token(
            rng, data, length, LENGTHS, lambda r, d: _respell(r, d, hex_=False)
        )
    if kind == "coding":
        return kind, _replace_token(rng, data, rb"(?i)transfer-encoding: ?([^\r\n]*)", CODINGS)
    if kind == "status":
        return kind, _replace_token(rng, data, rb"^(HTTP/[^\r\n]*)", STATUS_LINES)
    if kind == "fold":
        spots = [m.end() - 2 for m in re.finditer(rb"[a-z0-9]\r\n[A-Z]", data)]
        if spots:
            i = rng.choice(spots)
            fold = rng.choice([b"\r\n x", b"\r\n\tx", b"\r\n ", b"\n x"])
            return kind, data[:i] + fold + data[i:]
    if kind == "bare-lf":
        spots = list(re.finditer(rb"\r\n", data))
        if spots:
            spot = rng.choice(spots)
            return kind, data[: spot.start()] + b"\n" + data[spot.end() :]
    return "none", data


MUTATIONS = [
    "flip",
    "insert",
    "delete",
    "truncate",
    "duplicate",
    "field",
    "chunk-size",
    "length",
    "coding",
    "status",
    "fold",
    "bare-lf",
]


def cases(seed: int, count: int) -> Iterable[Case]:
    """``count`` cases: every seed as it is, then seeded mutations of them (1 to 3 each)."""
    rng = random.Random(seed)
    for method, data in SEEDS:
        yield Case(method, data)
    for _ in range(count - len(SEEDS)):
        method, data = rng.choice(SEEDS)
        case = Case(method, data)
        for _ in range(rng.choice([1, 1, 2, 3])):
            kind, case.data = _mutate(rng, case.data)
            case.mutations.append(kind)
        yield case


def splits(rng: random.Random, data: bytes) -> list[list[bytes]]:
    """The ways one case is fed to our parser: whole, a byte at a time, and at random points."""
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 4))))
    cuts = [0, *points, len(data)]
    return [
        [data],
        [data[i : i + 1] for i in range(len(data))],
        [data[a:b] for a, b in itertools.pairwise(cuts)],
    ]


@dataclass
class Report:
    cases: int = 0
    accepted: int = 0
    refused: int = 0
    exceptions: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def run(seed: int, count: int, *, byte_at_a_time: bool = True) -> Report:
    """Run ``count`` cases; failures are described, not raised."""
    report = Report()
    rng = random.Random(seed + 1)
    for case in cases(seed, count):
        report.cases += 1
        feeds = splits(rng, case.data) if len(case.data) > 1 else [[case.data]]
        if not byte_at_a_time:
            feeds = [feeds[0], feeds[-1]]
        verdicts = [ours(pieces, case.method) for pieces in feeds]
        mine = verdicts[0]
        if any(v != mine for v in verdicts[1:]):
            report.failures.append(f"split-dependent verdict {case}: {verdicts}")
            continue
        theirs = reference(case.data, case.method)
        if agree(mine, theirs):
            report.accepted += mine.accepted
            report.refused += not mine.accepted
            continue
        names = explain(case.data, mine, theirs, case.method)
        if names is None:
            report.failures.append(f"{case}\n  ours:  {mine}\n  h11:   {theirs}")
        else:
            report.exceptions.update(names)
    return report
