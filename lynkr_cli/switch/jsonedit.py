"""Strict JSON with positions, and edits that change only the members they name.

``lynkr switch`` edits files other programs own (Claude Code's settings, ``~/.claude.json``,
``.mcp.json``, Claude Desktop's config). A parse and dump would rewrite every value it
did not mean to touch: ``"\\u00e9"`` becomes ``"é"``, ``"\\/"`` becomes ``"/"``, ``1e10``
becomes ``10000000000.0``, a compact ``{"a":1}`` is spread over lines. So the file is read
into a tree of *spans* (where each member and value starts and ends), and an edit
replaces, inserts or removes only the members it names. Every other byte is copied.

Reading is strict, as RFC 8259 and I-JSON are: ``NaN``/``Infinity``, a lone surrogate
escape (``"\\ud800"``), comments, trailing commas and anything after the value are
refused, with the line and column. A key the edit depends on that appears twice in
its object is refused as well: Claude Code (``JSON.parse``) keeps the last, and lynkr
will not guess which one the user meant.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

MAX_DEPTH = 200  # deeper nesting is refused rather than risking Python's recursion limit
BOM = "\ufeff"

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")
_SCALAR = (
    rf"(?:{_STRING.pattern}|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
    r"|true|false|null)"
)
# An array of scalars in one regex call (permission lists, args): the common case, fast.
_FLAT_ARRAY = re.compile(
    rf"\[[ \t\n\r]*(?:{_SCALAR}(?:[ \t\n\r]*,[ \t\n\r]*{_SCALAR})*)?[ \t\n\r]*\]"
)
_LITERALS = ("true", "false", "null")
_NOT_JSON = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}


class JsonError(ValueError):
    """Invalid JSON (or an edit the file makes ambiguous), with where it was found."""

    def __init__(self, message: str, text: str, pos: int) -> None:
        self.message = message
        self.pos = pos
        self.line = text.count("\n", 0, pos) + 1
        start = text.rfind("\n", 0, pos) + 1
        self.column = pos - start + 1 - (1 if start == 0 and text.startswith(BOM) else 0)
        super().__init__(f"line {self.line}, column {self.column}: {message}")


class NotAnObject(ValueError):
    """A member the edit must go through holds something other than an object."""

    def __init__(self, path: Sequence[str], kind: str) -> None:
        self.path = tuple(path)
        self.kind = kind
        super().__init__(f"'{'.'.join(path)}' is a JSON {kind}, not an object")


@dataclass(slots=True)
class Node:
    kind: str  # object | array | string | number | literal
    start: int
    end: int
    members: list[Member] | None = None


@dataclass(slots=True)
class Member:
    key: str
    key_start: int
    key_end: int
    value: Node


# --------------------------------------------------------------------------- reading


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, pos: int) -> JsonError:
        return JsonError(message, self.text, pos)

    def ws(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def document(self) -> Node:
        start = self.ws(1 if self.text.startswith(BOM) else 0)
        if start >= len(self.text):
            raise self.fail("the file holds no JSON value", start)
        node = self.value(start, 0)
        end = self.ws(node.end)
        if end < len(self.text):
            raise self.fail("unexpected data after the JSON value", end)
        return node

    def value(self, pos: int, depth: int) -> Node:
        text = self.text
        char = text[pos] if pos < len(text) else ""
        if char == "{":
            return self.obj(pos, depth + 1)
        if char == "[":
            return self.array(pos, depth + 1)
        if char == '"':
            return Node("string", pos, self.string(pos))
        match = _NUMBER.match(text, pos)
        if match and (char == "-" or char.isdigit()):
            return Node("number", pos, match.end())
        for word in _LITERALS:
            if text.startswith(word, pos):
                return Node("literal", pos, pos + len(word))
        for word, shown in _NOT_JSON.items():
            if text.startswith(word, pos):
                raise self.fail(f"{shown} is not valid JSON (only finite numbers are)", pos)
        if char == "":
            raise self.fail("the JSON ends too early", pos)
        if char == "/":
            raise self.fail("comments are not valid JSON", pos)
        raise self.fail(f"unexpected character {char!r}", pos)

    def string(self, pos: int) -> int:
        """The end of the string token at ``pos``; refuses bad escapes and lone surrogates."""
        match = _STRING.match(self.text, pos)
        if match is None:
            raise self._string_error(pos)
        end = match.end()
        if "\\u" in self.text[pos:end]:
            self._check_surrogates(pos, end)
        return end

    def _string_error(self, pos: int) -> JsonError:
        text, at = self.text, pos + 1
        while at < len(text):
            char = text[at]
            if char == "\\":
                if not re.match(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})', text[at : at + 6]):
                    return self.fail("invalid escape in a string", at)
                at += 2
                continue
            if char < " ":
                return self.fail("control character in a string (escape it)", at)
            at += 1
        return self.fail("unterminated string", pos)

    def _check_surrogates(self, start: int, end: int) -> None:
        pending = -1  # offset of a high surrogate waiting for its low half
        pending_end = -1
        for match in _ESCAPE.finditer(self.text, start + 1, end - 1):
            code = int(match.group(1), 16) if match.group(1) else -1
            if pending >= 0 and not (0xDC00 <= code <= 0xDFFF and match.start() == pending_end):
                break
            if 0xDC00 <= code <= 0xDFFF and pending < 0:
                raise self.fail(
                    "lone surrogate escape in a string (not valid I-JSON)", match.start()
                )
            if 0xD800 <= code <= 0xDBFF:
                pending, pending_end = match.start(), match.end()
            else:
                pending = -1
        if pending >= 0:
            raise self.fail("lone surrogate escape in a string (not valid I-JSON)", pending)

    def obj(self, pos: int, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", pos)
        text = self.text
        members: list[Member] = []
        at = self.ws(pos + 1)
        if text.startswith("}", at):
            return Node("object", pos, at + 1, members)
        while True:
            if not text.startswith('"', at):
                what = "a trailing comma" if members and text.startswith("}", at) else "a key"
                raise self.fail(f"expected a string key, found {what}", at)
            key_end = self.string(at)
            colon = self.ws(key_end)
            if not text.startswith(":", colon):
                raise self.fail("expected ':' after an object key", colon)
            value = self.value(self.ws(colon + 1), depth)
            members.append(Member(_decode_key(text, at, key_end), at, key_end, value))
            at = self.ws(value.end)
            if text.startswith(",", at):
                at = self.ws(at + 1)
                continue
            if text.startswith("}", at):
                return Node("object", pos, at + 1, members)
            raise self.fail("expected ',' or '}' after an object member", at)

    def array(self, pos: int, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels", pos)
        text = self.text
        flat = _FLAT_ARRAY.match(text, pos)
        if flat is not None and "\\u" not in flat.group():
            return Node("array", pos, flat.end())  # no surrogate escape to check
        at = self.ws(pos + 1)
        if text.startswith("]", at):
            return Node("array", pos, at + 1)
        while True:
            if text.startswith("]", at):
                raise self.fail("a trailing comma is not valid JSON", at)
            at = self.ws(self.value(at, depth).end)
            if text.startswith(",", at):
                at = self.ws(at + 1)
                continue
            if text.startswith("]", at):
                return Node("array", pos, at + 1)
            raise self.fail("expected ',' or ']' after an array item", at)


def _decode_key(text: str, start: int, end: int) -> str:
    raw = text[start + 1 : end - 1]
    return str(json.loads(text[start:end])) if "\\" in raw else raw


def parse(text: str) -> Node:
    """The root node of ``text`` (a leading BOM is allowed); raises :class:`JsonError`."""
    return _Parser(text).document()


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def loads(text: str) -> Any:
    """The value of ``text``, exactly as strict as :func:`parse`, at the C parser's speed.

    Python's ``json`` accepts NaN/Infinity and lone surrogate escapes; those, and any
    error, go through :func:`parse` for the refusal with its line and column.
    """
    try:
        value = json.loads(text.removeprefix(BOM), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        parse(text)  # raises JsonError with the position
        raise  # pragma: no cover - parse() refuses everything json.loads does
    if _SURROGATE.search(text):
        parse(text)
    return value


def value_of(text: str, node: Node) -> Any:
    """The Python value of a node already validated by :func:`parse`."""
    return json.loads(text[node.start : node.end])


def member(text: str, obj: Node, key: str) -> Member | None:
    """The member ``key`` of ``obj``; a key that appears twice is refused."""
    found = [m for m in obj.members or [] if m.key == key]
    if len(found) > 1:
        raise JsonError(
            f"the key {key!r} appears {len(found)} times in one object; "
            "Claude Code would use the last one, lynkr will not guess",
            text,
            found[1].key_start,
        )
    return found[0] if found else None


def find(text: str, root: Node, path: Sequence[str]) -> Node | None:
    """The node at ``path`` (object keys); None when a key is missing."""
    node = root
    for depth, key in enumerate(path):
        if node.kind != "object":
            raise NotAnObject(path[:depth], node.kind)
        found = member(text, node, key)
        if found is None:
            return None
        node = found.value
    return node


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """How the file is written, so inserted text looks like its neighbours."""

    eol: str = "\n"
    unit: str = "  "
    compact: bool = False
    colon: str = ": "
    comma: str = ", "


def layout_of(text: str, root: Node) -> Layout:
    eol = "\r\n" if "\r\n" in text else "\n"
    unit = "  "
    for line in text.splitlines()[1:]:
        lead = line[: len(line) - len(line.lstrip(" \t"))]
        if lead and line.strip():
            unit = lead
            break
    members = root.members or []
    compact = bool(members) and "\n" not in text[root.start : root.end]
    colon, comma = ": ", ", "
    if members:
        colon = text[members[0].key_end : members[0].value.start]
        comma = "," if colon == ":" else ", "
    if compact and len(members) > 1:
        comma = text[members[0].value.end : members[1].key_start]
    return Layout(eol, unit, compact, colon, comma)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def render(value: Any, indent: str, layout: Layout) -> str:
    """``value`` as JSON text placed at ``indent`` in a file of ``layout``."""
    if layout.compact:
        return json.dumps(value, ensure_ascii=False, separators=(layout.comma, layout.colon))
    out = json.dumps(value, ensure_ascii=False, indent=layout.unit, separators=(",", layout.colon))
    return out.replace("\n", layout.eol + indent)


def render_document(value: Mapping[str, Any]) -> str:
    """A new file: two-space indent and a final newline, as Claude Code writes them."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- editing


