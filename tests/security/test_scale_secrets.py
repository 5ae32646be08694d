"""The shared backends' passwords (``LYNKR_DATABASE_URL``, ``LYNKR_REDIS_URL`` and its old
name ``LYNKR_CACHE_URL``) never appear in what lynkr prints, even when the servers
cannot be reached and the drivers' errors are reported. (With real servers and a
running gateway: tests/scale/test_scale_secrets.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lynkr_cli.dsn import scrub, shown_url

PG_PASS = "pg-canary-s3cr3t"
REDIS_PASS = "redis-canary-s3cr3t"


@pytest.mark.parametrize("redis_name", ["LYNKR_REDIS_URL", "LYNKR_CACHE_URL"])
def test_config_show_doctor_and_db_status_never_print_a_backend_password(
    invoke: Any, monkeypatch: Any, redis_name: str
) -> None:
    monkeypatch.setenv("LYNKR_DATABASE_URL", f"postgresql://lynkr:{PG_PASS}@127.0.0.1:9/lynkr")
    monkeypatch.setenv(redis_name, f"redis://:{REDIS_PASS}@127.0.0.1:9/0")
    outputs = [
        invoke("config", "show"),
        invoke("config", "show", "--json"),
        invoke("doctor", "--json"),
        invoke("doctor"),
        invoke("db", "status"),
        invoke("db", "migrate", "--json"),
        invoke("keys", "list"),
        invoke("cache", "stats", "--json"),
    ]
    backends = json.loads(outputs[1].stdout)["backends"]
    assert backends["rate_limits"]["url"] == "redis://:****@127.0.0.1:9/0"
    assert outputs[4].exit_code == 4  # unreachable: exit 4, with the URL shown masked
    assert outputs[7].exit_code == 4 and "redis://:****@127.0.0.1:9/0" in outputs[7].stderr
    for result in outputs:
        text = result.stdout + result.stderr
        assert PG_PASS not in text and REDIS_PASS not in text, text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h:5432/db", "postgresql://u:****@h:5432/db"),
        ("postgresql://h/db?user=u&password=secret&sslmode=verify-full",
         "postgresql://h/db?user=u&password=****&sslmode=verify-full"),
        ("rediss://user:pw@h:6380/1", "rediss://user:****@h:6380/1"),
        ("unix://:pw@/run/redis.sock?db=2", "unix://:****@/run/redis.sock?db=2"),
        ("redis://h:6379", "redis://h:6379"),
    ],
)  # fmt: skip
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown
    message = f"failed for {url}: password p@ss / secret / pw rejected"
    scrubbed = scrub(message, url)
    assert shown in scrubbed and (url == shown or url not in scrubbed)


def test_a_driver_error_echoing_the_password_is_scrubbed() -> None:
    url = "postgresql://lynkr:hunter2hunter2@db:5432/lynkr"
    assert "hunter2" not in scrub('FATAL: password "hunter2hunter2" is wrong', url)
