"""The gateway fixtures of tests/serve, for the fault tests here, tests/scale's real
Redis (one per session and worker, emptied for each test) and tests/team's store and
team."""

from tests.scale.conftest import redis_server, redis_srv, redis_url
from tests.serve.conftest import fake, gateway, proxy
from tests.team.conftest import clock, open_team, store

__all__ = [
    "clock",
    "fake",
    "gateway",
    "open_team",
    "proxy",
    "redis_server",
    "redis_srv",
    "redis_url",
    "store",
]
