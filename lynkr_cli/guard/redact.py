"""Findings per location, and the redacted body: a copy along the changed paths only.

The body given is never changed. The copy shares every untouched subtree with it
(``messages`` the guard changed nothing in are the very same objects), so redacting
one text of a 200 kB request copies a few small containers, not the request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from lynkr_cli.guard.collect import Texts, flat, location
from lynkr_cli.guard.spans import Span


@dataclass(frozen=True)
class Finding:
    """``count`` findings of ``kind`` at ``location`` (``messages.3.content.1``); never a value.

    ``redacted``: replaced by a placeholder in the body returned. ``signed``: inside a
    signed thinking block, which cannot change: reported only, it neither blocks nor is
    redacted (the upstream wrote that text itself).
    """

    kind: str
    location: str
    count: int
    redacted: bool
    signed: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def findings(texts: Texts, spans: list[Span], *, redacting: bool) -> list[Finding]:
    """One :class:`Finding` per kind and location, in the order they occur."""
    counts: Counter[tuple[str, int]] = Counter()
    for span in spans:
        counts[(span.kind, texts.part_at(span.start))] += 1
    out = []
    for (kind, index), count in counts.items():
        signed = index in texts.fixed
        where = location(texts.paths[index])
        out.append(Finding(kind, where, count, redacted=redacting and not signed, signed=signed))
    return out


def redacted_body(body: dict[str, Any], texts: Texts, spans: list[Span]) -> dict[str, Any]:
    """A copy of ``body`` with each span replaced by its placeholder (signed text kept)."""
    edits: dict[int, list[tuple[int, int, str]]] = {}
    starts = texts.starts()
    for span in spans:
        first = texts.part_at(span.start)
        if first in texts.fixed:
            continue
        index = first
        while index < len(texts.parts) and starts[index] < span.end:
            begin = max(span.start, starts[index]) - starts[index]
            end = min(span.end, starts[index] + len(texts.parts[index])) - starts[index]
            text = placeholder(span.kind) if index == first else ""
            edits.setdefault(index, []).append((begin, end, text))
            index += 1
    if not edits:
        return body
    changed = {flat(texts.paths[i]): _apply(texts.parts[i], e) for i, e in edits.items()}
    return _rewrite(body, changed)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    pieces: list[str] = []
    pos = 0
    for begin, end, replacement in sorted(edits):
        pieces += (text[pos:begin], replacement)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _rewrite(body: dict[str, Any], changed: dict[tuple[str | int, ...], str]) -> dict[str, Any]:
    root = dict(body)
    copies: dict[tuple[str | int, ...], Any] = {(): root}
    for path, text in changed.items():
        node: Any = root
        for depth in range(1, len(path)):
            prefix = path[:depth]
            copy = copies.get(prefix)
            if copy is None:
                child = node[path[depth - 1]]
                copy = dict(child) if isinstance(child, dict) else list(child)
                node[path[depth - 1]] = copy
                copies[prefix] = copy
            node = copy
        node[path[-1]] = text
    return root
