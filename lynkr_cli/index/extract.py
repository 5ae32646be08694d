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
# (file_id, name, kind, line, col, receiver, scope): receiver is the text before the dot
# of ``recv.name()`` ("" for a bare name), scope the qualified name of the innermost
# definition holding the reference ("" at the top level)
Reference = tuple[int, str, str, int, int, str, str]
# (module text, line, names): names are space-separated ``local=remote`` bindings (see
# :func:`_import`)
Import = tuple[str, int, str]
# (path, status, size, mtime_ns, hash, symbols, references, imports, note)
# status: "ok" | "same" (content hash unchanged) | "skip" (note = reason) | "error" (note = why)
Result = tuple[str, str, int, int, str, list[Symbol], list[Reference], list[Import], str]
# (path, lang, stored hash or "", file id to use)
Task = tuple[str, str, str, int]

SNIFF_BYTES = 8192
SIGNATURE_MAX = 160
RECEIVER_MAX = 80
_IGNORED_CAPTURES = frozenset({"doc", "ignore", "local.scope"})
# The node holding ``receiver.name`` when the name node is its last part, by grammar:
# its first named child is the receiver. (Swift's name sits one level deeper.)
MEMBER_NODES = frozenset(
    {"attribute", "member_expression", "selector_expression", "field_expression",
     "scoped_identifier", "qualified_identifier", "method_invocation", "member_access_expression",
     "call", "member_call_expression", "scoped_call_expression", "navigation_expression",
     "dot_index_expression", "method_index_expression", "scoped_property_access_expression",
     "nullsafe_member_call_expression"}
)  # fmt: skip

_root = ""


