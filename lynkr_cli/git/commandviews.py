"""Plain rows for the CLI's tables (kept out of command.py to keep it thin)."""

from __future__ import annotations

from lynkr_cli.git.review import Review


def review_rows(review: Review) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for f in review.files:
        notes = list(f.categories)
        if f.test:
            notes.append("test")
        if f.binary:
            notes.append("binary")
        path = f"{f.orig_path} -> {f.path}" if f.orig_path else f.path
        rows.append((path, f.change, str(f.added), str(f.deleted), ", ".join(notes)))
    return rows
