"""Doctor checks over the network: the upstream, Claude Code's target, the gateway.

Each step is bounded by ``ctx.timeout``; only 127.0.0.1 is touched in tests.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lynkr_cli.registry import CheckResult, CheckStatus
from lynkr_cli.switch import conflicts, probe

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context
    from lynkr_cli.settings import Settings


def _r(
    name: str, status: CheckStatus, summary: str, fix: str | None = None, **details: Any
) -> CheckResult:
    return CheckResult(name, status, summary, fix, dict(details))


def upstream_url(settings: Settings) -> str:
    """Where ``lynkr serve`` would send requests, by provider."""
    p = settings.provider
    urls = {
        "databricks": p.databricks_api_base,
        "azure-anthropic": p.azure_anthropic_endpoint,
        "anthropic": p.anthropic_endpoint,
        "openai": p.openai_endpoint,
        "ollama": p.ollama_endpoint,
    }
    return urls.get(p.name, "")


def _reach_result(name: str, url: str, result: probe.ProbeResult, fix: str) -> CheckResult:
    details = result.as_dict()
    details["http_status"] = details.pop("status")  # "status" is the check's own field
    details.pop("body", None)  # an upstream's page is noise here
    if not result.ok:
        return _r(name, "fail", f"{url}: {result.error}", fix, **details)
    tls = ", TLS ok" if result.tls else ""
    summary = (
        f"{url} answered HTTP {result.status} in {result.ttfb_ms} ms (DNS {result.dns_ms} ms{tls})"
    )
    return _r(name, "ok", summary, **details)


def upstream(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None or not settings.provider.name:
        return _r("upstream", "skip", "no provider configured")
    url = upstream_url(settings)
    if not url:
        return _r("upstream", "skip", f"provider '{settings.provider.name}' has no endpoint set")
    fixes = {
        "dns": "Check the host name and your DNS/VPN.",
        "tls": "A proxy may intercept TLS: set NODE_EXTRA_CA_CERTS / SSL_CERT_FILE to its CA.",
        "timeout": "A firewall or proxy drops the traffic; check HTTPS_PROXY and the VPN.",
    }
    result = probe.reach(url, ctx.timeout)
    fix = fixes.get(result.stage, "Check the URL and that the service is up.")
    return _reach_result("upstream", url, result, fix)


def claude_target(ctx: Context) -> CheckResult:
    """Where Claude Code itself will connect (its effective ANTHROPIC_BASE_URL)."""
    seen = conflicts.effective(ctx.environ, ctx.cwd)
    if "ANTHROPIC_BASE_URL" not in seen:
        return _r("claude-target", "skip", "Claude Code uses Anthropic's default endpoint")
    url, where = seen["ANTHROPIC_BASE_URL"]
    result = probe.reach(url, ctx.timeout)
    fix = f"Start the service at {url} (`lynkr serve` for the gateway), or switch profile."
    out = _reach_result("claude-target", url, result, fix)
    out.details["source"] = where
    return out


def gateway(ctx: Context) -> CheckResult:
    settings = ctx.settings()
    if settings is None:
        return _r("gateway", "skip", "settings are invalid")
    host = "127.0.0.1" if settings.server.host in ("0.0.0.0", "::", "") else settings.server.host
    port = settings.server.port
    # --deep asks the gateway to reach its own upstream too.
    url = f"http://{host}:{port}/health/ready" + ("?deep=1" if ctx.deep else "")
    result = probe.request(url, timeout=ctx.timeout)
    if result.ok and result.status == 200:
        return _r("gateway", "ok", f"lynkr serve is ready on {host}:{port} ({result.ttfb_ms} ms)")
    if result.ok and result.status == 503:
        return _r(
            "gateway",
            "warn",
            f"the gateway on {host}:{port} answers but is not ready",
            "Read its log; `lynkr doctor --only provider` checks the upstream it needs.",
            body=result.body[:500],
        )
    if result.ok:
        return _r(
            "gateway",
            "fail",
            f"port {port} answers HTTP {result.status}, not as lynkr",
            f"Another program holds {host}:{port}; set LYNKR_PORT to a free port.",
        )
    if not _port_free(host, port):
        return _r(
            "gateway",
            "fail",
            f"{host}:{port} is taken but does not answer HTTP",
            f"Find it with `lsof -i :{port}`, or set LYNKR_PORT to a free port.",
        )
    pointing = _claude_points_at(ctx, port)
    if pointing:
        return _r(
            "gateway",
            "fail",
            f"Claude Code points at {pointing} but no gateway runs on port {port}",
            "Start it: `lynkr serve` (or `make run`).",
        )
    return _r("gateway", "ok", f"not running; port {port} on {host} is free for `lynkr serve`")


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _claude_points_at(ctx: Context, port: int) -> str:
    url = conflicts.effective(ctx.environ, ctx.cwd).get("ANTHROPIC_BASE_URL", ("", ""))[0]
    local = ("//127.0.0.1:", "//localhost:", "//[::1]:")
    return url if any(f"{h}{port}" in url for h in local) else ""


CHECKS: list[tuple[str, str, Callable[..., object]]] = [
    ("upstream", "provider", upstream),
    ("claude-target", "claude", claude_target),
    ("gateway", "gateway", gateway),
]
