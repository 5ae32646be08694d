"""The gateway fixtures of tests/serve, for the routing tests through a real gateway."""

from tests.serve.conftest import fake, gateway, proxy

__all__ = ["fake", "gateway", "proxy"]
