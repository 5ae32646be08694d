"""The small pipelined Redis client of the limit path, against a real Redis: replies of
every type split at every byte, many callers on one connection, ACL users and
databases, unix sockets, and a hung server (SIGSTOP) failing calls on time."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
import redis

from lynkr_cli.team.resp import (
    _INCOMPLETE,
    PyReader,
    RespClient,
    RespConnectionError,
    RespError,
    Script,
    bulk_int,
    pack,
    pack_args,
    parse,
    reader,
)
from tests.scale.services import Redis

WIRE = b"*6\r\n:42\r\n$3\r\nabc\r\n$-1\r\n+OK\r\n*2\r\n:-1\r\n$0\r\n\r\n-ERR no\r\n"
EXPECTED = [42, b"abc", None, b"OK", [-1, b""]]


def test_every_reply_type_parses_whatever_the_split() -> None:
    reply, end = parse(bytearray(WIRE), 0)
    assert reply[:5] == EXPECTED and isinstance(reply[5], RespError) and end == len(WIRE)
    for cut in range(len(WIRE)):
        partial, pos = parse(bytearray(WIRE[:cut]), 0)
        assert partial is _INCOMPLETE and pos == 0, cut
    assert (
        pack(("SET", "k", b"\x00\r\n", 5))
        == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\x00\r\n\r\n$1\r\n5\r\n"
    )
    assert bulk_int(-120) == pack_args([-120]) == b"$4\r\n-120\r\n"


@pytest.mark.parametrize("make", [reader, PyReader], ids=["hiredis", "python"])
def test_both_readers_give_the_same_replies_whatever_the_split(make: Any) -> None:
    if make is reader:
        pytest.importorskip("hiredis")  # the redis extra brings it; CI has it
        assert type(make()).__module__.startswith("hiredis")
    for cut in range(len(WIRE) + 1):
        parser = make()
        parser.feed(WIRE[:cut])
        if cut < len(WIRE):
            assert parser.gets() is False, cut
        parser.feed(WIRE[cut:] + b":0\r\n")  # and a second reply behind it: 0, not False
        reply = parser.gets()
        assert reply[:5] == EXPECTED and isinstance(reply[5], RespError), cut
        assert str(reply[5]) == "ERR no"
        second = parser.gets()
        assert second == 0 and second is not False and parser.gets() is False
    for junk in (b"HTTP/1.1 400 Bad Request\r\n", b":12x\r\n"):
        parser = make()
        parser.feed(junk)
        with pytest.raises(RespConnectionError):
            parser.gets()


async def test_a_server_that_does_not_speak_redis_fails_calls_and_nothing_hangs() -> None:
    """An HTTP server where Redis should be: the connection is dropped at the first
    reply and the call fails with a clear error (the limits then count per instance)."""

    async def http(reader_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader_.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        await reader_.read(100)
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RespClient(f"redis://127.0.0.1:{port}/0", timeout=2)
    try:
        for _ in range(2):
            with pytest.raises(RespConnectionError):
                await asyncio.wait_for(client.call("PING"), 10)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_one_send_per_event_loop_pass_and_scripts_survive_a_script_flush(
    redis_url: str,
) -> None:
    client = RespClient(redis_url)
    try:
        assert await client.call("PING") == b"PONG"
        proto = client._proto
        assert proto is not None
        before = proto.writes
        replies = await asyncio.gather(*(client.call("INCR", "n") for _ in range(200)))
        assert replies == list(range(1, 201))
        assert proto.writes == before + 1  # 200 commands, one send
        script = Script("return {tonumber(ARGV[1]) + 1, KEYS[1]}")
        assert await client.script(script, ["k"], [41]) == [42, b"k"]  # NOSCRIPT, then EVAL
        assert await client.call("SCRIPT", "EXISTS", script.sha) == [1]
        assert await client.run(script, 3, pack_args((1, "k", 1))) == [2, b"k"]
        await client.call("SCRIPT", "FLUSH")  # a restarted Redis forgets its scripts
        assert await client.run(script, 3, pack_args((1, "k", 9))) == [10, b"k"]
    finally:
        await client.aclose()


async def test_many_callers_share_one_pipelined_connection(redis_url: str) -> None:
    client = RespClient(redis_url)
    try:
        replies = await asyncio.gather(*(client.call("INCR", "n") for _ in range(300)))
        assert sorted(replies) == list(range(1, 301))
        assert replies == sorted(replies)  # answered in the order they were sent
        with pytest.raises(RespError, match=r"^WRONGTYPE"):
            await client.call("HGET", "n", "x")
        assert await client.call("GET", "n") == b"300"  # the connection survived the error
    finally:
        await client.aclose()


async def test_acl_users_databases_and_unix_sockets(redis_srv: Redis) -> None:
    admin = redis.Redis.from_url(redis_srv.url())
    admin.acl_setuser("lynkr", enabled=True, passwords=["+user-pass"], keys=["*"],
                      commands=["+@all"])  # fmt: skip
    try:
        client = RespClient(f"redis://lynkr:user-pass@127.0.0.1:{redis_srv.port}/3")
        await client.call("SET", "where", "db3")
        await client.aclose()
        assert redis.Redis.from_url(redis_srv.url(3)).get("where") == b"db3"
        wrong = RespClient(f"redis://lynkr:nope@127.0.0.1:{redis_srv.port}/0")
        with pytest.raises(RespError, match="WRONGPASS"):
            await wrong.call("PING")
        await wrong.aclose()
        local = RespClient(f"unix://:{redis_srv.password}@{redis_srv.socket}?db=3")
        assert await local.call("GET", "where") == b"db3"
        await local.aclose()
    finally:
        admin.acl_deluser("lynkr")
        admin.close()


async def test_a_hung_server_fails_calls_on_time_and_a_live_one_is_used_again(
    redis_srv: Redis, redis_url: str
) -> None:
    client = RespClient(redis_url, timeout=0.3)
    assert await client.call("PING") == b"PONG"
    assert redis_srv.proc is not None
    os.kill(redis_srv.proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(RespConnectionError):
            await asyncio.wait_for(client.call("PING"), 10)  # the watchdog, not wait_for
    finally:
        os.kill(redis_srv.proc.pid, signal.SIGCONT)
    assert await client.call("PING") == b"PONG"
    redis_srv.stop()
    with pytest.raises(RespConnectionError):
        await client.call("PING")
    redis_srv.start()
    assert await client.call("PING") == b"PONG"
    await client.aclose()