def update(
    text: str | None,
    path: Sequence[str],
    changes: Mapping[str, Any],
    remove: Iterable[str] = (),
    *,
    root: Node | None = None,
) -> str:
    """Set ``changes`` and drop ``remove`` in the object at ``path``, bytes elsewhere kept.

    Missing objects along ``path`` are created (only when there is something to set).
    A member whose value already equals the change keeps its original text. New members
    go after the last member changed in place, else where the first removed one was,
    else first, so a diff shows them beside lynkr's other keys.
    """
    gone = set(remove) - set(changes)
    if text is None or not text.strip(" \t\r\n" + BOM):
        if not changes:
            return text or ""
        return _bom(text) + render_document(_nest(path, dict(changes)))
    root = root or parse(text)
    if root.kind != "object":
        raise NotAnObject((), root.kind)
    layout = layout_of(text, root)
    for depth in range(len(path) + 1):
        node = find(text, root, path[: len(path) - depth])
        if node is None:
            continue
        if node.kind != "object":
            raise NotAnObject(path[: len(path) - depth], node.kind)
        if depth == 0:
            return _edit_object(text, node, changes, gone, layout)
        if not changes:
            return text  # nothing to remove from an object that does not exist
        missing = path[len(path) - depth :]
        nested = _nest(missing[1:], dict(changes))
        return _edit_object(text, node, {missing[0]: nested}, set(), layout)
    raise AssertionError("the root always exists")  # pragma: no cover


