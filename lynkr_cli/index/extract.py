"""Parse one file and pull out its definitions, references and imports.

This runs inside the worker processes, so what crosses the process boundary is
kept small: tasks are ``(path, lang, old_hash)`` tuples and results are plain
tuples (:data:`Result`), never tree-sitter objects.
"""

from __future__ import annotations

import os
from typing import Any

# (file_id, name, kind, line, col, end_line, scope, signature): rows ready for executemany
Symbol = tuple[int, str, str, int, int, int, str, str]
# (file_id, name, kind, line, col)
Reference = tuple[int, str, str, int, int]
# (module text, line)
Import = tuple[str, int]
# (path, status, size, mtime_ns, hash, symbols, references, imports, note)
# status: "ok" | "same" (content hash unchanged) | "skip" (note = reason) | "error" (note = why)
Result = tuple[str, str, int, int, str, list[Symbol], list[Reference], list[Import], str]
# (path, lang, stored hash or "", file id to use)
Task = tuple[str, str, str, int]

SNIFF_BYTES = 8192
SIGNATURE_MAX = 160
_IGNORED_CAPTURES = frozenset({"doc", "ignore", "local.scope"})

_root = ""


def init_worker(root: str) -> None:
    """Pool initializer: remember the repository root (paths travel relative).

    The cyclic garbage collector is switched off in workers: parsing allocates
    hundreds of thousands of short-lived, acyclic objects per file (nodes, tuples),
    which reference counting frees, so each collection pass is pure overhead.
    """
    import gc

    global _root
    _root = root
    gc.disable()


def content_hash(data: bytes) -> str:
    import hashlib  # here: the planning-only fast path never hashes

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def sniff_skip(path: str, head: bytes, size: int) -> str:
    """Why a file's content says it should not be indexed, or ""."""
    if b"\0" in head[:SNIFF_BYTES]:
        return "binary"
    top = head[:1024]
    if b"@generated" in top or b"DO NOT EDIT" in top or b"Code generated" in top:
        return "generated"
    # Minified code has almost no newlines; real source rarely averages 400+ chars a line.
    if size > 4096 and head.count(b"\n") * 400 < len(head):
        return "minified"
    return ""


def extract_many(tasks: list[Task]) -> list[Result]:
    """Worker entry point: one result per task, in order."""
    return [extract_file(_root, *task) for task in tasks]


