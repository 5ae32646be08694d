"""Packages talk through their facades, and no two files import each other.

The rule (docs/architecture.md, "Facades and the import rule"):

- A *package* is a directory under ``lynkr_cli/`` (``git``, ``index``, ``serve`` ...);
  its subpackages (``serve/tools``) belong to it. The top-level modules
  (``settings``, ``errors``, ``registry`` ...) are *shared*: everyone's.
- Outside package ``P``, only ``P``'s public modules may be imported: ``lynkr_cli.P.api``
  and what ``PUBLIC`` adds. Nothing else of ``P``, the package's ``__init__`` included.
- Nobody imports a name starting with ``_`` from a module of another package or from a
  shared module (dunders such as ``__version__`` are public).
- No cycle between files: the strongly connected components of the module graph all
  have one module.

Every ``import`` counts, the ones inside functions too (they are still dependencies,
only later), and so do ``importlib.import_module("lynkr_cli...")`` and
``sys.modules[...]`` lookups with a literal name, and ``module._name`` on a module
imported whole. Imports under ``if TYPE_CHECKING:`` count for both rules: they never
run, but the two files still cannot be read, typed or changed apart. A type-only
cycle is broken the way a run-time one is (move the type down, or type the parameter
with a Protocol), never by hiding the import.

Run ``python tests/core/test_architecture.py [ROOT]`` to print the figures.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = "lynkr_cli"

# Modules of a package that other packages may import besides its ``api.py``, and why.
PUBLIC: dict[str, dict[str, str]] = {
    "git": {
        f"{TOP}.git.secrets": "the secret detectors: serve's tools and team redact with them, "
        "and a module of their own keeps them out of `lynkr git status`'s start-up",
    },
    "guard": {
        f"{TOP}.guard.kinds": "the detector and mode names: settings validates `[guard] kinds` "
        "with them on every command, without loading the scanning engine (RE2)",
    },
}

# Known violations, each saying what removes it; the lead empties this list. A new entry
# needs a reason here and in docs/architecture.md, and the change that removes it.
ALLOWED: dict[tuple[str, str], str] = {}

# Cycles known, each saying what removes it.
ALLOWED_CYCLES: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of lynkr_cli
    name: str | None  # the name taken from it, None for ``import target``
    line: int
    type_only: bool


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / TOP).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _literal_module(node: ast.AST) -> str | None:
    """The name in ``importlib.import_module("x")``, ``sys.modules["x"]``/``.get("x")``."""
    arg: ast.expr | None = None
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"import_module", "get"}:
            owner = func.value
            if func.attr == "import_module" or (
                isinstance(owner, ast.Attribute) and owner.attr == "modules"
            ):
                arg = node.args[0]
    elif (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "modules"
    ):
        arg = node.slice
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value if arg.value.startswith(TOP + ".") else None
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self, importer: str, is_package: bool, known: set[str]) -> None:
        self.importer = importer
        self.package = importer if is_package else importer.rpartition(".")[0]
        self.known = known
        self.type_only = False
        self.found: list[Import] = []
        self.aliases: dict[str, str] = {}  # local name -> the lynkr module it is bound to

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            saved, self.type_only = self.type_only, True
            for child in node.body:
                self.visit(child)
            self.type_only = saved
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str, name: str | None, node: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        self.found.append(Import(self.importer, target, name, line, self.type_only))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == TOP:
                self._add(self._deepest(alias.name), None, node)
                if alias.asname:
                    self.aliases[alias.asname] = self._deepest(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        if base.split(".")[0] != TOP:
            return
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in self.known:
                self._add(sub, None, node)
                self.aliases[alias.asname or alias.name] = sub
            else:
                self._add(self._deepest(base), alias.name, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # ``conflicts._helper`` on a module imported whole is a private name all the same.
        value = node.value
        if isinstance(value, ast.Name) and value.id in self.aliases and _private(node.attr):
            self._add(self.aliases[value.id], node.attr, node)
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        target = _literal_module(node)
        if target is not None:
            self._add(self._deepest(target), None, node)
        super().generic_visit(node)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        return f"{base}.{node.module}" if node.module else base

    def _deepest(self, name: str) -> str:
        """The longest prefix of ``name`` that is a module (``a.b.attr`` -> ``a.b``)."""
        while name and name not in self.known:
            name = name.rpartition(".")[0]
        return name or TOP


def imports(root: Path = ROOT) -> list[Import]:
    found = modules(root)
    known = set(found)
    out: list[Import] = []
    for name, path in found.items():
        collector = _Collector(name, path.name == "__init__.py", known)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out.extend(i for i in collector.found if i.target != name)
    return out


def owner(module: str, packages: set[str]) -> str:
    """The package a module belongs to, or ``""`` for a shared top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in packages else ""


def packages(root: Path = ROOT) -> set[str]:
    return {p.parent.name for p in (root / TOP).glob("*/__init__.py")}


def is_public(target: str, package: str) -> bool:
    return target == f"{TOP}.{package}.api" or target in PUBLIC.get(package, {})


