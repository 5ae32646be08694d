"""``lynkr doctor`` and ``lynkr config show`` say which backends are in use and whether
each is reachable, accepts lynkr's credentials and is at the right version; no password
ever appears in what they print."""

from __future__ import annotations

import json
from typing import Any

from tests.scale.services import Postgres, Redis, free_port


def _doctor(invoke: Any) -> dict[str, Any]:
    result = invoke("doctor", "--json")
    doc = json.loads(result.stdout)
    return {c["name"]: c for c in doc["checks"]}


def test_embedded_defaults(invoke: Any) -> None:
    checks = _doctor(invoke)
    assert checks["database"]["status"] == "ok" and "SQLite" in checks["database"]["summary"]
    assert checks["redis"]["status"] == "skip"
    assert "per instance" in checks["redis"]["summary"]
    shown = invoke("config", "show", "--json")
    backends = json.loads(shown.stdout)["backends"]
    assert backends["keys_usage_audit"]["backend"] == "sqlite"
    assert backends["rate_limits"]["backend"] == "memory"
    assert backends["prompt_cache"]["backend"] == "disk"


def test_both_backends_healthy(
    invoke: Any, monkeypatch: Any, pg: Postgres, migrated_url: str, redis_srv: Redis
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", migrated_url)
    monkeypatch.setenv("LYNKR_REDIS_URL", redis_srv.url())
    checks = _doctor(invoke)
    assert checks["database"]["status"] == "ok", checks["database"]
    assert "PostgreSQL 15" in checks["database"]["summary"]
    assert checks["database"]["details"]["schema_version"] == 1
    assert checks["redis"]["status"] == "ok", checks["redis"]
    assert "authenticated" in checks["redis"]["summary"]
    assert checks["team"]["status"] == "ok"
    human = invoke("config", "show")
    assert "backends.keys_usage_audit" in human.stdout and "postgresql" in human.stdout
    assert "backends.rate_limits" in human.stdout and "redis redis://:****@" in human.stdout
    outputs = invoke("doctor").stdout + human.stdout + invoke("config", "show", "--json").stdout
    assert pg.password not in outputs and redis_srv.password not in outputs


def test_each_failure_names_its_fix(
    invoke: Any, monkeypatch: Any, pg: Postgres, pg_url: str, redis_srv: Redis
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", pg_url)  # never migrated
    monkeypatch.setenv("LYNKR_REDIS_URL", redis_srv.url(password="wrong-redis-pass"))
    checks = _doctor(invoke)
    assert checks["database"]["status"] == "fail"
    assert "lynkr db migrate" in checks["database"]["fix"]
    assert checks["redis"]["status"] == "fail" and "refused" in checks["redis"]["summary"]
    bad_pg = pg_url.replace(pg.password, "wrong-pg-pass")
    monkeypatch.setenv("LYNKR_DATABASE_URL", bad_pg)
    monkeypatch.setenv("LYNKR_REDIS_URL", f"redis://:x@127.0.0.1:{free_port()}/0")
    checks = _doctor(invoke)
    assert checks["database"]["status"] == "fail" and "refused" in checks["database"]["summary"]
    assert checks["redis"]["status"] == "fail" and "cannot reach" in checks["redis"]["summary"]
    assert checks["team"]["status"] == "skip"
    text = json.dumps(checks)
    assert "wrong-pg-pass" not in text and "wrong-redis-pass" not in text
    monkeypatch.setenv("LYNKR_REDIS_URL", "http://nope")
    assert _doctor(invoke)["redis"]["status"] == "fail"
