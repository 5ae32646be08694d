"""The team gateway's fast paths keep every guarantee of the slow ones they replaced.

The in-memory limit store is called without a coroutine (a subclass still is awaited);
a refused request charges nothing and reports the counters as found; audit rows sealed
straight into tuples hash exactly as :func:`seal` does; a batch larger than one
multi-row INSERT is written whole, in order, on an intact chain; and a usage record
built positionally on the request path holds each field where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from lynkr_cli.team import sqlite as sqlite_mod
from lynkr_cli.team.api import Team
from lynkr_cli.team.audit import ENTRY_FIELDS, GENESIS, seal, sealed_values, verify
from lynkr_cli.team.limits import MemoryLimitStore
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.sqlite_schema import AUDIT_COLUMNS
from lynkr_cli.team.store import AuditEntry, Check, Decision
from lynkr_cli.team.types import Limits, RateLimited, Usage
from tests.serve.conftest import FAMILIES, provider_settings
from tests.team.conftest import Clock, issue, make_settings, usage_record
from tests.team.test_gateway_keys import issue as issue_cli
from tests.team.test_gateway_keys import post, until_flushed

SONNET = "claude-sonnet-4-5"


async def test_a_refused_request_charges_nothing_and_reports_the_counters_as_found(
    store: SqliteStore, open_team: Callable[..., Team]
) -> None:
    key = issue(store, "alice", limits=Limits(rpm=10, tpm=1000))
    team = open_team()
    alice = team.authenticate(key)
    first = await team.admit(alice, SONNET, 900)
    assert first.values == (1, 900)
    with pytest.raises(RateLimited) as info:
        await team.admit(alice, SONNET, 200)  # the request counter passes, tokens do not
    assert info.value.limit == "tpm"
    assert info.value.headers["anthropic-ratelimit-requests-remaining"] == "9"
    assert info.value.headers["anthropic-ratelimit-tokens-remaining"] == "100"
    after = await team.admit(alice, SONNET, 50)  # the refusal charged neither counter
    assert after.values == (2, 950)


class SlowStore(MemoryLimitStore):
    """A limit store whose calls really wait (as Redis does): it must be awaited."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def acquire(self, key_id: str, checks: Sequence[Check]) -> Decision:
        self.calls.append("acquire")
        return await super().acquire(key_id, checks)

    async def add(self, key_id: str, changes: Sequence[tuple[str, float, float, int]]) -> None:
        self.calls.append("add")
        await super().add(key_id, changes)


async def test_a_limit_store_other_than_the_in_memory_one_is_awaited(
    store: SqliteStore, clock: Clock
) -> None:
    key = issue(store, "alice", limits=Limits(tpm=10_000))
    slow = SlowStore()
    team = Team(make_settings(), store, limit_store=slow, clock=clock)
    alice = team.authenticate(key)
    admission = await team.admit(alice, SONNET, 100)
    assert await team.settle(admission, Usage(input_tokens=300, output_tokens=20)) > 0
    assert slow.calls == ["acquire", "add"]
    again = await team.admit(alice, SONNET, 0)
    assert again.values == (320,)  # the estimate was replaced by the real usage


def test_sealed_values_are_seal_in_the_stores_column_order() -> None:
    assert ("seq", *ENTRY_FIELDS, "prev_hash", "hash") == AUDIT_COLUMNS
    entry = AuditEntry(
        "2026-12-06T10:31:47.123456Z",
        "request",
        request_id="req_1",
        key_id="k-1",
        key_name="alice",
        client_model=SONNET,
        status=200,
        input_tokens=12,
        cost_nano=34,
        detail='{"error":"é"}',
    )
    row = seal(entry, 7, GENESIS)
    values = sealed_values(entry, 7, GENESIS)
    assert values == tuple(row[column] for column in AUDIT_COLUMNS)
    assert verify([row], (6, GENESIS)).ok