def private_imports(found: list[Import], pkgs: set[str]) -> list[Import]:
    """Imports that reach into another package, or take a private name from elsewhere."""
    bad = []
    for imp in found:
        mine, theirs = owner(imp.importer, pkgs), owner(imp.target, pkgs)
        if theirs == mine and theirs:
            continue  # inside one package anything goes
        private_name = imp.name is not None and _private(imp.name)
        if private_name or (theirs and not is_public(imp.target, theirs)):
            bad.append(imp)
    return bad


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def cycles(found: list[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        graph.setdefault(imp.importer, set()).add(imp.target)
    return [sorted(c) for c in _components(graph) if len(c) > 1]


def _components(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                yield from visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            yield component

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def _describe(imp: Import) -> str:
    what = f"{imp.target}.{imp.name}" if imp.name else imp.target
    kind = " (TYPE_CHECKING)" if imp.type_only else ""
    return f"{imp.importer}:{imp.line} imports {what}{kind}"


def _key(imp: Import) -> tuple[str, str]:
    return (imp.importer, f"{imp.target}.{imp.name}" if imp.name else imp.target)


def report(root: Path = ROOT) -> tuple[list[list[str]], list[Import]]:
    found = imports(root)
    return cycles(found), private_imports(found, packages(root))


def test_no_cycle_between_files() -> None:
    found, _ = report()
    unexpected = [c for c in found if tuple(c) not in ALLOWED_CYCLES]
    assert not unexpected, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in unexpected)


def test_packages_import_each_other_only_through_their_facades() -> None:
    _, bad = report()
    unexpected = [_describe(i) for i in bad if _key(i) not in ALLOWED]
    assert not unexpected, "cross-package private imports:\n" + "\n".join(unexpected)


def test_allowed_exceptions_are_still_needed() -> None:
    found, bad = report()
    stale = set(ALLOWED) - {_key(i) for i in bad}
    assert not stale, f"remove these from ALLOWED, the import is gone: {sorted(stale)}"
    gone = set(ALLOWED_CYCLES) - {tuple(c) for c in found}
    assert not gone, f"remove these from ALLOWED_CYCLES, the cycle is gone: {sorted(gone)}"


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    found_cycles, bad = report(root)
    for component in found_cycles:
        allowed = "  [allowed]" if tuple(component) in ALLOWED_CYCLES else ""
        print("cycle:", " <-> ".join(component) + allowed)
    for imp in bad:
        allowed = "  [allowed]" if _key(imp) in ALLOWED else ""
        print("private:", _describe(imp) + allowed)
    modules_in_cycles = sum(len(c) for c in found_cycles)
    allowed_count = sum(1 for i in bad if _key(i) in ALLOWED)
    allowed_cycles = sum(1 for c in found_cycles if tuple(c) in ALLOWED_CYCLES)
    print(
        f"{len(found_cycles)} cycles ({modules_in_cycles} modules; {allowed_cycles} allowed), "
        f"{len(bad)} cross-package private imports ({allowed_count} allowed)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"lynkr_cli/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_check_sees_what_it_promises(tmp_path: Path) -> None:
    """A fake tree with one of each violation: the check is not vacuous."""
    root = _tree(
        tmp_path,
        {
            "lynkr_cli/shared.py": "def _hidden(): ...\n",
            "lynkr_cli/a/__init__.py": "",
            "lynkr_cli/a/api.py": "def ok(): ...\n_secret = 1\n",
            "lynkr_cli/a/inner.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from lynkr_cli.a.other import T\n"
            ),
            "lynkr_cli/a/other.py": "def f():\n    from lynkr_cli.a import inner\nT = int\n",
            "lynkr_cli/b/__init__.py": "",
            "lynkr_cli/b/use.py": (
                "import sys\n"
                "from lynkr_cli.a.api import ok, _secret\n"
                "from lynkr_cli.shared import _hidden\n"
                "from lynkr_cli.a import inner as alias\n"
                "from lynkr_cli.a import api\n"
                "def g():\n    return api._secret, sys.modules.get('lynkr_cli.a.other')\n"
            ),
        },
    )
    found_cycles, bad = report(root)
    assert found_cycles == [["lynkr_cli.a.inner", "lynkr_cli.a.other"]]
    assert sorted(_describe(i).split(":", 1)[1] for i in bad) == [
        "2 imports lynkr_cli.a.api._secret",
        "3 imports lynkr_cli.shared._hidden",
        "4 imports lynkr_cli.a.inner",
        "7 imports lynkr_cli.a.api._secret",
        "7 imports lynkr_cli.a.other",
    ]


def test_every_facade_exports_what_it_lists() -> None:
    import importlib

    facades = sorted(m for m in modules() if m.endswith(".api") and m.count(".") == 2)
    assert {f.split(".")[1] for f in facades} >= {"doctor", "git", "index", "mcp", "switch"}
    for name in facades:
        module = importlib.import_module(name)
        for exported in getattr(module, "__all__", ()):
            assert getattr(module, exported) is not None, f"{name}.{exported}"


def test_completion_facades_stay_light() -> None:
    """Shell completion imports switch.api and mcp.api: neither loads the heavy parts."""
    import subprocess

    code = (
        "import sys, lynkr_cli.switch.api, lynkr_cli.mcp.api\n"
        "heavy = ['lynkr_cli.switch.conflicts', 'lynkr_cli.switch.probe', "
        "'lynkr_cli.mcp.pool', 'lynkr_cli.mcp.client', 'mcp', 'aiohttp']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
