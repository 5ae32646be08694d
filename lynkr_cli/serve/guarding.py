"""The outgoing guard on the request path (docs/guard.md): what leaves for the upstream.

Before a request goes upstream, every text the upstream would see is scanned
(:func:`lynkr_cli.guard.api.scan`) in the caller's mode: an issued key's own, else
``guard.mode`` (``LYNKR_GUARD_MODE``, default ``warn``). ``warn`` counts findings;
``redact`` sends a copy with ``[REDACTED:<kind>]`` placeholders; ``block`` answers 400
``invalid_request_error`` naming each kind and where (never the value). Every finding is
counted in ``/metrics`` (``lynkr_guard_findings_total{kind,mode}``) and in the usage
record of a team gateway.

The server-tool loop's later steps carry the gateway's own tool results: they are
scanned too, and in ``block`` mode redacted rather than refused (the client did not
send them, so a 400 would only break its turn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from lynkr_cli.guard.kinds import MODES, Mode
from lynkr_cli.logs import get_logger
from lynkr_cli.serve.errors import ApiError

if TYPE_CHECKING:
    from lynkr_cli.serve.context import Context
    from lynkr_cli.serve.state import Gateway


def mode_for(gw: Gateway, ctx: Context | None) -> Mode:
    principal = ctx.principal if ctx is not None else None
    if principal is not None and principal.guard in MODES:
        return cast(Mode, principal.guard)
    return gw.settings.guard.mode


def check(gw: Gateway, ctx: Context | None, body: dict[str, Any], *, tools: bool = False) -> Any:
    """``body`` as it may leave (a redacted copy, or itself); raises the 400 in block mode.

    ``tools``: a server-tool loop step, whose new texts came from the gateway's own tools.
    Returns ``None`` when nothing changed, so callers keep their bytes.
    """
    mode = mode_for(gw, ctx)
    if mode == "off":
        return None
    from lynkr_cli.guard.api import scan

    if tools and mode == "block":
        mode = "redact"
    result = scan(body, mode=mode, kinds=gw.settings.guard.kinds)
    if not result.findings:
        return None
    counts = result.counts()
    for kind, count in counts.items():
        gw.metrics.inc("lynkr_guard_findings", kind, mode, value=count)
        if ctx is not None:
            ctx.guard_findings[kind] = ctx.guard_findings.get(kind, 0) + count
    if not result.complete:
        get_logger("lynkr.guard").warning(
            "guard.incomplete", request_id=ctx.request_id if ctx else "", mode=mode
        )
    if result.blocked:
        raise ApiError(400, result.message(), retry=False)
    return result.body if result.changed else None
