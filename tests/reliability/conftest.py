"""The gateway fixtures of tests/serve, for the fault tests here, and tests/scale's real
Redis (one per session and worker, emptied for each test)."""

from tests.scale.conftest import redis_server, redis_srv, redis_url
from tests.serve.conftest import fake, gateway, proxy

__all__ = ["fake", "gateway", "proxy", "redis_server", "redis_srv", "redis_url"]