def init_worker(root: str) -> None:
    """Pool initializer: remember the repository root (paths travel relative).

    The cyclic garbage collector is switched off in workers: parsing allocates
    hundreds of thousands of short-lived, acyclic objects per file (nodes, tuples),
    which reference counting frees, so each collection pass is pure overhead.

    Ctrl-C is the parent's to handle: a terminal sends SIGINT to the whole process
    group, and a worker taking it would print its own traceback
    (``Process ForkPoolWorker-1: ... KeyboardInterrupt``). The parent stops the pool.
    """
    import gc
    import signal

    global _root
    _root = root
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked while forking
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
    if size > 4096 and _newlines_below(head, -(-len(head) // 400)):
        return "minified"
    return ""


def _newlines_below(data: bytes, needed: int) -> bool:
    """Whether ``data`` holds fewer than ``needed`` newlines. Real source has them every
    few dozen bytes, so a prefix usually settles it without reading the whole file."""
    if data.count(b"\n", 0, needed * 64) >= needed:
        return False
    return data.count(b"\n") < needed


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
    out = _Out(data, file_id, lang in _RECEIVERS)
    _collect(cursor.matches(tree.root_node), out)
    symbols, refs = _symbols(out.defs, out.refs, data, file_id)
    imports = [(text, line, " ".join(names)) for text, line, names in out.imports.values()]
    return symbols, refs, imports, tree.root_node.has_error


# One parser and one query cursor per language and process, reused file after file.
_tools: dict[str, tuple[Any, Any]] = {}
_RECEIVERS: set[str] = set()  # languages whose query captures receivers itself


def _make_tools(lang: str) -> tuple[Any, Any]:
    import tree_sitter

    from lynkr_cli.index.languages import PARSED, load

    language, query = load(lang)
    found = _tools[lang] = (tree_sitter.Parser(language), tree_sitter.QueryCursor(query))
    if PARSED[lang].receivers:
        _RECEIVERS.add(lang)
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

    __slots__ = ("data", "defs", "file_id", "imports", "receivers", "refs")

    def __init__(self, data: bytes, file_id: int, receivers: bool = False) -> None:
        self.data = data
        self.file_id = file_id
        self.receivers = receivers  # the query captures them: no walking up the tree
        self.defs: list[tuple[int, int, str, str, Any]] = []
        self.refs: list[tuple[int, str, str, int, int, str]] = []
        self.imports: dict[int, tuple[str, int, list[str]]] = {}  # by the module node's start


def _collect(matches: list[tuple[int, dict[str, list[Any]]]], out: _Out) -> None:
    """Turn query matches into rows. The hot loop of the indexer: names bound locally."""
    data = out.data
    add_ref, add_def = out.refs.append, out.defs.append
    roles, members, own_receivers = _ROLES, MEMBER_NODES, out.receivers
    for _, captures in matches:
        name_nodes = captures.get("name")
        for key, nodes in captures.items():
            role, kind, aider = roles.get(key) or _role(key)
            if role == 0:
                continue
            if role == 3:
                _import(nodes[0], captures, out)
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
                if own_receivers:
                    found = captures.get("receiver")
                    receiver = _node_text(found[0], data) if found else ""
                else:
                    receiver = _walked_receiver(name_node, start, data, members)
                add_ref((start, name, kind, row + 1, col + 1, receiver))
            else:
                outer = name_node.parent if aider else nodes[0]
                add_def((outer.start_byte, outer.end_byte, name, kind, (row, col, outer)))


def _walked_receiver(name_node: Any, start: int, data: bytes, members: frozenset[str]) -> str:
    """The receiver of a reference, found from its name node's parent (by grammar)."""
    parent = name_node.parent
    if parent is not None and parent.type == "navigation_suffix":
        parent = parent.parent
    if parent is None or parent.type not in members:
        return ""
    return _receiver(parent, start, data)


def _node_text(node: Any, data: bytes) -> str:
    start, end = node.start_byte, node.end_byte
    if end - start > RECEIVER_MAX:
        return "…"
    return data[start:end].decode("utf-8", "replace")


def _receiver(member: Any, name_start: int, data: bytes) -> str:
    """The text of the receiver in ``receiver.name``: the member node's first named child,
    when the name is not that child itself ("" then, as for a bare name)."""
    first = member.named_child(0)
    if first is None or first.start_byte == name_start:
        return ""
    start, end = first.start_byte, first.end_byte
    if end - start > RECEIVER_MAX:
        return "…"  # a long expression: not a name anything can be resolved through
    return data[start:end].decode("utf-8", "replace")


def _import(node: Any, captures: dict[str, list[Any]], out: _Out) -> None:
    """One import: several matches of one statement add their bindings to one row.

    Bindings, space-separated: ``local=`` binds the module itself (``import a.b as c``:
    ``c=``), ``local=remote`` a name taken from it (``from m import x as y``: ``y=x``),
    ``*=*`` everything. A plain ``import a.b`` has none: the module binds its own name.
    """
    data = out.data
    entry = out.imports.get(node.start_byte)
    if entry is None:
        text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        entry = out.imports[node.start_byte] = (text, node.start_point[0] + 1, [])
    names, alias = captures.get("import.name"), captures.get("import.alias")
    local = alias[0] if alias else None
    if "import.star" in captures:
        entry[2].append("*=*")
    elif names:
        remote = data[names[0].start_byte : names[0].end_byte].decode("utf-8", "replace")
        bound = (
            data[local.start_byte : local.end_byte].decode("utf-8", "replace") if local else remote
        )
        entry[2].append(f"{bound}={remote}")
    elif local is not None:
        entry[2].append(data[local.start_byte : local.end_byte].decode("utf-8", "replace") + "=")


def _symbols(
    defs: list[tuple[int, int, str, str, Any]],
    raw_refs: list[tuple[int, str, str, int, int, str]],
    data: bytes,
    file_id: int,
) -> tuple[list[Symbol], list[Reference]]:
    """Attach the enclosing definition and the signature line to each definition, and
    the enclosing definition to each reference (both swept in byte order)."""
    defs = _dedupe(defs)
    defs.sort(key=lambda d: (d[0], -d[1]))
    raw_refs.sort()
    stack: list[tuple[int, str]] = []  # (end byte, qualified name)
    out: list[Symbol] = []
    refs: list[Reference] = []
    into = (refs, file_id, {(row + 1, col + 1) for _, _, _, _, (row, col, _) in defs})
    at = 0
    for start, end, name, kind, (row, col, outer) in defs:
        at = _scope_refs(raw_refs, at, start, stack, into)
        while stack and stack[-1][0] <= start:
            stack.pop()
        scope = stack[-1][1] if stack else ""
        end_line = outer.end_point[0] + 1
        out.append(
            (file_id, name, kind, row + 1, col + 1, end_line, scope, _signature(data, start))
        )
        stack.append((end, f"{scope}.{name}" if scope else name))
    _scope_refs(raw_refs, at, len(data) + 1, stack, into)
    return out, refs


def _scope_refs(
    raw: list[tuple[int, str, str, int, int, str]],
    at: int,
    until: int,
    stack: list[tuple[int, str]],
    into: tuple[list[Reference], int, set[tuple[int, int]]],
) -> int:
    """Give the references from ``at`` up to byte ``until`` their enclosing definition,
    appending them to ``into`` = (rows, file id, the definitions' name positions); a
    reference matched by two patterns, or sitting on a definition's name, is dropped."""
    refs, file_id, names_at = into
    count = len(raw)
    previous = -1
    while at < count and raw[at][0] < until:
        start, name, kind, line, col, receiver = raw[at]
        at += 1
        if start == previous or (line, col) in names_at:
            continue  # matched twice, or a definition's own name
        previous = start
        while stack and stack[-1][0] <= start:
            stack.pop()
        refs.append((file_id, name, kind, line, col, receiver, stack[-1][1] if stack else ""))
    return at


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
