"""What the repository's symbol index (``lynkr index``) can tell a review.

Every function returns None when the repository has no usable index, and the review
falls back to what the diff alone shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def defined_elsewhere(root: Path, symbols: Iterable[tuple[str, str]]) -> set[str] | None:
    """Names of ``(path, name)`` symbols the index still defines in another file.

    None when there is no index for ``root``: the caller then trusts the diff alone.
    """
    from lynkr_cli.index.api import defs, index_status

    try:
        if index_status(root) == "missing":
            return None
        found: set[str] = set()
        for path, name in symbols:
            if any(hit["path"] != path for hit in defs(root, name, limit=20)):
                found.add(name)
    except Exception:
        # An unreadable or half-built index: fall back to the diff.
        return None
    return found