def _bom(text: str | None) -> str:
    return BOM if text and text.startswith(BOM) else ""


def _nest(path: Sequence[str], leaf: dict[str, Any]) -> dict[str, Any]:
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


@dataclass
class _Item:
    text: str
    sep: str | None  # the separator that followed it in the file, if it was not last


def _edit_object(
    text: str, obj: Node, changes: Mapping[str, Any], gone: set[str], layout: Layout
) -> str:
    members = obj.members or []
    for key in set(changes) | gone:
        member(text, obj, key)  # refuses duplicates of a key we edit
    if members and "\n" not in text[obj.start : obj.end]:
        layout = replace(layout, compact=True, comma=_default_sep(text, members, layout, ""))
    indent = _member_indent(text, obj, layout)
    items: list[_Item] = []
    insert_at: int | None = None
    first_removed: int | None = None
    edited = False
    for index, item in enumerate(members):
        sep = (
            text[item.value.end : members[index + 1].key_start]
            if index + 1 < len(members)
            else None
        )
        if item.key in gone:
            first_removed = len(items) if first_removed is None else first_removed
            edited = True
            continue
        body = text[item.key_start : item.value.end]
        if item.key in changes:
            insert_at = len(items) + 1
            new = changes[item.key]
            if value_of(text, item.value) != new:
                edited = True
                rendered = render(new, _line_indent(text, item.key_start), layout)
                body = text[item.key_start : item.value.start] + rendered
        items.append(_Item(body, sep))
    present = {m.key for m in members}
    added = [
        _Item(f"{json.dumps(k, ensure_ascii=False)}{layout.colon}{render(v, indent, layout)}", None)
        for k, v in changes.items()
        if k not in present
    ]
    if not added and not edited:
        return text
    at = insert_at if insert_at is not None else first_removed or 0
    items[at:at] = added
    inner = _join(text, obj, items, layout, indent)
    return text[: obj.start + 1] + inner + text[obj.end - 1 :]


