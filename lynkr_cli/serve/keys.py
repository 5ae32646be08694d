"""The team gateway on the request path: who is calling, what they may do, what it cost.

:class:`lynkr_cli.team.api.Team` is the engine (keys, limits, prices, usage, audit);
this module is the glue that turns its answers into the gateway's:

- :func:`authenticate` on every ``/v1/*`` route: an issued key or ``LYNKR_API_KEY``,
  from ``x-api-key`` or ``Authorization: Bearer``; a missing, unknown, revoked or
  expired key is Anthropic's 401 ``authentication_error`` saying which (never the key).
  While no key exists and no ``LYNKR_API_KEY`` is set, nothing is checked (as before).
- :func:`admit` once the route is known: the key's model globs (403
  ``permission_error``) and its limits (429 ``rate_limit_error`` with ``retry-after``);
  the ``anthropic-ratelimit-*`` headers go on every answer from then on (``ctx.rate``).
- :func:`settle` after the answer: the real usage replaces the estimate, and one usage
  record (with its audit entry) is queued, written off the event loop in batches.

The hot path reads no database: keys live in memory (refreshed every few seconds), the
limit counters too; a request costs a hash, a dict lookup and a few counter updates.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lynkr_cli.serve.errors import ApiError

# Imported once here, not per request: a function-level import costs about a microsecond
# a call, and the gateway opens the team engine at start anyway.
from lynkr_cli.team.api import (
    Admission,
    AuthError,
    Principal,
    Team,
    TeamError,
    Usage,
    UsageRow,
    presented_key,
)

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.state import Gateway

BYTES_PER_TOKEN = 4  # the pre-flight estimate: a request's bytes over this, before counting


def error_of(exc: TeamError) -> ApiError:
    """A team error as the gateway's error (its status, type, headers and retry advice)."""
    return ApiError(
        exc.status, exc.message, error_type=exc.error_type, headers=exc.headers, retry=exc.retry
    )


def authenticate(team: Team, ctx: Context, headers: Any) -> None:
    """Set ``ctx.principal`` for the caller, or raise the 401/503 that says why not."""
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
    if principal.models:
        check_model(ctx, ctx.client_model)
    if not principal.plan:
        return
    estimate = raw_size // BYTES_PER_TOKEN
    try:
        if team.limits_sync:  # in this process: no coroutine
            admission = team.admit_sync(
                principal, ctx.client_model, estimate, upstream_model=ctx.upstream_model
            )
        else:
            admission = await team.admit(
                principal, ctx.client_model, estimate, upstream_model=ctx.upstream_model
            )
    except TeamError as exc:
        error = error_of(exc)
        ctx.status = error.status
        raise error from None
    ctx.admission = ctx.rate = admission  # its headers go on every answer from here on


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
    # A cache hit cost the upstream nothing: it is recorded, with no tokens.
    hit = ctx.cache == "hit"
    usage = Usage() if hit else Usage.from_anthropic(ctx.usage_doc)
    admission: Admission | None = ctx.admission
    if admission is not None:
        if team.limits_sync:
            cost = team.settle_sync(admission, usage)
        else:
            cost = await team.settle(admission, usage)
    else:
        cost = team.prices.cost_nano(usage, ctx.upstream_model or ctx.client_model)
    ttfb = ctx.ttfb
    row: UsageRow = (  # a UsageRecord's fields in order (the writer builds the object)
        ctx.request_id,
        time.time() - elapsed,
        principal.key_id,
        principal.name,
        ctx.client_model,
        ctx.provider,
        ctx.upstream_model,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_creation_tokens,
        usage.cache_read_tokens,
        cost,
        ctx.status,
        elapsed * 1000,  # rounded to 0.01 ms where the record is built (batches.decode)
        ttfb * 1000 if ttfb is not None else None,
        ctx.sse is not None,
        hit,
        ctx.tool_rounds,
        ctx.scenario,
        dict(ctx.guard_findings) if ctx.guard_findings else {},
        ctx.error,
    )
    team.record_row(row, ctx.body, ctx.answer)