def extract_file(root: str, path: str, lang: str, old_hash: str, file_id: int = 0) -> Result:
    """Read, hash and parse ``root/path``; never raises for bad input."""
    try:
        with open(os.path.join(root, path), "rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as exc:
        return (path, "error", 0, 0, "", [], [], [], _os_problem(exc))
    size, mtime = len(data), info.st_mtime_ns
    digest = content_hash(data)
    if digest == old_hash:
        return (path, "same", size, mtime, digest, [], [], [], "")
    reason = sniff_skip(path, data, size)
    if reason:
        return (path, "skip", size, mtime, digest, [], [], [], reason)
    try:
        symbols, refs, imports, broken = parse(lang, data, file_id)
    except Exception as exc:  # a grammar bug must not take the whole run down
        return (path, "error", size, mtime, digest, [], [], [], f"parser failed: {exc!r}")
    return (path, "ok", size, mtime, digest, symbols, refs, imports, "syntax" if broken else "")


def _os_problem(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "vanished"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "unreadable"
    return f"unreadable: {exc.strerror}"


def parse(
    lang: str, data: bytes, file_id: int = 0
) -> tuple[list[Symbol], list[Reference], list[Import], bool]:
    """Symbols, references and imports of ``data``; tree-sitter recovers what it can."""
    parser, cursor = _tools.get(lang) or _make_tools(lang)
    tree = parser.parse(data)
    out = _Out(data, file_id)
    _collect(cursor.matches(tree.root_node), out)
    return _symbols(out.defs, data, file_id), out.refs, out.imports, tree.root_node.has_error


# One parser and one query cursor per language and process, reused file after file.
_tools: dict[str, tuple[Any, Any]] = {}


def _make_tools(lang: str) -> tuple[Any, Any]:
    import tree_sitter

    from lynkr_cli.index.languages import load

    language, query = load(lang)
    found = _tools[lang] = (tree_sitter.Parser(language), tree_sitter.QueryCursor(query))
    return found


# What a capture name means: (role, kind, aider style); role 0 = ignore, 1 = definition,
# 2 = reference, 3 = import. Cached, since the same few names recur in every match.
_ROLES: dict[str, tuple[int, str, bool]] = {}


def _role(key: str) -> tuple[int, str, bool]:
    found = _ROLES.get(key)
    if found is None:
        head, _, kind = key.rpartition(".")
        aider = head.startswith("name.")
        head = head[5:] if aider else head
        role = {"definition": 1, "reference": 2}.get(head, 0)
        if key == "import":
            role = 3
        if key in _IGNORED_CAPTURES or key.startswith("_"):
            role = 0
        found = _ROLES[key] = (role, kind, aider)
    return found


class _Out:
    """What one file yields, filled match by match."""

    __slots__ = ("data", "defs", "file_id", "imports", "refs")

    def __init__(self, data: bytes, file_id: int) -> None:
        self.data = data
        self.file_id = file_id
        self.defs: list[tuple[int, int, str, str, Any]] = []
        self.refs: list[Reference] = []
        self.imports: list[Import] = []


def _collect(matches: list[tuple[int, dict[str, list[Any]]]], out: _Out) -> None:
    """Turn query matches into rows. The hot loop of the indexer: names bound locally."""
    data, file_id = out.data, out.file_id
    add_ref, add_def, add_import = out.refs.append, out.defs.append, out.imports.append
    roles = _ROLES
    for _, captures in matches:
        name_nodes = captures.get("name")
        for key, nodes in captures.items():
            role, kind, aider = roles.get(key) or _role(key)
            if role == 0:
                continue
            if role == 3:
                node = nodes[0]
                text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
                add_import((text, node.start_point[0] + 1))
                continue
            if aider:  # the capture is the name itself
                name_node = nodes[0]
            elif name_nodes:  # wheel style: @name beside @definition.kind on the outer node
                name_node = name_nodes[0]
            else:
                continue
            start, end = name_node.start_byte, name_node.end_byte
            if end - start > 200:
                continue
            name = data[start:end].decode("utf-8", "replace")
            row, col = name_node.start_point
            if role == 2:
                add_ref((file_id, name, kind, row + 1, col + 1))
            else:
                outer = name_node.parent if aider else nodes[0]
                add_def((outer.start_byte, outer.end_byte, name, kind, (row, col, outer)))


def _symbols(defs: list[tuple[int, int, str, str, Any]], data: bytes, file_id: int) -> list[Symbol]:
    """Attach the enclosing definition and the signature line to each definition."""
    defs = _dedupe(defs)
    defs.sort(key=lambda d: (d[0], -d[1]))
    stack: list[tuple[int, str]] = []  # (end byte, qualified name)
    out: list[Symbol] = []
    for start, end, name, kind, (row, col, outer) in defs:
        while stack and stack[-1][0] <= start:
            stack.pop()
        scope = stack[-1][1] if stack else ""
        end_line = outer.end_point[0] + 1
        out.append(
            (file_id, name, kind, row + 1, col + 1, end_line, scope, _signature(data, start))
        )
        stack.append((end, f"{scope}.{name}" if scope else name))
    return out


def _dedupe(defs: list[tuple[int, int, str, str, Any]]) -> list[tuple[int, int, str, str, Any]]:
    """One definition per name position: two patterns may match the same name
    (``f = lambda: 0`` at module level is a constant and a function); the more
    specific kind wins over ``constant``."""
    by_position: dict[tuple[int, int], tuple[int, int, str, str, Any]] = {}
    for entry in defs:
        position = entry[4][:2]
        kept = by_position.get(position)
        if kept is None or kept[3] == "constant":
            by_position[position] = entry
    return list(by_position.values())


def _signature(data: bytes, start: int) -> str:
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", start)
    if line_end < 0:
        line_end = len(data)
    line = data[line_start : min(line_end, line_start + SIGNATURE_MAX * 2)]
    return line.decode("utf-8", "replace").strip()[:SIGNATURE_MAX]
