"""``lynkr serve`` (alias ``lynkr start``): run the Anthropic Messages gateway."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from lynkr_cli import complete, console, hookimpl

HostOpt = Annotated[
    str | None, typer.Option("--host", help="Address to listen on [default: 127.0.0.1].")
]
PortOpt = Annotated[
    int | None,
    typer.Option("--port", "-p", help="Port to listen on; 0 picks a free one [default: 8080]."),
]
ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Upstream: {providers} (LYNKR_PROVIDER, PROVIDER); '_' and '-' alike.",
        autocompletion=complete.providers,
    ),
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", help="Default upstream model or endpoint (LYNKR_MODEL).")
]
MapOpt = Annotated[
    str | None,
    typer.Option(
        "--model-map",
        help="Glob routes, e.g. 'claude-haiku-*=openai:gpt-4o-mini,claude-*=databricks'.",
    ),
]
FallbackOpt = Annotated[
    str | None, typer.Option("--fallback", help="Providers to try in order when one is down.")
]
InsecureOpt = Annotated[
    bool,
    typer.Option("--insecure", help="Allow a non-loopback bind without LYNKR_API_KEY."),
]
CacheOpt = Annotated[
    bool | None, typer.Option("--cache/--no-cache", help="Replay identical requests from cache.")
]
AccessLogOpt = Annotated[
    bool | None, typer.Option("--access-log/--no-access-log", help="One log line per request.")
]
LogFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        help="auto (a human line per request on a terminal, JSON lines when piped), json or text.",
    ),
]
LogLevelOpt = Annotated[
    str | None, typer.Option("--log-level", help="debug, info, warning or error.")
]
GraceOpt = Annotated[
    float | None,
    typer.Option("--grace", help="Seconds to let in-flight streams finish on SIGTERM."),
]


def serve(
    *,
    host: HostOpt = None,
    port: PortOpt = None,
    provider: ProviderOpt = None,
    model: ModelOpt = None,
    model_map: MapOpt = None,
    fallback: FallbackOpt = None,
    insecure: InsecureOpt = False,
    cache: CacheOpt = None,
    access_log: AccessLogOpt = None,
    log_level: LogLevelOpt = None,
    log_format: LogFormatOpt = None,
    grace: GraceOpt = None,
) -> None:
    """Run the gateway that Claude Code talks to (ANTHROPIC_BASE_URL points here)."""
    from lynkr_cli import logs
    from lynkr_cli.serve import server
    from lynkr_cli.settings import load_settings

    overrides: dict[str, Any] = {
        "server.host": host,
        "server.port": port,
        "server.insecure": insecure or None,
        "server.access_log": access_log,
        "server.log_level": log_level,
        "server.log_format": log_format,
        "server.grace_seconds": grace,
        "provider.name": provider,
        "provider.model_default": model,
        "provider.model_map": model_map,
        "provider.fallback": fallback,
        "cache.enabled": cache,
    }
    loaded = load_settings(overrides)
    settings = loaded.settings
    _check_provider_name(settings.provider.name, loaded.sources["provider.name"])
    _check_routing(settings, loaded.sources)
    server.check_bind(settings)
    urls = _upstream_urls(settings)
    server.check_urls(urls)
    server.check_not_self(settings, [url for url, _setting in urls])
    fmt = settings.server.log_format
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    logs.configure(settings.server.log_level, fmt=fmt)
    problem = _configuration_problem(settings)
    if problem:
        console.warn(problem)
        console.warn("the gateway starts anyway and answers every request with this error")

    def started(where: server.Started) -> None:
        shown = "127.0.0.1" if where.host in ("0.0.0.0", "::") else where.host
        if ":" in shown:
            shown = f"[{shown}]"
        name = settings.provider.name or "(no provider)"
        origin = _shown_origin(loaded.sources["provider.name"])
        console.info(
            f"lynkr gateway listening on {where.host}:{where.port}, provider {name}{origin}"
        )
        typer.echo(f"export ANTHROPIC_BASE_URL=http://{shown}:{where.port}")

    server.run(settings, started)


def _shown_origin(source: str) -> str:
    """`` (from PROVIDER)``: the variable or file that chose the provider, as the user set it."""
    if source.startswith("env "):
        return f" (from {source[4:]})"
    if source.startswith("file "):
        return f" (from {source[5:]})"
    if source == "flag":
        return " (from --provider)"
    return ""


def _check_provider_name(name: str, source: str) -> None:
    """An unknown provider is a usage error at start (exit 2), not a gateway of 503s."""
    from lynkr_cli.errors import UsageError
    from lynkr_cli.registry import providers

    known = sorted(providers())
    if not name or name in known:
        return
    where = _shown_origin(source).strip() or "(provider.name)"
    raise UsageError(
        f"unknown provider '{name}' {where}",
        hint=f"Choose one of: {', '.join(known)} (underscores work too: azure_anthropic).",
    )


def _check_routing(settings: Any, sources: dict[str, str]) -> None:
    """A ``[routing]`` target naming an unknown provider is exit 3, naming the setting."""
    from lynkr_cli.registry import providers
    from lynkr_cli.serve.scenarios import check_routing

    check_routing(settings, set(providers()), sources)


def _upstream_urls(settings: Any) -> list[tuple[str, str]]:
    """The URLs of each provider in use (the default and the fallbacks), with their settings."""
    from lynkr_cli.registry import providers
    from lynkr_cli.serve.scenarios import providers_in_use

    classes = providers()
    used = providers_in_use(settings, set(classes))
    urls = []
    for name, cls in classes.items():
        if name in used:
            instance = cls(settings.provider)
            if instance.missing():
                continue  # not configured yet: the gateway says what to set
            try:
                urls += instance.endpoints()
            except Exception:  # a plugin provider that cannot tell its URL yet
                continue
    return urls


def _configuration_problem(settings: Any) -> str | None:
    from lynkr_cli.registry import providers
    from lynkr_cli.serve.state import Gateway

    classes = providers()
    return Gateway(
        settings, {n: c(settings.provider) for n, c in classes.items()}
    ).configuration_problem()


class ServeCommand(TyperCommand):
    """``--provider``'s help names the registered providers, looked up only when the help
    is shown (plugins' providers included; ``lynkr --help`` never loads them)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from lynkr_cli.registry import providers

        names = ", ".join(providers()) or "none loaded"
        for param in self.params:
            if param.name == "provider" and isinstance(getattr(param, "help", None), str):
                param.help = param.help.replace("{providers}", names)  # type: ignore[attr-defined]
        super().format_help(ctx, formatter)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.command("serve", cls=ServeCommand)(serve)
    app.command("start", cls=ServeCommand, help="Alias of `lynkr serve`, for Lynkr users.")(serve)
