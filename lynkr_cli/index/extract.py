"""Parse one file and pull out its definitions, references and imports.

This runs inside the worker processes, so what crosses the process boundary is
kept small: tasks are ``(path, lang, old_hash)`` tuples and results are plain
tuples (:data:`Result`), never tree-sitter objects.
"""

from __future__ import annotations

import os
from typing import Any

from lynkr_cli.index import native

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
    """Symbols, references and imports of ``data``; tree-sitter recovers what it can.

    The tree is parsed and queried by the C accelerator (``index/native.py``) when it
    loaded for ``lang``, else by py-tree-sitter here: the same rows either way."""
    symbols, refs, raw_imports, broken = prepare(lang)(data, file_id)
    return symbols, refs, _imports(raw_imports), broken


# (outer start byte, outer end byte, name, kind, row, column, end line): a definition
# before its scope and signature are known
RawDef = tuple[int, int, str, str, int, int, int]
# (start byte, name, kind, line, column, receiver)
RawRef = tuple[int, str, str, int, int, str]
# (statement start byte, statement text, line, binding or None): one match of an import
RawImport = tuple[int, str, int, str | None]
Rows = native.Rows  # (symbols, references, import matches, has_error)
Run = native.Run

# One parse-and-query function per language and process, reused file after file.
_tools: dict[str, Run] = {}
_fallback: dict[str, Run] = {}  # py-tree-sitter's, where the accelerator is not used


def prepare(lang: str) -> Run:
    """This process's parse-and-query function for ``lang``, made on first use. Raises
    :class:`~lynkr_cli.index.languages.MissingGrammar` when the grammar is missing."""
    return _tools.get(lang) or _make_tools(lang)


def _make_tools(lang: str) -> Run:
    from lynkr_cli.index.languages import PARSED

    receivers = PARSED[lang].receivers

    def fallback() -> Run:
        found = _fallback.get(lang)
        if found is None:
            found = _fallback[lang] = _python_tools(lang, receivers)
        return found

    found = native.extractor(lang, _role, MEMBER_NODES, receivers, fallback) or fallback()
    _tools[lang] = found
    return found


def _python_tools(lang: str, receivers: bool) -> Run:
    """The pure-Python path: py-tree-sitter's parser and query cursor."""
    import tree_sitter

    from lynkr_cli.index.languages import load

    language, query = load(lang)
    parser, cursor = tree_sitter.Parser(language), tree_sitter.QueryCursor(query)

    def run(data: bytes, file_id: int) -> Rows:
        tree = parser.parse(data)
        out = _Out(data, receivers)
        _collect(cursor.matches(tree.root_node), out)
        symbols, refs = _symbols(out.defs, out.refs, data, file_id)
        return symbols, refs, out.imports, tree.root_node.has_error

    return run


def _imports(raw: list[RawImport]) -> list[Import]:
    """One row per import statement: its matches' bindings joined (see :func:`_import`)."""
    by_start: dict[int, tuple[str, int, list[str]]] = {}
    for start, text, line, binding in raw:
        entry = by_start.get(start)
        if entry is None:
            entry = by_start[start] = (text, line, [])
        if binding is not None:
            entry[2].append(binding)
    return [(text, line, " ".join(names)) for text, line, names in by_start.values()]


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

    __slots__ = ("data", "defs", "imports", "receivers", "refs")

    def __init__(self, data: bytes, receivers: bool = False) -> None:
        self.data = data
        self.receivers = receivers  # the query captures them: no walking up the tree
        self.defs: list[RawDef] = []
        self.refs: list[RawRef] = []
        self.imports: list[RawImport] = []


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
                outer_start = outer.start_byte
                add_def((outer_start, outer.end_byte, name, kind, row, col, outer.end_point[0] + 1))


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
    """One match of an import statement; the matches of one statement make one row.

    Bindings, space-separated: ``local=`` binds the module itself (``import a.b as c``:
    ``c=``), ``local=remote`` a name taken from it (``from m import x as y``: ``y=x``),
    ``*=*`` everything. A plain ``import a.b`` has none: the module binds its own name.
    """
    data = out.data
    text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
    names, alias = captures.get("import.name"), captures.get("import.alias")
    local = alias[0] if alias else None
    binding: str | None = None
    if "import.star" in captures:
        binding = "*=*"
    elif names:
        remote = data[names[0].start_byte : names[0].end_byte].decode("utf-8", "replace")
        bound = (
            data[local.start_byte : local.end_byte].decode("utf-8", "replace") if local else remote
        )
        binding = f"{bound}={remote}"
    elif local is not None:
        binding = data[local.start_byte : local.end_byte].decode("utf-8", "replace") + "="
    out.imports.append((node.start_byte, text, node.start_point[0] + 1, binding))


def _symbols(
    defs: list[RawDef],
    raw_refs: list[RawRef],
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
    into = (refs, file_id, {(row + 1, col + 1) for _, _, _, _, row, col, _ in defs})
    at = 0
    for start, end, name, kind, row, col, end_line in defs:
        at = _scope_refs(raw_refs, at, start, stack, into)
        while stack and stack[-1][0] <= start:
            stack.pop()
        scope = stack[-1][1] if stack else ""
        out.append(
            (file_id, name, kind, row + 1, col + 1, end_line, scope, _signature(data, start))
        )
        stack.append((end, f"{scope}.{name}" if scope else name))
    _scope_refs(raw_refs, at, len(data) + 1, stack, into)
    return out, refs


def _scope_refs(
    raw: list[RawRef],
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


def _dedupe(defs: list[RawDef]) -> list[RawDef]:
    """One definition per name position: two patterns may match the same name
    (``f = lambda: 0`` at module level is a constant and a function); the more
    specific kind wins over ``constant``."""
    by_position: dict[tuple[int, int], RawDef] = {}
    for entry in defs:
        position = (entry[4], entry[5])
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
