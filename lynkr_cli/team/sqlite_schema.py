"""The team tables in the shared ``lynkr.db``, and the SQL text built from their columns.

The schema of :mod:`lynkr_cli.team.sqlite` (a migration per release, applied once
by ``db.migrate_component``); kept apart so the store module stays readable.
"""

from __future__ import annotations

from lynkr_cli import db

COMPONENT = "team"
MIGRATIONS: list[db.Migration] = [
    """
    CREATE TABLE team_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL,
        models TEXT NOT NULL DEFAULT '[]',
        tools TEXT NOT NULL DEFAULT 'never',
        limits TEXT NOT NULL DEFAULT '{}',
        note TEXT NOT NULL DEFAULT '',
        guard TEXT,
        previous_hash TEXT,
        previous_until REAL,
        last_used_at REAL
    );
    CREATE UNIQUE INDEX team_keys_live_name ON team_keys (name) WHERE revoked_at IS NULL;
    CREATE TABLE team_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO team_meta (name, value) VALUES ('keys_version', 0);
    CREATE TABLE team_usage (
        id INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        request_id TEXT NOT NULL,
        key_id TEXT NOT NULL DEFAULT '',
        key_name TEXT NOT NULL DEFAULT '',
        client_model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        upstream_model TEXT NOT NULL DEFAULT '',
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cost_nano INTEGER NOT NULL DEFAULT 0,
        status INTEGER NOT NULL DEFAULT 0,
        latency_ms REAL NOT NULL DEFAULT 0,
        ttfb_ms REAL,
        streamed INTEGER NOT NULL DEFAULT 0,
        cache_hit INTEGER NOT NULL DEFAULT 0,
        tool_rounds INTEGER NOT NULL DEFAULT 0,
        route TEXT NOT NULL DEFAULT '',
        guard_findings TEXT NOT NULL DEFAULT '{}',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX team_usage_ts ON team_usage (ts);
    CREATE INDEX team_usage_key_ts ON team_usage (key_id, ts);
    CREATE TABLE team_audit (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        event TEXT NOT NULL,
        request_id TEXT NOT NULL DEFAULT '',
        key_id TEXT NOT NULL DEFAULT '',
        key_name TEXT NOT NULL DEFAULT '',
        client_model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        upstream_model TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens INTEGER NOT NULL DEFAULT 0,
        cost_nano INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX team_audit_ts ON team_audit (ts);
    CREATE TABLE team_audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    """,
]
USAGE_COLUMNS = (
    "ts",
    "request_id",
    "key_id",
    "key_name",
    "client_model",
    "provider",
    "upstream_model",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_nano",
    "status",
    "latency_ms",
    "ttfb_ms",
    "streamed",
    "cache_hit",
    "tool_rounds",
    "route",
    "guard_findings",
    "error",
)
AUDIT_COLUMNS = (
    "seq",
    "ts",
    "event",
    "request_id",
    "key_id",
    "key_name",
    "client_model",
    "provider",
    "upstream_model",
    "status",
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_read_tokens",
    "cost_nano",
    "detail",
    "prev_hash",
    "hash",
)
INSERT_USAGE = f"INSERT INTO team_usage ({', '.join(USAGE_COLUMNS)}) VALUES "
INSERT_AUDIT = f"INSERT INTO team_audit ({', '.join(AUDIT_COLUMNS)}) VALUES "
GROUPS = {
    "key": "key_id",
    "model": "client_model",
    "upstream": "upstream_model",
    "provider": "provider",
    "day": "strftime('%Y-%m-%d', ts, 'unixepoch')",
}
TOTALS = (
    "COUNT(*), SUM(status >= 400), SUM(input_tokens), SUM(output_tokens), "
    "SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(cost_nano), MAX(key_name)"
)
