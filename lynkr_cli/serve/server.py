"""Running the gateway: uvloop, the bind safety check, and a graceful SIGTERM drain."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lynkr_cli.errors import ConfigError, UsageError
from lynkr_cli.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from lynkr_cli.serve.app import Built

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse a non-loopback bind without gateway keys unless ``--insecure`` was given."""
    server = settings.server
    if is_loopback(server.host) or server.api_key is not None or server.insecure:
        return
    if _issued_keys():
        return  # every /v1 request must carry an issued key
    raise UsageError(
        f"refusing to listen on {server.host}: anyone who can reach it could spend "
        "your upstream credits.",
        hint="Issue keys (`lynkr keys create NAME`) or set LYNKR_API_KEY to require one, "
        "or pass --insecure if the network is trusted.",
    )


def _issued_keys() -> bool:
    """Whether any key was ever issued (the team gateway is on), read from the store."""
    from lynkr_cli.team.api import keys_issued

    return keys_issued()


def check_urls(urls: list[tuple[str, str]]) -> None:
    """Refuse an upstream URL that cannot work (no scheme, no host) at start, naming its
    setting: otherwise every request would fail later with a confusing error."""
    for url, setting in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            continue
        hint = f"Set {setting} to a full URL, e.g. https://{url.lstrip('/')}"
        if parts.scheme and parts.scheme not in ("http", "https"):
            hint = f"Set {setting} to an http:// or https:// URL."
        raise ConfigError(f"the upstream URL {url!r} ({setting}) is not a valid URL", hint=hint)


def check_not_self(settings: Settings, upstream_urls: list[str]) -> None:
    """Refuse a provider endpoint that is this very gateway (a request loop)."""
    port = settings.server.port
    for url in upstream_urls:
        parts = urlsplit(url)
        if not parts.hostname or port == 0:
            continue
        default = 443 if parts.scheme == "https" else 80
        same_host = is_loopback(parts.hostname) or parts.hostname == settings.server.host
        if same_host and (parts.port or default) == port:
            raise ConfigError(
                f"the upstream endpoint {url} is this gateway itself "
                f"({settings.server.host}:{port}).",
                hint="Point ANTHROPIC_ENDPOINT (or the provider's endpoint) at the real "
                "upstream. ANTHROPIC_BASE_URL is Claude Code's variable, not lynkr's.",
            )


@dataclass
class Started:
    host: str
    port: int


def use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # Windows: the default loop works, only slower
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(settings: Settings, on_started: Callable[[Started], None]) -> None:
    """Serve until SIGINT/SIGTERM, then drain in-flight requests for ``server.grace_seconds``."""
    use_uvloop()
    asyncio.run(_serve(settings, on_started))


async def _serve(settings: Settings, on_started: Callable[[Started], None]) -> None:
    from aiohttp import web

    from lynkr_cli.serve.app import build, create_server
    from lynkr_cli.serve.memory import tune_allocator

    tune_allocator()
    built = build(settings)
    await built.start()
    runner = web.ServerRunner(
        create_server(built),  # a client hanging up cancels the upstream call at once
        handle_signals=False,
        shutdown_timeout=CLOSE_SECONDS,  # after the drain below, nothing is left to wait for
    )
    await runner.setup()
    try:
        sock = _bind(settings.server.host, settings.server.port)
        site = web.SockSite(runner, sock)
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        await built.stop()
        raise UsageError(f"cannot listen on {settings.server.host}: {exc.strerror}") from exc
    except BaseException:
        await runner.cleanup()
        await built.stop()
        raise
    host, port = sock.getsockname()[:2]
    settle_heap()
    on_started(Started(str(host), int(port)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await drain(runner, built, settings.server.grace_seconds)


CLOSE_SECONDS = 1.0


async def drain(runner: web.BaseRunner, built: Built, grace: float) -> None:
    """Stop accepting, let in-flight requests finish for ``grace`` seconds, then end the
    rest on time: each stream with an ``overloaded_error`` event, each pending answer a
    529 (see ``Gateway.drain``). Then close every connection and flush the gateway."""
    for site in list(runner.sites):
        await site.stop()
    server = runner.server
    if server is not None:
        server.pre_shutdown()  # idle keep-alive connections close now, busy ones when done
    await built.gw.drain(grace)
    await runner.cleanup()
    await built.stop()


def settle_heap() -> None:
    """Move everything start-up created out of the garbage collector's sight.

    Imports and settings leave ~50k long-lived objects; every full collection walked
    them all (~30 ms, the occasional p99 spike under load). Frozen, they are never
    scanned again, and a request's short-lived cycles are collected as before. The
    youngest generation is also allowed to grow larger between collections: most
    request garbage is freed by reference counting, never by the collector.
    """
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


GC_GEN0_THRESHOLD = 10_000


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="Pick another --port, or stop whatever is using it.",
        ) from exc
    sock.listen(1024)
    sock.setblocking(False)
    return sock
