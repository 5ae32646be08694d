"""The index tools' bodies: calls into :mod:`lynkr_cli.index.api`, the ``lynkr index`` API.

Each lookup first makes the index current (``ensure_index`` is incremental: a
fresh index costs a stat per file), so the model never sees stale symbols and a
workspace that was never indexed gets indexed on first use.
"""

from __future__ import annotations

from typing import Any

from lynkr_cli.serve.tools.base import ToolContext, arg_int, arg_str


def _ready(ctx: ToolContext) -> Any:
    from lynkr_cli.index import api

    if api.index_status(ctx.root) != "fresh":
        api.ensure_index(ctx.root)
    return api


def _visible(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows from secret files dropped (a tracked ``secrets.json`` has keys for symbols)."""
    from lynkr_cli.git.secrets import is_secret_path

    return [r for r in rows if not is_secret_path(str(r.get("path", "")))]


def symbols(args: dict[str, Any], ctx: ToolContext) -> Any:
    query = arg_str(args, "query")
    kind = args.get("kind") or None
    limit = arg_int(args, "limit", 50, lo=1, hi=500) or 50
    found = _visible(_ready(ctx).search(ctx.root, query, kind=kind, limit=limit))
    return found or f"no symbols matching {query!r}"


def references(args: dict[str, Any], ctx: ToolContext) -> Any:
    name = arg_str(args, "name")
    limit = arg_int(args, "limit", 100, lo=1, hi=1000) or 100
    found = _visible(_ready(ctx).refs(ctx.root, name, limit=limit))
    return found or f"no references to {name!r}"


def repo_map(args: dict[str, Any], ctx: ToolContext) -> Any:
    chars = arg_int(args, "max_chars", 8000, lo=500, hi=50_000) or 8000
    # The index budgets in tokens; ~4 characters per token for code.
    text: str = _ready(ctx).repo_map(ctx.root, tokens=chars // 4)
    return text or "(the repository has no indexed symbols)"
