"""The team gateway on the request path: who is calling, what they may do, what it cost.

:class:`lynkr_cli.team.api.Team` is the engine (keys, limits, prices, usage, audit);
this module is the glue that turns its answers into the gateway's:

- :func:`authenticate` on every ``/v1/*`` route: an issued key or ``LYNKR_API_KEY``,
  from ``x-api-key`` or ``Authorization: Bearer``; a missing, unknown, revoked or
  expired key is Anthropic's 401 ``authentication_error`` saying which (never the key).
  While no key exists and no ``LYNKR_API_KEY`` is set, nothing is checked (as before).
- :func:`admit` once the route is known: the key's model globs (403
  ``permission_error``) and its limits (429 ``rate_limit_error`` with ``retry-after``);
  the ``anthropic-ratelimit-*`` headers go on every answer from then on.
- :func:`settle` after the answer: the real usage replaces the estimate, and one usage
  record (with its audit entry) is queued, written off the event loop in batches.

The hot path reads no database: keys live in memory (refreshed every few seconds), the
limit counters too; a request costs a hash, a dict lookup and a few counter updates.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lynkr_cli.serve.errors import ApiError

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.state import Gateway
    from lynkr_cli.team.api import Admission, Principal, Team, TeamError

BYTES_PER_TOKEN = 4  # the pre-flight estimate: a request's bytes over this, before counting


def error_of(exc: TeamError) -> ApiError:
    """A team error as the gateway's error (its status, type, headers and retry advice)."""
    return ApiError(
        exc.status, exc.message, error_type=exc.error_type, headers=exc.headers, retry=exc.retry
    )


def authenticate(team: Team, ctx: Context, headers: Any) -> None:
    """Set ``ctx.principal`` for the caller, or raise the 401/503 that says why not."""
    from lynkr_cli.team.api import AuthError, TeamError, presented_key

    try:
        ctx.principal = team.authenticate(presented_key(headers))
    except AuthError as exc:
        team.record_auth_failure(ctx.request_id, exc.reason, ctx.route)
        raise error_of(exc) from None
    except TeamError as exc:
        raise error_of(exc) from None


def check_model(ctx: Context, model: str) -> None:
    """403 when the caller's key may not use ``model`` (count_tokens included)."""
    principal: Principal | None = ctx.principal
    if principal is None or not principal.models:
        return
    from lynkr_cli.team.api import TeamError

    try:
        principal.check_model(model)
    except TeamError as exc:
        raise error_of(exc) from None


async def admit(gw: Gateway, ctx: Context, raw_size: int) -> None:
    """Charge the request to the caller's limits before it goes upstream (429 if over)."""
    principal: Principal | None = ctx.principal
    team = gw.team
    if principal is None or team is None:
        return
    check_model(ctx, ctx.client_model)
    if not principal.plan:
        return
    from lynkr_cli.team.api import TeamError

    estimate = raw_size // BYTES_PER_TOKEN
    try:
        admission: Admission = await team.admit(
            principal, ctx.client_model, estimate, upstream_model=ctx.upstream_model
        )
    except TeamError as exc:
        error = error_of(exc)
        ctx.status = error.status
        raise error from None
    ctx.admission = admission
    for name, value in admission.headers().items():
        ctx.add_header(name, value)


def tools_mode(gw: Gateway, ctx: Context) -> str:
    """The server-tool mode for this caller: an issued key's own (``never`` unless it was
    created with ``--tools``), else the gateway's ``gateway.tools_mode``."""
    principal: Principal | None = ctx.principal
    if principal is not None and principal.tools is not None:
        return principal.tools
    return gw.settings.gateway.tools_mode


async def settle(gw: Gateway, ctx: Context, elapsed: float) -> None:
    """After the answer: count its real usage against the limits and queue its record."""
    team = gw.team
    principal: Principal | None = ctx.principal
    if team is None or principal is None:
        return
    from lynkr_cli.team.api import Usage, UsageRecord

    # A cache hit cost the upstream nothing: it is recorded, with no tokens.
    usage = Usage() if ctx.cache == "hit" else Usage.from_anthropic(ctx.usage_doc)
    if ctx.admission is not None:
        cost = await team.settle(ctx.admission, usage)
    else:
        cost = int(team.cost(ctx.upstream_model or ctx.client_model, usage) * 1_000_000_000)
    record = UsageRecord(
        request_id=ctx.request_id,
        ts=time.time() - elapsed,
        key_id=principal.key_id,
        key_name=principal.name,
        client_model=ctx.client_model,
        provider=ctx.provider,
        upstream_model=ctx.upstream_model,
        cost_nano=cost,
        status=ctx.status,
        latency_ms=round(elapsed * 1000, 2),
        ttfb_ms=round(ctx.ttfb * 1000, 2) if ctx.ttfb is not None else None,
        streamed=ctx.sse is not None,
        cache_hit=ctx.cache == "hit",
        tool_rounds=ctx.tool_rounds,
        route=ctx.scenario,
        guard_findings=dict(ctx.guard_findings),
        error=ctx.error,
    )
    record.set_usage(usage)
    team.record_usage(record, request=ctx.body, response=ctx.answer)
