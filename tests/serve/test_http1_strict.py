"""The upstream client reads answers strictly (RFC 9112): what it refuses, what it accepts,
through the parser directly and through a real socket, with h11's verdict beside ours."""

from __future__ import annotations

import asyncio

import pytest

from lynkr_cli.serve import proxy
from lynkr_cli.serve.http1 import BadResponse, Pool
from tests.security.http1_verdicts import ours, reference
from tests.serve.test_http1 import JSON_ANSWER, Server, serve, start_fixed

__all__ = ["serve"]  # the scripted-server fixture

OK = b"HTTP/1.1 200 OK\r\n"
TE = b"Transfer-Encoding: chunked\r\n"


def chunked(*lines: bytes) -> bytes:
    return OK + TE + b"\r\n" + b"\r\n".join(lines) + b"\r\n"


def length(value: bytes, body: bytes = b"hello") -> bytes:
    return OK + b"Content-Length: " + value + b"\r\n\r\n" + body


def coding(value: bytes) -> bytes:
    return OK + b"Transfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"


# (answer, what our refusal says, does h11 refuse it too: where not, http1_fuzz.DIFFERENCES
# says why)
REFUSED = {
    "chunk size 0x5": (chunked(b"0x5", b"hello", b"0", b""), "malformed chunk size", True),
    "chunk size 1_0": (chunked(b"1_0", b"0123456789abcdef", b"0", b""), "chunk size", True),
    "chunk size +5": (chunked(b"+5", b"hello", b"0", b""), "chunk size", True),
    "chunk size -5": (chunked(b"-5", b"hello", b"0", b""), "chunk size", True),
    "chunk size  5": (chunked(b" 5", b"hello", b"0", b""), "chunk size", True),
    "chunk size empty": (chunked(b"", b"hello", b"0", b""), "chunk size", True),
    "chunk size 21 digits": (chunked(b"1" * 21, b"x", b"0", b""), "chunk size", True),
    "chunk ext not a token": (chunked(b"5;a b", b"hello", b"0", b""), "chunk size", False),
    "chunk ext open quote": (chunked(b'5;a="b', b"hello", b"0", b""), "chunk size", False),
    "chunk ext NUL": (chunked(b"5;a=\x00", b"hello", b"0", b""), "chunk size", False),
    # h11 bounds only what it must buffer: fed at once, it reads these (ours is bounded anyway)
    "chunk ext too long": (chunked(b"5;a=" + b"b" * 5000, b"hello", b"0", b""), "too long", False),
    "chunk without CRLF": (chunked(b"5", b"hello!", b"0", b""), "CRLF", True),
    "different Content-Lengths": (
        OK + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "conflicting Content-Length",
        True,
    ),
    "Content-Length list 5,6": (length(b"5, 6", b"hello!"), "conflicting Content-Length", True),
    "Content-Length +5": (length(b"+5"), "bad Content-Length", True),
    "Content-Length 0x5": (length(b"0x5"), "bad Content-Length", True),
    "Content-Length 1_0": (length(b"1_0"), "bad Content-Length", True),
    "Content-Length -1": (length(b"-1"), "bad Content-Length", True),
    "Content-Length superscript 2": (length(b"\xb2"), "bad Content-Length", True),
    "Content-Length 21 digits": (length(b"9" * 21), "bad Content-Length", True),
    "Content-Length on a 204 is still checked": (
        b"HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n",
        "bad Content-Length",
        True,
    ),
    "Transfer-Encoding with Content-Length": (
        OK + TE + b"Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "both",
        False,
    ),
    "Transfer-Encoding gzip, chunked": (coding(b"gzip, chunked"), "unsupported", True),
    "Transfer-Encoding chunked twice": (OK + TE + TE + b"\r\n0\r\n\r\n", "unsupported", True),
    "Transfer-Encoding identity": (coding(b"identity"), "unsupported", True),
    "Transfer-Encoding in HTTP/1.0": (b"HTTP/1.0 200 OK\r\n" + TE + b"\r\n0\r\n\r\n", "1.0", False),
    "whitespace before the colon": (
        OK + b"Content-Length : 2\r\n\r\n{}",
        "whitespace before the colon",
        True,
    ),
    "obs-fold": (OK + b"X-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\n{}", "obs-fold", False),
    "bare LF in the head": (OK + b"X-A: 1\nContent-Length: 2\r\n\r\n{}", "bare CR or LF", False),
    "NUL in a value": (OK + b"X-A: a\x00b\r\nContent-Length: 2\r\n\r\n{}", "control", True),
    "DEL in a value": (OK + b"X-A: a\x7fb\r\nContent-Length: 2\r\n\r\n{}", "control", False),
    "field without a colon": (OK + b"X-A\r\nContent-Length: 2\r\n\r\n{}", "without a colon", True),
    "empty field name": (OK + b": 1\r\nContent-Length: 2\r\n\r\n{}", "invalid field name", True),
    "status 99": (b"HTTP/1.1 99 X\r\nContent-Length: 0\r\n\r\n", "status line", True),
    "status 600": (b"HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n", "status line", False),
    "HTTP/2.0 status line": (b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", "status", False),
    "lower-case http": (b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "status line", True),
    "two spaces before the status": (b"HTTP/1.1  200 OK\r\n\r\n", "status line", True),
    "leading empty line": (b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "status", True),
    "101 without an upgrade": (b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n", "101", True),
    "bad field in a 100": (
        b"HTTP/1.1 100 Continue\r\nX-A : 1\r\n\r\n" + OK + b"Content-Length: 0\r\n\r\n",
        "whitespace before the colon",
        True,
    ),
    "bad trailer field": (chunked(b"0", b"X-T : 1", b""), "bad trailer field", True),
    "trailer too large": (
        chunked(b"0", *[b"X-T: " + b"t" * 1000] * 70, b""),
        "trailer section too large",
        False,
    ),
    "head too large": (OK + b"X-A: " + b"a" * 70000 + b"\r\n\r\n", "head too large", False),
}

# (answer, method, status, body): odd but well-formed, and both parsers read them alike
ACCEPTED = {
    "no reason phrase": (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}", "POST", 200, b"{}"),
    "Content-Length 5, 5": (OK + b"Content-Length: 5, 5\r\n\r\nhello", "POST", 200, b"hello"),
    "Content-Length twice, equal": (
        OK + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "POST",
        200,
        b"hello",
    ),
    "Content-Length 005": (OK + b"Content-Length: 005\r\n\r\nhello", "POST", 200, b"hello"),
    "Transfer-Encoding Chunked": (
        OK + b"Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST",
        200,
        b"hello",
    ),
    "chunk extensions": (
        chunked(b'5;a=b;c="d \\" e";f', b"hello", b"0;end", b""),
        "POST",
        200,
        b"hello",
    ),
    "upper-case hex and leading zeros": (
        chunked(b"00A", b"0123456789", b"0", b""),
        "POST",
        200,
        b"0123456789",
    ),
    "trailers are discarded": (chunked(b"2", b"{}", b"0", b"X-T: 1", b""), "POST", 200, b"{}"),
    "103 then the answer": (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK + b"Content-Length: 2\r\n\r\n{}",
        "POST",
        200,
        b"{}",
    ),
    "HEAD answer with a Content-Length": (OK + b"Content-Length: 1234\r\n\r\n", "HEAD", 200, b""),
    "304 with a Content-Length": (
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
        "GET",
        304,
        b"",
    ),
    "obs-text in a value": (
        OK + b"X-A: caf\xe9\r\nContent-Length: 2\r\n\r\n{}",
        "POST",
        200,
        b"{}",
    ),
    "HTAB around a value": (OK + b"X-A:\t1\t\r\nContent-Length: 2\r\n\r\n{}", "POST", 200, b"{}"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_refused_answers(name: str) -> None:
    answer, why, h11_refuses = REFUSED[name]
    verdict = ours([answer])
    assert not verdict.accepted and why in verdict.why
    # the same verdict whatever the reads' boundaries are
    assert ours([answer[i : i + 1] for i in range(len(answer))]) == verdict
    assert reference(answer).accepted is not h11_refuses  # where h11 differs: see http1_fuzz


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_answers(name: str) -> None:
    answer, method, status, body = ACCEPTED[name]
    verdict = ours([answer], method)
    assert verdict.accepted and (verdict.status, verdict.body) == (status, body)
    assert verdict.reusable  # a well-framed answer leaves the connection usable
    theirs = reference(answer, method)
    assert theirs.accepted and theirs.same_answer(verdict)


def test_refusals_do_not_quote_field_values() -> None:
    secret = b"session=s3cr3t-cookie"
    for line in [b"Set-Cookie : " + secret, b"Set-Cookie: \x01" + secret, b" " + secret]:
        verdict = ours([OK + line + b"\r\nContent-Length: 0\r\n\r\n"])
        assert not verdict.accepted and b"s3cr3t" not in verdict.why.encode()


# -- through a real socket ---------------------------------------------------------------


async def refusing_server(serve, answer: bytes) -> tuple[Server, asyncio.Event]:  # type: ignore[no-untyped-def]
    """Answers the first request with ``answer`` and then waits for the client to hang up;
    later connections get a good answer."""
    hung_up = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await server.request(reader)
        if n > 1:
            writer.write(JSON_ANSWER)
            await writer.drain()
            await server.request(reader)
            return
        writer.write(answer)
        await writer.drain()
        await reader.read()  # until the client closes: the refused connection is dropped
        hung_up.set()

    server = await serve(script)
    return server, hung_up


@pytest.mark.parametrize(
    "name", ["different Content-Lengths", "Transfer-Encoding with Content-Length", "obs-fold"]
)
async def test_a_refused_head_is_a_bad_response_and_its_connection_is_dropped(
    serve, name: str
) -> None:
    server, hung_up = await refusing_server(serve, REFUSED[name][0])
    pool = Pool(5)
    with pytest.raises(BadResponse) as info:
        await pool.request("POST", server.url, {}, b"{}")
    assert REFUSED[name][1] in str(info.value)
    await asyncio.wait_for(hung_up.wait(), 5)
    assert not pool._idle.get(next(iter(pool._targets.values())).key)
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 2  # a fresh connection, never the refused one
    await pool.close()


@pytest.mark.parametrize("size", [b"0x5", b"1_0", b"+5", b" 5"])
async def test_a_bad_chunk_size_mid_body_fails_the_body(serve, size: bytes) -> None:
    answer = chunked(b"2", b"{}", size, b"hello", b"0", b"")
    server, hung_up = await refusing_server(serve, answer)
    pool = Pool(5)
    resp = await pool.request("POST", server.url, {}, b"{}")
    assert resp.status == 200
    with pytest.raises(BadResponse, match="chunk size"):
        await resp.read()
    await asyncio.wait_for(hung_up.wait(), 5)
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 2
    await pool.close()


async def test_head_answer_and_304_leave_the_connection_reusable(serve) -> None:
    answers = [OK + b"Content-Length: 1234\r\n\r\n", ACCEPTED["304 with a Content-Length"][0]]

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        for answer in [*answers, JSON_ANSWER]:
            await server.request(reader)
            writer.write(answer)
            await writer.drain()

    server = await serve(script)
    pool = Pool(5)
    resp = await pool.request("HEAD", server.url, {})
    assert resp.status == 200 and resp.headers["content-length"] == "1234"
    assert await resp.read() == b""
    resp = await pool.request("GET", server.url, {})
    assert resp.status == 304 and await resp.read() == b""
    assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 1
    await pool.close()


async def test_http_1_2_is_read_as_1_1_and_kept_alive(serve) -> None:
    server = await start_fixed(serve, b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    pool = Pool(5)
    for _ in range(2):
        assert await (await pool.request("POST", server.url, {}, b"{}")).read() == b"{}"
    assert server.connections == 1
    await pool.close()


async def test_a_proxy_connect_answer_is_read_with_the_same_status_line_rule() -> None:
    tunnel = proxy._Tunnel()
    tunnel.data_received(b"HTTP/1.1 2000 Connection established\r\n\r\n")
    assert tunnel.answer.result()[0] == 0  # not a status: refused, not a 200
