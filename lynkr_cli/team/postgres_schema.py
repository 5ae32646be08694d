"""The team tables in PostgreSQL, and the SQL text of :mod:`lynkr_cli.team.postgres`.

The same tables and columns as the SQLite store (:mod:`lynkr_cli.team.sqlite_schema`),
with PostgreSQL's types: times are ``DOUBLE PRECISION`` epoch seconds, counts
``BIGINT``, the audit's hashed fields ``TEXT``/``BIGINT`` so a row reads back as the
exact values it was sealed with. Migrations are numbered like SQLite's and recorded
in ``lynkr_schema``; ``lynkr db migrate`` applies them under :data:`MIGRATE_LOCK`.
"""

from __future__ import annotations

from lynkr_cli.team.sqlite_schema import AUDIT_COLUMNS, USAGE_COLUMNS

COMPONENT = "team"
# Advisory lock ids (two int4 keys: lynkr's namespace, then what is locked).
LOCK_NAMESPACE = 0x6C796E6B  # "lynk"
MIGRATE_LOCK = 1
AUDIT_LOCK = 2

MIGRATIONS: list[str] = [
    """
    CREATE TABLE team_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION,
        revoked_at DOUBLE PRECISION,
        models TEXT NOT NULL DEFAULT '[]',
        tools TEXT NOT NULL DEFAULT 'never',
        limits TEXT NOT NULL DEFAULT '{}',
        note TEXT NOT NULL DEFAULT '',
        guard TEXT,
        previous_hash TEXT,
        previous_until DOUBLE PRECISION,
        last_used_at DOUBLE PRECISION
    );
    CREATE UNIQUE INDEX team_keys_live_name ON team_keys (name) WHERE revoked_at IS NULL;
    CREATE TABLE team_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
    INSERT INTO team_meta (name, value) VALUES ('keys_version', 0);
    CREATE TABLE team_usage (
        id BIGSERIAL PRIMARY KEY,
        ts DOUBLE PRECISION NOT NULL,
        request_id TEXT NOT NULL,
        key_id TEXT NOT NULL DEFAULT '',
        key_name TEXT NOT NULL DEFAULT '',
        client_model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        upstream_model TEXT NOT NULL DEFAULT '',
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cache_creation_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cost_nano BIGINT NOT NULL DEFAULT 0,
        status INTEGER NOT NULL DEFAULT 0,
        latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
        ttfb_ms DOUBLE PRECISION,
        streamed SMALLINT NOT NULL DEFAULT 0,
        cache_hit SMALLINT NOT NULL DEFAULT 0,
        tool_rounds INTEGER NOT NULL DEFAULT 0,
        route TEXT NOT NULL DEFAULT '',
        guard_findings TEXT NOT NULL DEFAULT '{}',
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX team_usage_ts ON team_usage (ts);
    CREATE INDEX team_usage_key_ts ON team_usage (key_id, ts);
    CREATE TABLE team_audit (
        seq BIGINT PRIMARY KEY,
        ts TEXT NOT NULL,
        event TEXT NOT NULL,
        request_id TEXT NOT NULL DEFAULT '',
        key_id TEXT NOT NULL DEFAULT '',
        key_name TEXT NOT NULL DEFAULT '',
        client_model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        upstream_model TEXT NOT NULL DEFAULT '',
        status BIGINT NOT NULL DEFAULT 0,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cache_creation_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cost_nano BIGINT NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX team_audit_ts ON team_audit (ts);
    CREATE TABLE team_audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    );
    """,
]
VERSION = len(MIGRATIONS)

SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS lynkr_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
INSERT_USAGE = (
    f"INSERT INTO team_usage ({', '.join(USAGE_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(USAGE_COLUMNS))})"
)
INSERT_AUDIT = (
    f"INSERT INTO team_audit ({', '.join(AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(AUDIT_COLUMNS))})"
)
SELECT_AUDIT = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM team_audit"
GROUPS = {
    "key": "key_id",
    "model": "client_model",
    "upstream": "upstream_model",
    "provider": "provider",
    "day": "to_char(to_timestamp(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
}
TOTALS = (
    "COUNT(*), COUNT(*) FILTER (WHERE status >= 400), SUM(input_tokens), SUM(output_tokens), "
    "SUM(cache_creation_tokens), SUM(cache_read_tokens), SUM(cost_nano), MAX(key_name)"
)
KEY_COLUMNS = (
    "id",
    "name",
    "prefix",
    "secret_hash",
    "created_at",
    "expires_at",
    "revoked_at",
    "models",
    "tools",
    "limits",
    "note",
    "guard",
    "previous_hash",
    "previous_until",
)
