"""``lynkr route explain``: print which scenario and upstream a saved request would take."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from lynkr_cli import console, hookimpl

if TYPE_CHECKING:
    from lynkr_cli.route.explain import Explanation
    from lynkr_cli.serve.api import Check

route_app = typer.Typer(
    help="Scenario routing ([routing] in lynkr.toml): where a request goes, and why.",
    no_args_is_help=True,
)

EXPLAIN_HELP = """Print which scenario and upstream a saved request would take, and why.

FILE.json is a Messages request body as Claude Code sends it to POST /v1/messages
(or a captured request holding it under "body"); '-' reads it from stdin. The
decision uses your settings and providers exactly as `lynkr serve` would.

\b
Example:
  lynkr route explain request.json
  curl-saved-body | lynkr route explain - --json | jq .scenario
"""


@route_app.command("explain", help=EXPLAIN_HELP)
def explain(
    file: Annotated[
        str, typer.Argument(help="The saved request (JSON); '-' reads stdin.", show_default=False)
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    from lynkr_cli.registry import providers
    from lynkr_cli.route import explain as logic
    from lynkr_cli.settings import load_settings

    loaded = load_settings()
    shown, data = logic.read_input(file, sys.stdin.buffer)
    body = logic.parse_request(shown, data)
    result = logic.explain(shown, body, loaded, providers())
    if json_output:
        console.print_json(result.as_dict())
        return
    _render(result)


def _render(result: Explanation) -> None:
    decision = result.decision
    primary, *fallbacks = result.routes
    upstream = f"{primary.provider or '(no provider)'} / {primary.upstream_model}"
    console.say(console.Styled(decision.scenario, "bold"), f" -> {upstream}")
    console.say(f"  why:       {decision.reason}")
    console.say(f"  chosen by: {result.via}")
    if fallbacks:
        console.say(
            "  fallbacks: " + ", ".join(f"{r.provider} / {r.upstream_model}" for r in fallbacks)
        )
    if result.tokens is not None:
        console.say(
            f"  input:     ~{result.tokens:,} tokens (long_context_threshold {result.threshold:,})"
        )
    for provider, missing in result.unconfigured.items():
        console.warn(f"{provider} is not configured yet: set {', '.join(missing)}")
    console.say("")
    console.say("checks, in priority order (the first matched one that has a target wins):")
    for check in result.checks:
        console.say(
            f"  {check.scenario:<13} {'yes' if check.matched else 'no':<4} {_detail(check)}"
        )


def _detail(check: Check) -> str:
    if check.scenario == "explicit":
        return check.detail
    if check.target is None:
        return f"{check.detail}; routing.{check.scenario} is not set"
    return f"{check.detail} [routing.{check.scenario} = {check.target}]"


@hookimpl
def register_commands(app: typer.Typer) -> None:
    app.add_typer(route_app, name="route")