def _member_indent(text: str, obj: Node, layout: Layout) -> str:
    members = obj.members or []
    if members and "\n" in text[obj.start : members[0].key_start]:
        return _line_indent(text, members[0].key_start)
    return _line_indent(text, obj.start) + layout.unit


def _join(text: str, obj: Node, items: list[_Item], layout: Layout, indent: str) -> str:
    if not items:
        return ""
    members = obj.members or []
    if members:
        lead = text[obj.start + 1 : members[0].key_start]
        trail = text[members[-1].value.end : obj.end - 1]
    elif layout.compact:
        lead = trail = ""
    else:
        lead = layout.eol + indent
        trail = layout.eol + _line_indent(text, obj.start)
    default = _default_sep(text, members, layout, indent)
    out = [lead]
    for index, item in enumerate(items):
        out.append(item.text)
        if index + 1 < len(items):
            out.append(item.sep if item.sep is not None else default)
    out.append(trail)
    return "".join(out)


def _default_sep(text: str, members: list[Member], layout: Layout, indent: str) -> str:
    if len(members) > 1:
        return text[members[-2].value.end : members[-1].key_start]
    if members and not _spans_lines(text, members[0].key_start):
        return layout.comma
    return "," + layout.eol + indent


def _spans_lines(text: str, key_start: int) -> bool:
    """Whether the first member of an object starts on a line of its own."""
    opening = text.rfind("{", 0, key_start)
    return "\n" in text[opening:key_start]