def test_a_batch_larger_than_one_insert_is_written_whole_in_order_and_chained(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_mod, "MAX_ROWS_PER_INSERT", 7)  # 23 rows: 7 + 7 + 7 + 2
    usage = [usage_record(n, "k-1", error="x" * (n % 3)) for n in range(23)]
    audit = [
        AuditEntry(f"2026-12-06T10:31:47.{n:06d}Z", "request", request_id=u.request_id)
        for n, u in enumerate(usage)
    ]
    store.write_batch(usage, audit)
    store.write_batch(usage[:1], audit[:1])  # the next batch links to the last row
    conn = store._conn()
    rows = conn.execute("SELECT request_id, input_tokens, error FROM team_usage ORDER BY id")
    expected = [(u.request_id, u.input_tokens, u.error) for u in [*usage, usage[0]]]
    assert [tuple(row) for row in rows] == expected
    ids = [r[0] for r in conn.execute("SELECT request_id FROM team_audit ORDER BY seq")]
    assert ids == [a.request_id for a in [*audit, audit[0]]]
    verdict = verify(store.audit_chain(), store.audit_anchor())
    assert verdict.ok and verdict.rows == 24


async def _alice(invoke: Any, gateway: Any, fake: Any, *limits: str) -> tuple[Any, Any, str]:
    """A gateway in front of a fake Anthropic upstream, and alice's key with ``limits``:
    (gateway, upstream, key)."""
    upstream = await fake(**FAMILIES["anthropic"])
    key = issue_cli(invoke, "alice", *limits)
    return await gateway(**provider_settings("anthropic", upstream)), upstream, key


async def test_the_usage_record_holds_each_field_where_it_belongs(
    invoke: Any, gateway: Any, fake: Any
) -> None:
    gw, _, key = await _alice(invoke, gateway, fake, "--rpm", "100")
    resp = await post(gw.url, key)
    assert resp.status_code == 200
    assert resp.headers["anthropic-ratelimit-requests-remaining"] == "99"
    (row,) = await until_flushed(gw, 1)
    assert row["request_id"] == resp.headers["request-id"]
    assert (row["key_name"], row["client_model"], row["provider"]) == ("alice", SONNET, "anthropic")
    assert (row["input_tokens"], row["output_tokens"], row["status"]) == (11, 5, 200)
    assert row["latency_ms"] >= row["ttfb_ms"] > 0
    assert (row["streamed"], row["cache_hit"], row["tool_rounds"]) == (0, 0, 0)
    assert (row["route"], row["guard_findings"], row["error"]) == ("", "{}", "")
    assert row["cost_nano"] > 0


RATE = ("limit", "remaining", "reset")


@pytest.mark.parametrize("lines", [True, False], ids=["as-lines", "through-the-map"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_every_answer_carries_each_rate_header_once(
    invoke: Any,
    gateway: Any,
    fake: Any,
    monkeypatch: pytest.MonkeyPatch,
    lines: bool,
    stream: bool,
) -> None:
    """The rate-limit headers are written as pre-rendered lines where aiohttp allows it,
    through its header map otherwise: the client sees the same headers, once each, on a
    JSON answer, an event stream and an error after the admission."""
    from lynkr_cli.serve import respond

    monkeypatch.setattr(respond, "_LINES_OK", lines and respond._LINES_OK)
    gw, upstream, key = await _alice(invoke, gateway, fake, "--rpm", "100", "--tpm", "100000")
    body = {"model": SONNET, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    for n in range(2):
        resp = await post(gw.url, key, {**body, "stream": stream})
        assert resp.status_code == 200, resp.text
        if stream:
            assert resp.text.startswith("event: message_start")
        else:
            assert resp.json()["content"][0]["text"]
        for kind in ("requests", "tokens"):
            for part in RATE:
                assert len(resp.headers.get_list(f"anthropic-ratelimit-{kind}-{part}")) == 1
        assert resp.headers["anthropic-ratelimit-requests-remaining"] == str(99 - n)
        assert resp.headers["anthropic-ratelimit-tokens-limit"] == "100000"
        assert resp.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
        assert resp.headers["request-id"] and resp.headers["content-type"]
    await upstream.stop()  # the upstream is gone: a 5xx after the admission
    resp = await post(gw.url, key, {**body, "stream": stream})
    assert resp.status_code >= 500 and resp.json()["type"] == "error"
    assert resp.headers.get_list("anthropic-ratelimit-requests-remaining") == ["97"]


async def test_the_openai_route_carries_both_sets_of_rate_headers(
    invoke: Any, gateway: Any, fake: Any
) -> None:
    gw, _, key = await _alice(invoke, gateway, fake, "--rpm", "100")
    body = {"model": SONNET, "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
    import httpx

    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post(
            "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
        )
    assert resp.status_code == 200, resp.text
    assert resp.headers.get_list("anthropic-ratelimit-requests-remaining") == ["99"]
    assert resp.headers.get_list("x-ratelimit-remaining-requests") == ["99"]
