"""Doctor checks over the network: the upstream, Claude Code's target, the gateway.

Each step is bounded by ``ctx.timeout``; only 127.0.0.1 is touched in tests.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lynkr_cli.registry import CheckResult
from lynkr_cli.switch import api as switch

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context
    from lynkr_cli.serve.api import Proxy
    from lynkr_cli.settings import Settings


def upstream_url(settings: Settings) -> str:
    """Where ``lynkr serve`` would send requests: the provider's first endpoint ("" when
    the provider is unknown or lacks the settings its URL is made of)."""
    from lynkr_cli.registry import providers

    cls = providers().get(settings.provider.name)
    if cls is None:
        return ""
    provider = cls(settings.provider)
    if any("URL" in m or "ENDPOINT" in m or "BASE" in m for m in provider.missing()):
        return ""
    try:
        endpoints = provider.endpoints()
    except Exception:  # a plugin provider that cannot tell its URL yet
        return ""
    return endpoints[0][0] if endpoints else ""


def _reach_result(name: str, url: str, result: switch.ProbeResult, fix: str) -> CheckResult:
    details = result.as_dict()
    details["http_status"] = details.pop("status")  # "status" is the check's own field
    details.pop("body", None)  # an upstream's page is noise here
    if not result.ok:
        return CheckResult.fail(name, f"{url}: {result.error}", fix, **details)
    tls = ", TLS ok" if result.tls else ""
    dns = f"DNS {result.dns_ms} ms{tls}" if result.dns_ms is not None else tls[2:]
    summary = f"{url} answered HTTP {result.status} in {result.ttfb_ms} ms"
    if dns:
        summary += f" ({dns})"
    return CheckResult.ok(name, summary, **details)


def upstream(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None or not settings.provider.name:
        return CheckResult.skip("upstream", "no provider configured")
    url = upstream_url(settings)
    if not url:
        return CheckResult.skip(
            "upstream", f"provider '{settings.provider.name}' has no endpoint set"
        )
    fixes = {
        "dns": "Check the host name and your DNS/VPN.",
        "tls": "A proxy may intercept TLS: set NODE_EXTRA_CA_CERTS / SSL_CERT_FILE to its CA.",
        "timeout": "A firewall or proxy drops the traffic; check HTTPS_PROXY and the VPN.",
        "proxy": "Check the proxy and its credentials (user:password@ in HTTPS_PROXY/"
        "HTTP_PROXY or provider.proxy); NO_PROXY or LYNKR_UPSTREAM_PROXY=none goes direct.",
    }
    proxy = upstream_proxy(settings, url)
    if proxy is not None and proxy.scheme.startswith("socks") and not ctx.deep:
        return CheckResult.warn(
            "upstream",
            f"{url}: not probed: the gateway reaches it through the SOCKS proxy "
            f"{proxy.display}, which doctor's own HTTP client does not speak",
            "Run `lynkr doctor --deep`: it sends a 1-token request the way the gateway does.",
            proxy=proxy.display,
        )
    if proxy is not None and proxy.scheme.startswith("socks"):
        from lynkr_cli.doctor.checks_deep import provider_request

        return provider_request(settings, max(ctx.timeout, 10.0))
    result = (
        switch.reach(url, ctx.timeout) if proxy is None else _reach_via(url, proxy, ctx.timeout)
    )
    fix = fixes.get(result.stage, "Check the URL and that the service is up.")
    check = _reach_result("upstream", url, result, fix)
    if proxy is not None:
        check.details["proxy"] = proxy.display
        check.summary += f" (through the proxy {proxy.display})"
    if check.status != "ok":
        return check
    if not ctx.deep:  # a bare GET carries no key: any answer only means "reachable"
        check.summary += "; `--deep` checks the key and model with a 1-token request"
        return check
    from lynkr_cli.doctor.checks_deep import provider_request

    deep = provider_request(settings, max(ctx.timeout, 10.0))
    deep.details = {**check.details, **deep.details}
    return deep


def upstream_proxy(settings: Settings, url: str) -> Proxy | None:
    """The proxy ``lynkr serve`` would reach ``url`` through (the gateway's own decision)."""
    from lynkr_cli.serve.api import Chooser

    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    secret = settings.provider.proxy
    chooser = Chooser(secret.get_secret_value() if secret is not None else "")
    return chooser.choose(parts.scheme, parts.hostname, port)


def _reach_via(url: str, proxy: Proxy, timeout: float) -> switch.ProbeResult:
    """``switch.reach`` through ``proxy``: no local DNS lookup (the proxy resolves)."""
    import httpx

    from lynkr_cli.serve.api import speakable

    result = switch.ProbeResult(url)
    if not speakable(proxy):
        result.error, result.stage = proxy.unsupported or "unusable proxy URL", "proxy"
        return result
    headers = {"Proxy-Authorization": proxy.auth} if proxy.auth else None
    via = httpx.Proxy(proxy.display, headers=headers)  # the display URL has no credentials
    limits = httpx.Timeout(timeout, connect=timeout)
    start = time.perf_counter()
    try:
        with (
            httpx.Client(timeout=limits, trust_env=False, proxy=via) as client,
            client.stream("GET", url) as response,
        ):
            result.ttfb_ms = round((time.perf_counter() - start) * 1000, 1)
            result.status = response.status_code
    except httpx.TimeoutException as exc:
        result.error = f"timed out after {timeout:g}s ({type(exc).__name__})"
        result.stage = "timeout"
        return result
    except httpx.ProxyError as exc:
        result.error, result.stage = f"the proxy {proxy.display} refused: {exc}", "proxy"
        return result
    except httpx.ConnectError as exc:
        if switch.tls_failure(exc):
            result.tls = False
            result.error, result.stage = f"TLS handshake failed: {exc}", "tls"
        else:
            result.error = f"cannot connect to the proxy {proxy.display}: {exc}"
            result.stage = "proxy"
        return result
    except httpx.HTTPError as exc:
        result.error, result.stage = f"cannot connect through {proxy.display}: {exc}", "connect"
        return result
    if result.status == 407:
        result.error = f"the proxy {proxy.display} wants credentials (HTTP 407)"
        result.stage = "proxy"
        return result
    result.tls = True if url.startswith("https:") else None
    result.ok = True
    return result


def claude_target(ctx: Context) -> CheckResult:
    """Where Claude Code itself will connect (its effective ANTHROPIC_BASE_URL)."""
    seen = switch.effective(ctx.environ, ctx.cwd)
    if "ANTHROPIC_BASE_URL" not in seen:
        return CheckResult.skip("claude-target", "Claude Code uses Anthropic's default endpoint")
    url, where = seen["ANTHROPIC_BASE_URL"]
    result = switch.reach(url, ctx.timeout)
    fix = f"Start the service at {url} (`lynkr serve` for the gateway), or switch profile."
    out = _reach_result("claude-target", url, result, fix)
    out.details["source"] = where
    return out


def gateway(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("gateway", "settings are invalid")
    host = "127.0.0.1" if settings.server.host in ("0.0.0.0", "::", "") else settings.server.host
    port = settings.server.port
    # --deep asks the gateway to reach its own upstream too.
    url = f"http://{host}:{port}/health/ready" + ("?deep=1" if ctx.deep else "")
    result = switch.probe_request(url, timeout=ctx.timeout)
    if result.ok and result.status == 200:
        return CheckResult.ok(
            "gateway", f"lynkr serve is ready on {host}:{port} ({result.ttfb_ms} ms)"
        )
    if result.ok and result.status == 503:
        return CheckResult.warn(
            "gateway",
            f"the gateway on {host}:{port} answers but is not ready",
            "Read its log; `lynkr doctor --only provider` checks the upstream it needs.",
            body=result.body[:500],
        )
    if result.ok:
        return CheckResult.fail(
            "gateway",
            f"port {port} answers HTTP {result.status}, not as lynkr",
            f"Another program holds {host}:{port}; set LYNKR_PORT to a free port.",
        )
    if not _port_free(host, port):
        return CheckResult.fail(
            "gateway",
            f"{host}:{port} is taken but does not answer HTTP",
            f"Find it with `lsof -i :{port}`, or set LYNKR_PORT to a free port.",
        )
    pointing = _claude_points_at(ctx, port)
    if pointing:
        return CheckResult.fail(
            "gateway",
            f"Claude Code points at {pointing} but no gateway runs on port {port}",
            "Start it: `lynkr serve` (or `make run`).",
        )
    return CheckResult.ok(
        "gateway", f"not running; port {port} on {host} is free for `lynkr serve`"
    )


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _claude_points_at(ctx: Context, port: int) -> str:
    url = switch.effective(ctx.environ, ctx.cwd).get("ANTHROPIC_BASE_URL", ("", ""))[0]
    local = ("//127.0.0.1:", "//localhost:", "//[::1]:")
    return url if any(f"{h}{port}" in url for h in local) else ""


CHECKS: list[tuple[str, str, Callable[..., object]]] = [
    ("upstream", "provider", upstream),
    ("claude-target", "claude", claude_target),
    ("gateway", "gateway", gateway),
]
