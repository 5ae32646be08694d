"""What the repository's symbol index (``lynkr index``) can tell a review.

The index package is optional from here: every function returns None when the
index API or the repository's index database is not available, and the review
falls back to what the diff alone shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lynkr_cli.git.policy import index_function


def defined_elsewhere(root: Path, symbols: Iterable[tuple[str, str]]) -> set[str] | None:
    """Names of ``(path, name)`` symbols the index still defines in another file.

    None when there is no index for ``root``: the caller then trusts the diff alone.
    """
    status = index_function("index_status")
    lookup = index_function("defs")
    if status is None or lookup is None:
        return None
    try:
        if status(root) == "missing":
            return None
        found: set[str] = set()
        for path, name in symbols:
            if any(hit.get("path") != path for hit in lookup(root, name, limit=20)):
                found.add(name)
    except Exception:
        # An unreadable or half-built index: fall back to the diff.
        return None
    return found
