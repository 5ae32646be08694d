"""The small pipelined Redis client of the limit path, against a real Redis: replies of
every type split at every byte, many callers on one connection, ACL users and
databases, unix sockets, and a hung server (SIGSTOP) failing calls on time."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import redis

from lynkr_cli.team.resp import (
    _INCOMPLETE,
    RespClient,
    RespConnectionError,
    RespError,
    pack,
    parse,
)
from tests.scale.services import Redis


def test_every_reply_type_parses_whatever_the_split() -> None:
    wire = b"*6\r\n:42\r\n$3\r\nabc\r\n$-1\r\n+OK\r\n*2\r\n:-1\r\n$0\r\n\r\n-ERR no\r\n"
    expected = [42, b"abc", None, b"OK", [-1, b""]]
    reply, end = parse(bytearray(wire), 0)
    assert reply[:5] == expected and isinstance(reply[5], RespError) and end == len(wire)
    for cut in range(len(wire)):
        partial, pos = parse(bytearray(wire[:cut]), 0)
        assert partial is _INCOMPLETE and pos == 0, cut
    assert (
        pack(("SET", "k", b"\x00\r\n", 5))
        == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\x00\r\n\r\n$1\r\n5\r\n"
    )


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
