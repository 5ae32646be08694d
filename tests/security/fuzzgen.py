"""A seeded generator of malformed requests for the gateway, as raw HTTP bytes.

Each case is ``(category, bytes)``. Categories: bad JSON, a wrong type in every field,
huge values, deep nesting, invalid UTF-8, bad content encodings, bad headers, path
tricks, hostile query strings, and well-formed requests mixed in (so the fuzzer also
proves the gateway still answers). The same seed gives the same cases, byte for byte.
"""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections.abc import Iterator
from typing import Any

VALID: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "system": [{"type": "text", "text": "You are terse."}],
    "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "calling"},
            {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"path": "a"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "file body"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "and?"}]},
    ],
    "tools": [{"name": "Read", "description": "read a file",
               "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}],
    "tool_choice": {"type": "auto"},
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 5,
    "stop_sequences": ["\n\nHuman:"],
    "metadata": {"user_id": "u"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}  # fmt: skip

WRONG: list[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63), 1.5, -0.0, 1e308, "", "x", "😀" * 3,
    [], [None], [1, "a"], {}, {"type": None}, {"type": 5}, {"a": {"b": []}},
]  # fmt: skip
PATHS = [
    "/v1/messages", "/v1/messages?beta=true", "/v1/messages/count_tokens", "/v1/models",
    "/v1/messages/../messages", "//v1/messages", "/v1/messages%00", "/V1/MESSAGES",
    "/v1/messages%2fcount_tokens", "/v1/messages?beta=%ff%fe", "/v1/./messages",
    "/v1/models?limit=abc", "/v1/models?limit=99999999999999999999", "/v1/models?limit=-5",
    "/v1/models?after_id=%00&before_id=x", "/" + "a" * 5000, "/%", "/%zz", "/v1/messages#frag",
    "/api/event_logging/batch", "/health/ready?deep=yes", "/metrics?x=1", "*",
    "http://evil.example/v1/messages",
]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every location inside a JSON document."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


LOCATIONS = [p for p in _paths(VALID) if p]


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _deep(depth: int, rng: random.Random) -> str:
    opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    return opener * depth + "1" + closer * depth


def _request(
    path: str, body: bytes, *, ctype: str | None = "application/json", extra: bytes = b""
) -> bytes:
    method = b"POST" if body or "messages" in path or "event_logging" in path else b"GET"
    head = method + b" " + path.encode("latin-1", "replace") + b" HTTP/1.1\r\n"
    head += b"Host: 127.0.0.1\r\nConnection: close\r\n"
    if ctype is not None:
        head += b"Content-Type: " + ctype.encode() + b"\r\n"
    head += extra
    if b"content-length" not in extra.lower() and b"transfer-encoding" not in extra.lower():
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def cases(count: int, seed: int = 1234) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    generators = (
        ("bad json", _bad_json),
        ("wrong type", _wrong_type),
        ("huge value", _huge),
        ("deep nesting", _nesting),
        ("invalid utf-8", _bad_utf8),
        ("bad encoding", _bad_encoding),
        ("bad header", _bad_header),
        ("path trick", _path_trick),
        ("valid", _valid),
    )
    for i in range(count):
        name, make = generators[i % len(generators)]
        yield name, make(rng)


def _bad_json(rng: random.Random) -> bytes:
    raw = bytearray(_json(VALID))
    kind = rng.randrange(4)
    if kind == 0:
        raw = raw[: rng.randrange(len(raw))]
    elif kind == 1:
        for _ in range(rng.randint(1, 5)):
            raw[rng.randrange(len(raw))] = rng.choice(b'{}[]",:\\ \x00\x7fab0')
    elif kind == 2:
        raw = bytearray(rng.randbytes(rng.randint(0, 300)))
    else:
        raw = bytearray(rng.choice([b"NaN", b"[1,2", b'{"model":}', b"{}{}", b'"str"', b"null"]))
    return _request(rng.choice(PATHS[:3]), bytes(raw))


def _wrong_type(rng: random.Random) -> bytes:
    doc = _set(VALID, rng.choice(LOCATIONS), rng.choice(WRONG))
    if rng.random() < 0.3:
        doc = _set(doc, rng.choice([p for p in _paths(doc) if p]), rng.choice(WRONG))
    if rng.random() < 0.3:
        doc["stream"] = True
    return _request(rng.choice(PATHS[:3]), _json(doc))


def _huge(rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        doc = {**VALID, "max_tokens": rng.choice([10**30, 2**64, -(10**20), 0])}
        return _request("/v1/messages", _json(doc))
    if kind == 1:
        doc = {**VALID, "messages": [{"role": "user", "content": "x" * rng.randint(10**5, 10**6)}]}
        return _request("/v1/messages/count_tokens", _json(doc))
    if kind == 2:
        doc = {**VALID, "messages": [{"role": "user", "content": "hi"}] * rng.randint(1000, 5000)}
        return _request("/v1/messages/count_tokens", _json(doc))
    if kind == 3:
        return _request("/v1/messages", b'{"model":"m","max_tokens":1e400,"messages":[]}')
    doc = {**VALID, "stop_sequences": ["s"] * rng.randint(100, 3000), "stream": True}
    return _request("/v1/messages", _json(doc))


def _nesting(rng: random.Random) -> bytes:
    depth = rng.choice([100, 253, 254, 255, 600, 1023, 1024, 1500])
    where = rng.choice(["system", "content", "input", "top"])
    text = _deep(depth, rng)
    if where == "top":
        raw = text.encode()
    else:
        body = _json(VALID).decode()
        marker = {"system": '"You are terse."', "content": '"hi"', "input": '{"path": "a"}'}
        raw = body.replace(marker[where], text, 1).encode()
    return _request(rng.choice(PATHS[:3]), raw)


def _bad_utf8(rng: random.Random) -> bytes:
    raw = _json(VALID)
    junk = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    raw = raw.replace(b'"hi"', b'"h' + junk + b'i"', 1)
    if rng.random() < 0.3:
        raw = raw.replace(b'"\\n\\nHuman:"', b'"\\ud800"', 1)  # a lone surrogate escape
    return _request("/v1/messages", raw)


def _bad_encoding(rng: random.Random) -> bytes:
    body = _json(VALID)
    kind = rng.randrange(6)
    if kind == 0:
        return _request("/v1/messages", rng.randbytes(50), extra=b"Content-Encoding: gzip\r\n")
    if kind == 1:
        return _request(
            "/v1/messages", gzip.compress(body)[:-8], extra=b"Content-Encoding: gzip\r\n"
        )
    if kind == 2:
        return _request("/v1/messages", zlib.compress(body), extra=b"Content-Encoding: gzip\r\n")
    if kind == 3:
        return _request("/v1/messages", body, extra=b"Content-Encoding: br\r\n")
    if kind == 4:
        return _request(
            "/v1/messages", gzip.compress(body), extra=b"Content-Encoding: gzip, gzip\r\n"
        )
    ctype = rng.choice(["application/json; charset=utf-16", "text/json", "application/json;;",
                        "application/jsonx", "", "*/*"])  # fmt: skip
    return _request("/v1/messages", body, ctype=ctype)


def _bad_header(rng: random.Random) -> bytes:
    body = _json(VALID)
    extra = rng.choice([
        b"Content-Length: 10\r\nContent-Length: 20\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked, gzip\r\n",
        b"X-Api-Key: \xff\xfe\r\n",
        b"Authorization: Bearer \x00\r\n",
        b"Anthropic-Beta: " + b"x," * 2000 + b"\r\n",
        b"X-Bad Header: y\r\n",
        b"X-Long: " + b"a" * 20000 + b"\r\n",
        b"Host: evil.example\r\n",
        b"Origin: https://evil.example\r\n",
        b"Cache-Control: no-cache\r\n",
        b"Expect: 100-continue\r\n",
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n",
    ])  # fmt: skip
    if extra.startswith(b"Transfer-Encoding: chunked"):
        body = b"%x\r\n" % len(body) + body + b"\r\n" + rng.choice([b"0\r\n\r\n", b"zz\r\n", b""])
    return _request("/v1/messages", body, extra=extra)


def _path_trick(rng: random.Random) -> bytes:
    path = rng.choice(PATHS)
    body = _json(VALID) if rng.random() < 0.7 else b""
    return _request(path, body)


def _valid(rng: random.Random) -> bytes:
    doc = {**VALID, "stream": rng.random() < 0.5}
    doc["messages"] = [{"role": "user", "content": f"case {rng.randrange(10**9)}"}]
    return _request(rng.choice(["/v1/messages", "/v1/messages?beta=true"]), _json(doc))


# --------------------------------------------------------------------------- the runner


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        line, _, rest = body.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


def verdict(answer: bytes) -> str | None:
    """What is wrong with one answer, or None when it is well-formed."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return f"no complete answer: {answer[:120]!r}"
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split(b" ")[1])
    except (IndexError, ValueError):
        return f"bad status line {lines[0][:80]!r}"
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
    if headers.get(b"transfer-encoding") == b"chunked":
        body = _dechunk(body)
    if status >= 500:
        return f"{status}: {body[:200]!r}"
    ctype = headers.get(b"content-type", b"")
    if status == 200 and ctype.startswith(b"text/event-stream"):
        for frame in body.split(b"\n\n"):
            data = [ln[5:] for ln in frame.split(b"\n") if ln.startswith(b"data:")]
            if data:
                json.loads(b"\n".join(data))
        return None
    if status in (204, 304) or (status == 200 and ctype.startswith(b"text/plain")):
        return None  # /metrics, a preflight
    try:
        doc = json.loads(body)
    except ValueError:
        return f"{status} non-JSON body {body[:120]!r}"
    if status >= 400 and not (
        isinstance(doc, dict) and doc.get("type") == "error" and doc["error"].get("message")
    ):
        return f"{status} not an Anthropic error: {body[:200]!r}"
    return None


async def send(url: str, data: bytes, timeout: float = 30.0) -> bytes:
    import asyncio

    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionError:
        return b""  # the gateway may close at once on a refused head: reported by verdict()
    except TimeoutError:
        return b"TIMEOUT"
    finally:
        writer.close()


async def run(url: str, count: int, *, seed: int, concurrency: int = 16) -> dict[str, Any]:
    """Send ``count`` cases; return the tally and the problems found."""
    import asyncio
    from collections import Counter

    todo = list(cases(count, seed))
    problems: list[str] = []
    statuses: Counter[str] = Counter()
    lock = asyncio.Semaphore(concurrency)

    async def one(category: str, data: bytes) -> None:
        async with lock:
            answer = await send(url, data)
        problem = verdict(answer) if answer else None
        if answer == b"TIMEOUT":
            problem = "no answer within the time limit"
        if problem is not None:
            head = data[data.find(b"close\r\n") + 7 :][:100]
            problems.append(f"{category}: {problem} <- {head!r}")
        statuses[answer[9:12].decode("latin-1") if answer else "closed"] += 1

    await asyncio.gather(*(one(c, d) for c, d in todo))
    return {"count": count, "problems": problems, "statuses": dict(statuses)}
