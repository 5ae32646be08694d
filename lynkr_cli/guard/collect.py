"""Every text of a Messages body that the upstream model reads, with its JSON path.

Collected: ``system`` (a string or text blocks); each message's content (a string or
blocks); ``text`` blocks; every string leaf of a ``tool_use``/``server_tool_use``
input; ``tool_result`` content (a string or blocks, recursively); a ``document``'s
plain-text or content source, title and context; ``search_result`` titles and
content; the ``url`` of url-sourced images and documents. ``thinking`` text is
collected but marked fixed: a thinking block is signed, and changing it makes the
API refuse the request.

Never collected: base64 image and document data, ``redacted_thinking`` (opaque),
server-tool result blocks such as ``web_search_tool_result`` (opaque, written by the
upstream itself), ``tools`` (the client's tool definitions: the client's text, the
same on every request, not the user's data), ``metadata`` and every other field.

Texts are joined into one string so a detector runs once over a request. Adjacent text
blocks of one content list are joined as the model reads them, with nothing between,
so a secret split across two blocks is still seen; any other two texts are kept apart
by :data:`SEP`, which no detector matches across.

This walk runs on every request: it sticks to dict/list/str type checks and list appends.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

SEP = "\n\x00\n"
# A path is built as nested tuples, ``(parent, key, ...)``, each level sharing its parent
# (no copying on every text); :func:`flat` spells it out when a finding needs it.
Path = tuple[Any, ...]
_TOOL_USES = frozenset({"tool_use", "server_tool_use"})
_MAX_DEPTH_SHOWN = 24


@dataclass
class Texts:
    """The collected texts, ``parts[i]`` found at ``paths[i]`` in the body."""

    parts: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    glued: set[int] = field(default_factory=set)  # parts joined to the one before, no SEP
    fixed: set[int] = field(default_factory=set)  # parts that must not change (thinking)
    _starts: list[int] | None = None

    def joined(self) -> str:
        """Every part in order: glued parts back to back, the others apart by SEP."""
        if not self.glued:
            return SEP.join(self.parts)
        pieces: list[str] = []
        for i, part in enumerate(self.parts):
            if i and i not in self.glued:
                pieces.append(SEP)
            pieces.append(part)
        return "".join(pieces)

    def starts(self) -> list[int]:
        """Where each part begins in :meth:`joined`."""
        if self._starts is None:
            sizes = [len(p) + (0 if i + 1 in self.glued else len(SEP)) for i, p in
                     enumerate(self.parts)]  # fmt: skip
            self._starts = [0, *accumulate(sizes)][: len(self.parts)]
        return self._starts

    def part_at(self, offset: int) -> int:
        """The index of the part holding ``offset`` of :meth:`joined`."""
        return bisect_right(self.starts(), offset) - 1

    def group_end(self, index: int) -> int:
        """Where the run of glued parts holding part ``index`` ends in :meth:`joined`."""
        while index + 1 in self.glued:
            index += 1
        return self.starts()[index] + len(self.parts[index])


def collect(body: dict[str, Any]) -> Texts:
    """The texts of a Messages request body (anything not shaped like one is skipped)."""
    texts = Texts()
    system = body.get("system")
    if type(system) is str:
        _add(texts, system, ("system",))
    elif type(system) is list:
        _blocks(texts, system, ("system",))
    messages = body.get("messages")
    if type(messages) is list:
        for i, message in enumerate(messages):
            if type(message) is dict:
                content = message.get("content")
                if type(content) is str:
                    _add(texts, content, ("messages", i, "content"))
                elif type(content) is list:
                    _blocks(texts, content, ("messages", i, "content"))
    return texts


def _add(texts: Texts, text: Any, path: Path) -> bool:
    if type(text) is not str or not text:
        return False
    texts.parts.append(text)
    texts.paths.append(path)
    return True


def _blocks(texts: Texts, blocks: list[Any], prefix: Path) -> None:
    parts, paths = texts.parts, texts.paths
    glue = False  # the block before was a text block of this list, and was collected
    for j, block in enumerate(blocks):
        if type(block) is not dict:
            glue = False
            continue
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            if type(text) is str and text:
                if glue:
                    texts.glued.add(len(parts))
                parts.append(text)
                paths.append((prefix, j, "text"))
                glue = True
            continue
        glue = False
        if kind == "thinking":
            if _add(texts, block.get("thinking"), (prefix, j, "thinking")):
                texts.fixed.add(len(texts.parts) - 1)
        elif kind in _TOOL_USES:
            _leaves(texts, block.get("input"), (prefix, j, "input"))
        elif kind == "tool_result":
            _content(texts, block.get("content"), (prefix, j, "content"))
        elif kind in ("document", "image"):
            _source(texts, block, (prefix, j))
        elif kind == "search_result":
            _add(texts, block.get("title"), (prefix, j, "title"))
            _content(texts, block.get("content"), (prefix, j, "content"))


def _content(texts: Texts, content: Any, path: Path) -> None:
    if type(content) is str:
        _add(texts, content, path)
    elif type(content) is list:
        _blocks(texts, content, path)


def _source(texts: Texts, block: dict[str, Any], path: Path) -> None:
    _add(texts, block.get("title"), (path, "title"))
    _add(texts, block.get("context"), (path, "context"))
    source = block.get("source")
    if type(source) is not dict:
        return
    kind = source.get("type")
    if kind == "text":
        _add(texts, source.get("data"), (path, "source", "data"))
    elif kind == "content":
        _content(texts, source.get("content"), (path, "source", "content"))
    elif kind == "url":
        _add(texts, source.get("url"), (path, "source", "url"))


def _leaves(texts: Texts, value: Any, path: Path) -> None:
    """Every string leaf under ``value``, depth first, without recursion (any nesting)."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if type(node) is str:
            _add(texts, node, where)
            continue
        items = (
            node.items() if type(node) is dict else enumerate(node) if type(node) is list else ()
        )
        nested = []
        for key, child in items:
            if type(child) is str:
                _add(texts, child, (where, key))
            elif type(child) is dict or type(child) is list:
                nested.append((child, (where, key)))
        stack.extend(reversed(nested))


def flat(path: Path) -> tuple[str | int, ...]:
    """``(("messages", 3, "content"), 1, "text")`` -> ``("messages", 3, "content", 1, "text")``."""
    out: list[str | int] = []
    stack: list[Any] = [iter(path)]
    while stack:  # iterative: a tool input may nest thousands deep
        for part in stack[-1]:
            if isinstance(part, tuple):
                stack.append(iter(part))
                break
            out.append(part)
        else:
            stack.pop()
    return tuple(out)


def location(path: Path) -> str:
    """``messages.3.content.1``: the path a finding is reported at (block level for text).

    Keys inside a tool input are shown only when they look like parameter names (letters,
    ``_`` and ``-``, up to 32): a key made of user data could itself be a secret.
    """
    shown: list[str] = []
    in_input = False
    for part in flat(path):
        if isinstance(part, int):
            shown.append(str(part))
        elif in_input and not _is_param_name(part):
            shown.append("*")
        else:
            shown.append(part)
        in_input = in_input or part == "input"
    if shown and shown[-1] in ("text", "thinking"):
        shown.pop()
    if len(shown) > _MAX_DEPTH_SHOWN:  # a deeply nested tool input: say how deep, not where
        return ".".join(shown[:_MAX_DEPTH_SHOWN]) + f"...({len(shown) - _MAX_DEPTH_SHOWN} more)"
    return ".".join(shown)


def _is_param_name(key: str) -> bool:
    return 0 < len(key) <= 32 and all(c.isascii() and (c.isalpha() or c in "_-") for c in key)
