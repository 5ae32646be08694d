"""Which definition a reference names, only when the code says so.

A reference is ``name`` or ``receiver.name`` (``extract.py`` stores the receiver's
text and the definition enclosing the reference). It resolves to one definition:

- **a bare name**: the innermost definition of that name in the same file whose scope
  encloses the reference (in Python, methods are not in scope for a bare name);
  else a name the file imports (``from m import name [as local]``, a ``*`` import,
  followed through re-exports), or a top-level definition in a file it imports;
  else, where a package is a directory (Go, Java, Kotlin, Scala, C#, Swift), a
  top-level definition in the same directory; else, in languages without module
  imports (C, C++, Ruby, PHP, Bash, Lua, Rust), the one top-level definition of that
  name in the repository;
- **``self.name``, ``cls.name``, ``this.name``**: the method of the class enclosing
  the reference, in that file;
- **``module.name``**: the module is an import of the file (``import a.b``, ``import
  a.b as m``, ``from pkg import module``, a Go package, ``import * as m``): a
  top-level definition in it;
- **``Class.name``**: ``Class`` is a class the file defines, imports, or (as for
  bare names) shares a package with, or the only one in the repository in languages
  without module imports: the member of that class.

Anything else (``obj.get()``, ``"x".replace()``, ``dataclasses.replace`` when the
standard library is not in the repository) stays unresolved: a wrong link costs more
than a missing one. Several equally good candidates also leave a reference unresolved.

This is computed when asked (``refs``, ``stats``, the repo map), never stored, so
an edit elsewhere never leaves a stale link.
"""

from __future__ import annotations

import posixpath
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lynkr_cli.index.resolve import Resolver

SELF_NAMES = frozenset({"self", "cls", "this", "$this", "@", "Self"})
CLASS_KINDS = frozenset(
    {"class", "interface", "struct", "trait", "enum", "module", "object", "type"}
)
# Languages where a package is a directory: a bare name may come from a sibling file.
PACKAGE_DIRS = frozenset({"go", "java", "kotlin", "scala", "csharp", "swift"})
# Languages whose files name what they import: no repository-wide guess for a bare name.
MODULE_IMPORTS = frozenset({"python", "javascript", "typescript", "tsx"})
FOLLOW_DEPTH = 3  # re-exports followed: ``from .sub import name`` in a package __init__

Def = tuple[int, str, str, int]  # (symbol id, scope, kind, line)


