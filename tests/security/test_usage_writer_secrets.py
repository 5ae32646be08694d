"""The usage writer process: the store URL (a PostgreSQL password), the gateway's keys and
the secrets to mask reach it through its pipe, never its command line or environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr_cli import paths
from lynkr_cli.team.sqlite import SqliteStore
from lynkr_cli.team.writer import ProcessWriter, WriterSpec
from tests.conftest import process_gone

pytestmark = pytest.mark.timeout(60)


async def test_the_childs_command_line_and_environment_hold_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = SqliteStore(paths.app_db_path())
    known = "pw-" + "s" * 20
    gateway_key, upstream_key = "lk-admin-" + "a" * 24, "sk-ant-" + "u" * 30
    database_url = "postgresql://lynkr:" + "p" * 20 + "@db.example:5432/lynkr"
    monkeypatch.setenv("LYNKR_API_KEY", gateway_key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", upstream_key)
    monkeypatch.setenv("LYNKR_DATABASE_URL", database_url)
    monkeypatch.setenv("PGSSLMODE", "prefer")  # what libpq reads must still reach it
    writer = ProcessWriter(WriterSpec("sqlite", str(store.path), "metadata", 1024, (known,)))
    await writer.write([])  # starts the child
    pid = writer.pid
    assert pid is not None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert cmdline.split(b"\0")[1:3] == [b"-m", b"lynkr_cli.team.writer"]
        assert str(store.path).encode() not in cmdline
        for secret in (known, gateway_key, upstream_key, database_url):
            assert secret.encode() not in cmdline + environ, secret[:6]
        assert b"PGSSLMODE=prefer" in environ.split(b"\0")
    finally:
        await writer.close()
    assert process_gone(pid)
