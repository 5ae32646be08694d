"""PostgreSQL stopped mid-test under a running Team: usage and audit records wait in
memory up to the bound, spill to the local file past it, and all reach PostgreSQL when
it is started again (none lost, the audit chain whole); key checks keep working from
memory until the stale rule says the store has been gone too long."""

from __future__ import annotations

import pytest

from lynkr_cli import paths
from lynkr_cli.team import admin
from lynkr_cli.team.api import SPILL_NAME, Team, TeamUnavailable
from lynkr_cli.team.audit import verify
from lynkr_cli.team.postgres import PgStore
from lynkr_cli.team.store import UsageQuery
from tests.conftest import eventually
from tests.scale.conftest import scale_settings
from tests.scale.services import Postgres
from tests.team.conftest import issue, usage_record

pytestmark = pytest.mark.timeout(120)


def _usage_rows(url: str) -> int:
    totals = PgStore.connect(url).usage_totals(UsageQuery("provider"))
    return sum(t.requests for t in totals)


async def test_postgres_stopped_mid_test_loses_no_record(pg: Postgres, migrated_url: str) -> None:
    settings = scale_settings(migrated_url, key_cache_ttl=1.0, usage_flush_seconds=0.1)
    secret = issue(admin.open_store(settings), "alice")
    team = Team.open(settings)
    await team.start()
    team.recorder.max_pending = 30  # the bound, small enough to cross in a test
    spill = paths.state_dir() / SPILL_NAME
    key_id = team.authenticate(secret).key_id
    try:
        for n in range(10):
            team.record_usage(usage_record(n, key_id=key_id))
        assert await eventually(lambda: team.recorder.pending == 0, 30)
        assert _usage_rows(migrated_url) == 10

        pg.stop()
        for n in range(10, 35):  # 25: under the bound, they wait in memory
            team.record_usage(usage_record(n, key_id=key_id))
        assert await eventually(lambda: team.recorder._failing, 30)
        assert team.recorder.pending == 25 and not spill.exists()
        assert team.authenticate(secret).name == "alice"  # from memory, within the TTL
        for n in range(35, 55):  # past the bound: to the spill file
            team.record_usage(usage_record(n, key_id=key_id))
        # 45 requests (each a usage record and its audit entry) went to the file
        assert await eventually(lambda: team.recorder.spilled == 45, 30)
        assert spill.exists() and team.recorder.pending == 0
        # the key store has been unreadable for 3 x the key TTL: keys are refused, 503
        assert await eventually(lambda: _refused(team, secret), seconds=15)

        pg.start()
        assert await eventually(lambda: not spill.exists() and team.recorder.pending == 0, 40)
        assert _usage_rows(migrated_url) == 55
        assert await eventually(lambda: not _refused(team, secret), seconds=15)
    finally:
        await team.stop()
    store = PgStore.connect(migrated_url)
    verdict = verify(store.audit_chain(), store.audit_anchor())
    assert verdict.ok and verdict.rows == 1 + 55  # key.create, then one entry per request
    assert sorted(r["request_id"] for r in store.audit_chain() if r["event"] == "request") == (
        sorted(f"req_test_{n:06d}" for n in range(55))
    )


def _refused(team: Team, secret: str) -> bool:
    try:
        team.authenticate(secret)
    except TeamUnavailable:
        return True
    return False


async def test_records_queued_at_stop_while_postgres_is_down_are_written_by_the_next_start(
    pg: Postgres, migrated_url: str
) -> None:
    settings = scale_settings(migrated_url, usage_flush_seconds=0.1)
    team = Team.open(settings)
    await team.start()
    pg.stop()
    for n in range(7):
        team.record_usage(usage_record(n))
    await team.stop()  # retries briefly, then spills
    spill = paths.state_dir() / SPILL_NAME
    assert spill.exists()
    pg.start()
    again = Team.open(settings)
    await again.start()
    await again.stop()
    assert not spill.exists() and _usage_rows(migrated_url) == 7
