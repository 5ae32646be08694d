"""What the repository's symbol index (``lynkr index``) can tell a review.

The index package is optional from here: every function returns None when the
index API or the repository's index database is not available, and the review
falls back to what the diff alone shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lynkr_cli.git.policy import index_function


def defined_names(root: Path, names: set[str]) -> set[str] | None:
    """Which of ``names`` the index of ``root`` still defines, or None without an index."""
    lookup = index_function("find_definitions") or index_function("find_symbol")
    if lookup is None:
        return None
    found: set[str] = set()
    try:
        for name in sorted(names):
            if _any_hit(lookup(root, name)):
                found.add(name)
    except Exception:
        # No index built for this repository (or it is unreadable): fall back to the diff.
        return None
    return found


def _any_hit(result: Any) -> bool:
    if result is None:
        return False
    if isinstance(result, Mapping):
        return bool(result)
    if isinstance(result, Iterable) and not isinstance(result, str | bytes):
        return any(True for _ in result)
    return bool(result)
