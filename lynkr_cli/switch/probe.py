"""Is an endpoint there, and how fast: DNS, TLS, HTTP status, time to first byte.

Shared by ``lynkr switch test`` and ``lynkr doctor``. Every step has a short
timeout; the 1-token ``/v1/messages`` probe is the only call that can cost money.
"""

from __future__ import annotations

import concurrent.futures
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lynkr_cli.switch.profiles import Profile

ANTHROPIC_VERSION = "2023-06-01"
PROBE_MODEL = "claude-haiku-4-5"  # cheapest current model when a profile names none


@dataclass
class ProbeResult:
    url: str
    ok: bool = False
    dns_ms: float | None = None
    addresses: list[str] = field(default_factory=list)
    tls: bool | None = None
    status: int | None = None
    ttfb_ms: float | None = None
    error: str | None = None
    stage: str = ""  # where it failed: dns | connect | tls | timeout | http
    body: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "body" or v}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def resolve(host: str, port: int, timeout: float) -> tuple[list[str], float]:
    """getaddrinfo has no timeout of its own; bound it with a worker thread."""
    start = time.perf_counter()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        infos = future.result(timeout=timeout)
    finally:
        pool.shutdown(wait=False)
    return sorted({str(info[4][0]) for info in infos}), _ms(start)


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    timeout: float = 5.0,
) -> ProbeResult:
    """One request, timed to the response headers; any status counts as reachable."""
    import httpx

    result = ProbeResult(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        result.error, result.stage = f"not an http(s) URL: {url!r}", "url"
        return result
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        result.addresses, result.dns_ms = resolve(parts.hostname, port, timeout)
    except (OSError, concurrent.futures.TimeoutError) as exc:
        result.error, result.stage = f"DNS lookup of {parts.hostname} failed: {exc}", "dns"
        return result
    limits = httpx.Timeout(timeout, connect=timeout)
    start = time.perf_counter()
    try:
        with (
            httpx.Client(timeout=limits, trust_env=False) as client,
            client.stream(method, url, headers=headers, json=json_body) as response,
        ):
            result.ttfb_ms = _ms(start)
            result.status = response.status_code
            result.body = response.read()[:2000].decode("utf-8", "replace")
    except httpx.TimeoutException as exc:
        result.error, result.stage = (
            f"timed out after {timeout:g}s ({type(exc).__name__})",
            "timeout",
        )
        return result
    except httpx.HTTPError as exc:
        if _tls_failure(exc):
            result.tls = False
            result.error, result.stage = f"TLS handshake failed: {exc}", "tls"
        else:
            result.error, result.stage = f"cannot connect: {exc}", "connect"
        return result
    result.tls = True if parts.scheme == "https" else None
    result.ok = True
    return result


def reach(base_url: str, timeout: float = 5.0) -> ProbeResult:
    """Reachability of a base URL: any HTTP answer means the host is there."""
    return request(base_url, timeout=timeout)


def auth_headers(profile: Profile) -> dict[str, str]:
    headers = {"anthropic-version": ANTHROPIC_VERSION, "content-type": "application/json"}
    key = profile.key_value()
    if key and profile.key_field == "ANTHROPIC_AUTH_TOKEN":
        headers["authorization"] = f"Bearer {key}"
    elif key:
        headers["x-api-key"] = key
    return headers


def probe_messages(profile: Profile, timeout: float = 30.0) -> ProbeResult:
    """A real 1-token /v1/messages call: checks the key and the model, not just the host."""
    url = profile.base_url.rstrip("/") + "/v1/messages"
    body = {
        "model": profile.model or profile.haiku_model or profile.sonnet_model or PROBE_MODEL,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "ping"}],
    }
    result = request(
        url, method="POST", headers=auth_headers(profile), json_body=body, timeout=timeout
    )
    if result.status is not None and result.status >= 400:
        result.ok = False
        result.stage = "http"
        result.error = f"HTTP {result.status}: {_error_message(result.body)}"
    return result


def _error_message(body: str) -> str:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return body[:200]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message", data["error"]))[:200]
    return body[:200]
