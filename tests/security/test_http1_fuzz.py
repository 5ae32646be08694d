"""The upstream client's response parser against h11, on the same seeded, mutated bytes.

``LYNKR_HTTP1_FUZZ_CASES`` raises the number of cases (``tests/bench/bench_http1_fuzz.py``
runs a larger set in ``make bench``). The differences from h11 that are right on purpose
are listed, with their RFC reasons, in ``tests/security/http1_differences.py``.
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from lynkr_cli.serve import http1_parse
from lynkr_cli.serve.http1 import Pool
from lynkr_cli.serve.transport import TransportError
from tests.security.http1_differences import DIFFERENCES, explain
from tests.security.http1_fuzz import cases, run
from tests.security.http1_verdicts import Verdict, ours, reference

SEED = 20240611
CASES = int(os.environ.get("LYNKR_HTTP1_FUZZ_CASES", "15000"))


def test_the_parser_agrees_with_h11_on_mutated_answers() -> None:
    report = run(SEED, CASES)
    assert not report.failures, "\n\n".join(report.failures[:5])
    assert report.accepted > CASES // 10 and report.refused > CASES // 3  # both sides covered
    # every documented difference is met (none is dead weight), and stays rare
    assert set(report.exceptions) == {d.name for d in DIFFERENCES}
    assert sum(report.exceptions.values()) < CASES // 5


def _lenient_chunk_size(line: bytes) -> int:
    try:
        return int(line.split(b";", 1)[0].strip(), 16)  # the old reading: 0x5, 1_0, +5 pass
    except ValueError:
        raise http1_parse.BadResponse("malformed chunk size") from None


def _first_content_length(headers, http11):  # type: ignore[no-untyped-def]
    if "content-length" in headers and "transfer-encoding" not in headers:
        try:
            return http1_parse.LENGTH, int(headers["content-length"])  # the first one wins
        except ValueError:
            raise http1_parse.BadResponse("bad content-length") from None
    return _strict_framing(headers, http11)


_strict_framing = http1_parse._framing


@pytest.mark.parametrize(
    ("name", "lenient"),
    [("_chunk_size", _lenient_chunk_size), ("_framing", _first_content_length)],
)
def test_the_fuzzer_catches_the_old_leniency(monkeypatch, name: str, lenient: object) -> None:
    """With the parser as it was before issue 11 (``int(x, 16)`` chunk sizes, the first of
    two Content-Lengths), the fuzzer fails, and no documented difference excuses it."""
    monkeypatch.setattr(http1_parse, name, lenient)
    report = run(SEED, 3000, byte_at_a_time=False)
    assert report.failures


def test_a_difference_needs_its_proof() -> None:
    """A refusal h11 does not share, with none of the documented features, is a failure."""
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    refused = Verdict(False, "made up")
    assert explain(data, refused, reference(data), "POST") is None


# -- the same cases through a real socket ------------------------------------------------


async def test_a_real_connection_reads_what_the_parser_reads() -> None:
    """A sample of the cases, each written by a scripted server in random pieces (then
    the server closes): the pool's answer is the parser's verdict."""
    rng = random.Random(SEED)
    sample = [c for c in cases(SEED, 3000) if c.method != "HEAD"][::5]
    current: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n{}")
        data = current[0]
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data), 3)))
        for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
            writer.write(data[a:b])
            await writer.drain()
            await asyncio.sleep(0)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/messages"
    pool = Pool(5)
    try:
        for case in sample:
            current[:] = [case.data]
            expected = ours([case.data], case.method)
            got = await _through_pool(pool, url, case.method)
            assert got == (expected.accepted, expected.status, expected.body), case
    finally:
        await pool.close()
        server.close()
        await server.wait_closed()
    assert not any(pool._idle.values())


async def _through_pool(pool: Pool, url: str, method: str) -> tuple[bool, int, bytes]:
    try:
        async with asyncio.timeout(10):
            resp = await pool.request(method, url, {}, b"{}")
            body = await resp.read()
    except TransportError:
        return False, 0, b""
    return True, resp.status, body
