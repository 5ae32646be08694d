"""The index tools' bodies: calls into :mod:`lynkr_cli.index.api` (filled in as it lands)."""

from __future__ import annotations

from typing import Any

from lynkr_cli.errors import NotFoundError
from lynkr_cli.serve.tools.base import ToolContext


def _api() -> Any:
    try:
        from lynkr_cli.index import api  # type: ignore[attr-defined]
    except ImportError as exc:
        raise NotFoundError("the code index API is not available in this build") from exc
    return api


def symbols(args: dict[str, Any], ctx: ToolContext) -> Any:
    raise NotFoundError("symbol lookup is not wired yet")


def references(args: dict[str, Any], ctx: ToolContext) -> Any:
    raise NotFoundError("reference lookup is not wired yet")


def repo_map(args: dict[str, Any], ctx: ToolContext) -> Any:
    raise NotFoundError("the repo map is not wired yet")
