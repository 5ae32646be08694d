"""The gateway fixtures of tests/serve, for the fault tests here."""

from tests.serve.conftest import fake, gateway, proxy

__all__ = ["fake", "gateway", "proxy"]
