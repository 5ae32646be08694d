"""Keeping web pages out: the checks every request passes before anything else.

The gateway listens on a developer's laptop, beside their code and keys. A page in
their browser can send it requests: a ``text/plain`` POST is a "simple" request that
goes cross-origin without a preflight, and with DNS rebinding (a name that first
resolves to the attacker, then to 127.0.0.1) the page can also read the answers.
Three checks close that, each answered with an Anthropic-shaped error saying why:

- **Host** (403): a loopback name or address, an IP address when the gateway listens
  beyond loopback, or a name listed in ``server.allowed_hosts`` (``LYNKR_ALLOWED_HOSTS``).
  A rebinding page always sends its own host name, so it never passes.
- **Origin** (403): requests that carry one (browsers add it to cross-origin requests)
  are refused unless it is listed in ``server.allowed_origins`` (``LYNKR_ALLOWED_ORIGINS``).
  A ``Sec-Fetch-Site`` of ``cross-site`` or ``same-site`` is refused the same way.
- **Content-Type** (415): bodies on the API routes must be ``application/json``; every
  content type a page can send without a preflight is refused.

Claude Code, the SDKs and curl send none of what is refused here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lynkr_cli.serve.errors import ApiError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
JSON_TYPES = frozenset({"application/json"})
_CROSS = frozenset({"cross-site", "same-site"})


def split_host(value: str) -> str:
    """The host part of a ``Host`` header (``[::1]:8080`` → ``::1``), lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    ip = ip_of(host)
    return ip is not None and ip.is_loopback


@dataclass(frozen=True)
class BrowserGuard:
    """The three checks, with the settings they need decided once at start-up."""

    allowed_hosts: frozenset[str]
    wildcard_suffixes: tuple[str, ...]
    any_host: bool
    any_ip: bool  # listening beyond loopback: an IP-literal Host cannot be a rebinding page
    allowed_origins: frozenset[str]

    @classmethod
    def create(cls, hosts: Iterable[str], origins: Iterable[str], bind: str) -> BrowserGuard:
        names = {split_host(h) for h in hosts if h.strip()}
        suffixes = tuple(sorted(n[1:] for n in names if n.startswith("*.")))
        bind_host = split_host(bind)
        return cls(
            allowed_hosts=frozenset(n for n in names if not n.startswith("*")),
            wildcard_suffixes=suffixes,
            any_host="*" in names,
            any_ip=not is_loopback_host(bind_host),
            allowed_origins=frozenset(o.strip().rstrip("/").lower() for o in origins if o),
        )

    def host_allowed(self, value: str | None) -> bool:
        if value is None or self.any_host:
            return True  # HTTP/1.0 without Host: no browser sends that
        known = _HOSTS.get((self, value))
        if known is None:
            known = self._host_allowed(value)
            if len(_HOSTS) > 1024:  # clients send few Host values; bound it anyway
                _HOSTS.clear()
            _HOSTS[(self, value)] = known
        return known

    def _host_allowed(self, value: str) -> bool:
        host = split_host(value)
        if host in self.allowed_hosts or is_loopback_host(host):
            return True
        if self.wildcard_suffixes and host.endswith(self.wildcard_suffixes):
            return True
        return self.any_ip and ip_of(host) is not None

    def origin_allowed(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.rstrip("/").lower() in self.allowed_origins

    def check(self, headers: Mapping[str, str], *, body_route: bool) -> str | None:
        """The allowed Origin to echo for CORS, or None; raises ApiError on a refusal."""
        host = headers.get("host")
        if not self.host_allowed(host):
            raise ApiError(
                403,
                f"refused: the Host header {host!r} is not this gateway's name. lynkr answers "
                "only loopback names and addresses, so that a web page cannot reach it through "
                "DNS rebinding; add the name to LYNKR_ALLOWED_HOSTS (server.allowed_hosts) "
                "if clients reach lynkr by it.",
                error_type="permission_error",
                retry=False,
            )
        origin = headers.get("origin")
        if origin is not None:
            if not self.origin_allowed(origin):
                raise ApiError(
                    403,
                    f"refused: a request from the web page origin {origin!r}. Browsers must "
                    "not drive the gateway; list the origin in LYNKR_ALLOWED_ORIGINS "
                    "(server.allowed_origins) to allow a web client you trust.",
                    error_type="permission_error",
                    retry=False,
                )
        elif headers.get("sec-fetch-site") in _CROSS:
            raise ApiError(
                403,
                "refused: a cross-site request from a web browser (Sec-Fetch-Site). "
                "Browsers must not drive the gateway.",
                error_type="permission_error",
                retry=False,
            )
        if body_route:
            check_content_type(headers.get("content-type"))
        return origin


_HOSTS: dict[tuple[BrowserGuard, str], bool] = {}  # verdicts by (guard, Host header)


def check_content_type(value: str | None) -> None:
    """415 unless the body is declared ``application/json``."""
    media = (value or "").partition(";")[0].strip().lower()
    if media in JSON_TYPES:
        return
    shown = repr(value) if value else "none"
    raise ApiError(
        415,
        f"unsupported Content-Type {shown}: send the body as JSON with "
        "'Content-Type: application/json'.",
        error_type="invalid_request_error",
        retry=False,
    )