class Links:
    """The repository's definitions and imports, loaded once; :meth:`target` per reference."""

    def __init__(
        self,
        files: Iterable[tuple[int, str, str | None]],
        symbols: Iterable[tuple[int, int, str, str, str, int]],
        imports: Iterable[tuple[int, str, str | None, str]],
    ) -> None:
        """From rows: files ``(id, path, lang)`` (not skipped), symbols ``(id, file, name,
        scope, kind, line)``, imports ``(file, module, target, names)``."""
        self.files: dict[int, tuple[str, str]] = {
            fid: (path, lang or "") for fid, path, lang in files
        }
        self.ids = {path: fid for fid, (path, _) in self.files.items()}
        self.by_dir: dict[str, list[int]] = defaultdict(list)
        for fid, (path, _) in self.files.items():
            self.by_dir[posixpath.dirname(path)].append(fid)
        self.defs: dict[tuple[int, str], list[Def]] = defaultdict(list)
        self.top: dict[str, list[tuple[int, int]]] = defaultdict(list)  # name -> (file, id)
        self.classes: dict[int, set[str]] = defaultdict(set)  # file -> qualified class names
        self.owner: dict[int, tuple[int, int, str]] = {}  # symbol id -> (file, line, name)
        self._add_symbols(symbols)
        self.class_names = {q.rpartition(".")[2] for qs in self.classes.values() for q in qs}
        self._resolver: Resolver | None = None
        self.imported: dict[int, set[int]] = defaultdict(set)  # file -> files it imports
        self.modules: dict[int, dict[str, set[int]]] = defaultdict(dict)  # local -> files
        self.names: dict[int, dict[str, tuple[set[int], str]]] = defaultdict(dict)
        self.stars: dict[int, set[int]] = defaultdict(set)
        self._imports(imports)
        self.cache: dict[tuple[int, str, str, str], int | None] = {}
        # Lazy: what is read from the index as asked (see :meth:`lazy`); None = all here.
        self.conn: sqlite3.Connection | None = None
        self.loaded_names: set[str] = set()
        self.loaded_files: set[int] = set()

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Links:
        """The index's definitions and imports, all read at once (for every reference)."""
        return cls(
            conn.execute("SELECT id, path, lang FROM files WHERE skip IS NULL"),
            conn.execute("SELECT id, file_id, name, scope, kind, line FROM symbols ORDER BY id"),
            conn.execute("SELECT file_id, module, target, names FROM imports"),
        )

    @classmethod
    def lazy(cls, conn: sqlite3.Connection) -> Links:
        """Definitions read name by name and imports file by file, as references ask for
        them: for resolving the references of a few files."""
        links = cls(conn.execute("SELECT id, path, lang FROM files WHERE skip IS NULL"), (), ())
        links.conn = conn
        kinds = ",".join(f"'{kind}'" for kind in sorted(CLASS_KINDS))
        links.class_names = {
            row[0]
            for row in conn.execute(f"SELECT DISTINCT name FROM symbols WHERE kind IN ({kinds})")
        }
        return links

    def _add_symbols(self, rows: Iterable[tuple[int, int, str, str, str, int]]) -> None:
        for sid, fid, name, scope, kind, line in rows:
            self.defs[(fid, name)].append((sid, scope, kind, line))
            self.owner[sid] = (fid, line, name)
            if not scope:
                self.top[name].append((fid, sid))
            if kind in CLASS_KINDS:
                self.classes[fid].add(f"{scope}.{name}" if scope else name)

    def known_names(self) -> set[str] | None:
        """The names a reference can resolve by (defined or bound); None when lazy."""
        if self.conn is not None:
            return None
        names = {name for _, name in self.defs}
        names.update(local for bound in self.names.values() for local in bound)
        return names

    # ------------------------------------------------------------------ lazy reads

    def _defs(self, fid: int, name: str) -> list[Def]:
        self._need_name(name)
        return self.defs.get((fid, name), [])

    def _top(self, name: str) -> list[tuple[int, int]]:
        self._need_name(name)
        return self.top.get(name, [])

    def _need_name(self, name: str) -> None:
        if self.conn is None or name in self.loaded_names:
            return
        self.loaded_names.add(name)
        rows = self.conn.execute(
            "SELECT id, file_id, name, scope, kind, line FROM symbols WHERE name = ? ORDER BY id",
            (name,),
        ).fetchall()
        self._add_symbols(r for r in rows if r[1] in self.files)

    def _classes(self, fid: int) -> set[str]:
        self._need_file(fid)
        return self.classes.get(fid, set())

    def _need_file(self, fid: int) -> None:
        """A file's classes and imports (lazy mode)."""
        if self.conn is None or fid in self.loaded_files:
            return
        self.loaded_files.add(fid)
        kinds = ",".join(f"'{kind}'" for kind in sorted(CLASS_KINDS))
        for name, scope in self.conn.execute(
            f"SELECT name, scope FROM symbols WHERE file_id = ? AND kind IN ({kinds})", (fid,)
        ):
            self.classes[fid].add(f"{scope}.{name}" if scope else name)
        self._imports(
            self.conn.execute(
                "SELECT file_id, module, target, names FROM imports WHERE file_id = ?", (fid,)
            ).fetchall()
        )

    def _bound(self, fid: int) -> dict[str, tuple[set[int], str]]:
        self._need_file(fid)
        return self.names.get(fid, {})

    def _stars(self, fid: int) -> set[int]:
        self._need_file(fid)
        return self.stars.get(fid, set())

    def _imported(self, fid: int) -> set[int]:
        self._need_file(fid)
        return self.imported.get(fid, set())

    def _modules(self, fid: int) -> dict[str, set[int]]:
        self._need_file(fid)
        return self.modules.get(fid, {})

    # ------------------------------------------------------------------ imports

    def _imports(self, rows: Iterable[tuple[int, str, str | None, str]]) -> None:
        for fid, module, target, names in rows:
            if fid not in self.files:
                continue
            path, lang = self.files[fid]
            targets = self._files_of(target)
            self.imported[fid] |= targets
            if lang == "python":
                if self._resolver is None:
                    from lynkr_cli.index.resolve import Resolver

                    self._resolver = Resolver(self.ids)
                self._python_bindings(fid, (path, module, names), targets, self._resolver)
            elif lang == "go" and targets:
                local = names.split("=", 1)[0] if names else module.strip('"`').rsplit("/")[-1]
                self.modules[fid].setdefault(local, set()).update(targets)
            elif names and targets:  # JS/TS ``import * as m``
                for entry in names.split():
                    self.modules[fid].setdefault(entry.split("=", 1)[0], set()).update(targets)
            elif lang == "rust" and targets and module.isidentifier():  # ``mod shapes;``
                self.modules[fid].setdefault(module, set()).update(targets)

    def _files_of(self, target: str | None) -> set[int]:
        if not target:
            return set()
        if target.endswith("/"):  # a Go package or Swift module: every file of the folder
            return set(self.by_dir.get(target.rstrip("/").removeprefix("./"), []))
        found = self.ids.get(target)
        return {found} if found is not None else set()

    def _python_bindings(
        self, fid: int, row: tuple[str, str, str], targets: set[int], resolver: Resolver
    ) -> None:
        """The names one Python import binds; ``row`` = (importing path, module, names)."""
        path, module, names = row
        if not names:  # ``import a.b``: binds ``a.b`` (and ``a``)
            self.modules[fid].setdefault(module, set()).update(targets)
            head = module.split(".", 1)[0]
            if head != module:
                self.modules[fid].setdefault(head, set()).update(
                    self._files_of(resolver.resolve("python", path, head))
                )
            return
        for entry in names.split():
            local, _, remote = entry.partition("=")
            if local == "*":
                self.stars[fid] |= targets
            elif not remote:  # ``import a.b as m``
                self.modules[fid].setdefault(local, set()).update(targets)
            else:
                joined = module + ("" if module.endswith(".") else ".") + remote
                sub = resolver.resolve("python", path, joined)
                stem = remote.rsplit(".", 1)[-1]
                if sub and (sub.endswith(f"/{stem}.py") or sub == f"{stem}.py"
                            or sub.endswith(f"{stem}/__init__.py")):  # fmt: skip
                    self.modules[fid].setdefault(local, set()).update(self._files_of(sub))
                elif targets:
                    self.names[fid][local] = (targets, remote)

    # ------------------------------------------------------------------ resolution

    def target(self, fid: int, name: str, receiver: str, scope: str) -> int | None:
        """The symbol id ``name`` refers to in file ``fid``, or None (see the module doc)."""
        if (
            receiver
            and receiver not in SELF_NAMES
            and receiver not in self.class_names
            and receiver not in self._modules(fid)
        ):
            return None  # ``obj.method()``: nothing says what ``obj`` is
        key = (fid, name, receiver, scope)
        if key in self.cache:
            return self.cache[key]
        found = (
            self._bare(fid, name, scope)
            if not receiver
            else self._member(fid, name, receiver, scope)
        )
        self.cache[key] = found
        return found

    def _bare(self, fid: int, name: str, scope: str) -> int | None:
        lang = self.files[fid][1] if fid in self.files else ""
        found = self._lexical(fid, name, scope, lang)
        if found is not None:
            return found
        found = self._imported_name(fid, name, FOLLOW_DEPTH)
        if found is not None or lang in MODULE_IMPORTS:
            return found
        if lang in PACKAGE_DIRS:
            return self._in_package(fid, name)
        candidates = self._top(name)
        return candidates[0][1] if len(candidates) == 1 else None

    def _lexical(self, fid: int, name: str, scope: str, lang: str) -> int | None:
        best: tuple[int, int] | None = None  # (scope length, symbol id)
        classes = self._classes(fid)
        for sid, def_scope, _, _ in self._defs(fid, name):
            visible = not def_scope or scope == def_scope or scope.startswith(def_scope + ".")
            if not visible or (lang == "python" and def_scope in classes):
                continue
            if best is None or len(def_scope) > best[0]:
                best = (len(def_scope), sid)
        return best[1] if best else None

    def _imported_name(self, fid: int, name: str, depth: int) -> int | None:
        """What ``name`` is bound to by the imports of file ``fid``."""
        bound = self._bound(fid).get(name)
        if bound is not None:
            files, remote = bound
            return self._top_in(files, remote, depth)
        found = self._unique(self._tops(self._stars(fid), name))
        if found is not None or self.files.get(fid, ("", ""))[1] == "python":
            return found  # Python names what it imports: read above
        # Elsewhere the import lists are not read: a top-level definition of an imported file.
        return self._unique(self._tops(self._imported(fid), name))

    def _top_in(self, files: set[int], name: str, depth: int) -> int | None:
        found = self._unique(self._tops(files, name))
        if found is None and depth > 0:  # re-exported: ``from .impl import name``
            for other in sorted(files):
                found = self._imported_name(other, name, depth - 1)
                if found is not None:
                    return found
        return found

    def _tops(self, files: set[int], name: str) -> Iterator[int]:
        for other in files:
            for sid, def_scope, _, _ in self._defs(other, name):
                if not def_scope:
                    yield sid

    def _in_package(self, fid: int, name: str) -> int | None:
        folder = posixpath.dirname(self.files[fid][0])
        return self._unique(self._tops(set(self.by_dir.get(folder, [])), name))

    @staticmethod
    def _unique(found: Iterator[int]) -> int | None:
        first = next(found, None)
        return first if first is not None and next(found, None) is None else None

    def _member(self, fid: int, name: str, receiver: str, scope: str) -> int | None:
        if receiver in SELF_NAMES:
            owner = self._enclosing_class(fid, scope)
            return self._method(fid, owner, name) if owner else None
        modules = self._modules(fid).get(receiver)
        if modules:
            return self._unique(self._tops(modules, name))
        if not receiver.isidentifier():
            return None
        owner_file, owner = self._class_named(fid, receiver)
        return self._method(owner_file, owner, name) if owner else None

    def _enclosing_class(self, fid: int, scope: str) -> str:
        classes = self._classes(fid)
        parts = scope.split(".") if scope else []
        for end in range(len(parts), 0, -1):
            qualified = ".".join(parts[:end])
            if qualified in classes:
                return qualified
        return ""

    def _method(self, fid: int, owner: str, name: str) -> int | None:
        found = [sid for sid, def_scope, _, _ in self._defs(fid, name) if def_scope == owner]
        return found[0] if found else None

    def _class_named(self, fid: int, name: str) -> tuple[int, str]:
        """(file, qualified name) of the class ``name`` as seen from file ``fid``."""
        if name not in self.class_names:  # most receivers: a local variable, a parameter
            return 0, ""
        for qualified in sorted(self._classes(fid)):
            if qualified == name or qualified.endswith("." + name):
                return fid, qualified
        lang = self.files.get(fid, ("", ""))[1]
        sid = self._imported_name(fid, name, FOLLOW_DEPTH)
        if sid is None and lang in PACKAGE_DIRS:
            sid = self._in_package(fid, name)
        if sid is None and lang not in MODULE_IMPORTS and lang not in PACKAGE_DIRS:
            candidates = [s for f, s in self._top(name) if name in self._classes(f)]
            sid = candidates[0] if len(candidates) == 1 else None
        if sid is None:
            return 0, ""
        owner = self._file_of(sid, name)
        return (owner, name) if owner and name in self._classes(owner) else (0, "")

    def _file_of(self, sid: int, name: str) -> int:
        return self.owner.get(sid, (0, 0, ""))[0]

    def where(self, sid: int) -> tuple[str, int] | None:
        """(path, line) of a symbol id."""
        fid, line, _ = self.owner.get(sid, (0, 0, ""))
        return (self.files[fid][0], line) if fid in self.files else None

    def grouped(self, conn: sqlite3.Connection) -> Iterator[tuple[int, str, int | None, int]]:
        """(file, name, target symbol id or None, uses) for every distinct reference."""
        rows = conn.execute(
            "SELECT file_id, name, receiver, scope, count(*) FROM refs GROUP BY 1, 2, 3, 4"
        )
        for fid, name, receiver, scope, count in rows:
            yield fid, name, self.target(fid, name, receiver, scope), count


def resolved_by_file(links: Links, refs: Iterable[tuple[int, str, str, str]]) -> dict[int, int]:
    """file id -> how many of ``refs`` ``(file, name, receiver, scope)`` resolve.

    Only names some definition carries can resolve: the others (builtins, methods of
    library objects) are passed over without a look-up.
    """
    counts: dict[int, int] = defaultdict(int)
    defined = links.known_names()
    target = links.target
    if defined is None:  # lazy: target() reads what each reference needs
        for fid, name, receiver, scope in refs:
            if target(fid, name, receiver, scope) is not None:
                counts[fid] += 1
        return counts
    # Everything is loaded: target()'s first test (``obj.method()`` on an unknown ``obj``)
    # is made here, without two calls per reference.
    modules, classes = links.modules, links.class_names
    empty: dict[str, set[int]] = {}
    for fid, name, receiver, scope in refs:
        if name not in defined:
            continue
        if (
            receiver
            and receiver not in SELF_NAMES
            and receiver not in classes
            and receiver not in modules.get(fid, empty)
        ):
            continue
        if target(fid, name, receiver, scope) is not None:
            counts[fid] += 1
    return counts
