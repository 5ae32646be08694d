"""The C accelerator of the indexer, when it was built: ``lynkr_cli.index._native``.

It parses a file and runs its tags query with the tree-sitter C runtime (vendored in
``native/tree_sitter_core``, the same version py-tree-sitter bundles) and hands back
the extractor's raw rows as tuples, where py-tree-sitter makes one ``Node`` object per
capture for Python code to read. The rows are the same either way (a test compares
the two paths on a real corpus); only the time differs. The module is optional: when
it did not build or does not load, every language keeps the py-tree-sitter path. A
file where a ``#match?`` predicate (a Python regular expression, evaluated as
py-tree-sitter does) would read text that is not plain UTF-8 is parsed by
py-tree-sitter, whose handling of such text is its own. See docs/dependencies.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# What one file gives, as ``extract.py`` spells it: its Symbol, Reference and RawImport
# rows and whether the tree has errors; and the function giving them.
Rows = tuple[
    list[tuple[int, str, str, int, int, int, str, str]],
    list[tuple[int, str, str, int, int, str, str]],
    list[tuple[int, str, int, str | None]],
    bool,
]
Run = Callable[[bytes, int], Rows]

_enabled = True


def set_enabled(enabled: bool) -> None:
    """Use the accelerator (the default) or not: for the tests comparing both paths, and
    the benchmark. Takes effect for languages not loaded yet in this process; the worker
    processes are forked from it, so set it before a build."""
    global _enabled
    _enabled = enabled


def available() -> bool:
    """Whether the accelerator is built and enabled (loads it, not a grammar)."""
    if not _enabled:
        return False
    try:
        importlib.import_module("lynkr_cli.index._native")
    except ImportError:
        return False
    return True


def status() -> str:
    """``native`` or ``python``: which path parses (for ``index stats`` and doctor)."""
    return "native" if available() else "python"


def extractor(
    lang: str,
    roles: Callable[[str], tuple[int, str, bool]],
    members: frozenset[str],
    receivers: bool,
    fallback: Callable[[], Run],
) -> Run | None:
    """The accelerated parse-and-query function for ``lang``, or None: use py-tree-sitter.

    None also when the grammar is missing (the Python path then raises the usual
    :class:`MissingGrammar`) or the query does not load here (the Python path reports
    it the way it always has). ``fallback()`` gives the py-tree-sitter function, for
    the rare file the accelerator hands back (:class:`_native.Unsupported`)."""
    if not available():
        return None
    from lynkr_cli.index import _native
    from lynkr_cli.index.languages import PARSED, query_text

    spec = PARSED[lang]
    try:
        module = importlib.import_module(spec.module)
    except ImportError:
        return None
    try:
        language = getattr(module, spec.factory)()
        accelerated = _native.Extractor(
            language, query_text(spec, module), roles, members, receivers
        )
    except Exception:  # a query this runtime refuses: py-tree-sitter says why, as always
        return None
    unsupported, accelerated_run = _native.Unsupported, accelerated.run

    def run(data: bytes, file_id: int) -> Rows:
        try:
            return accelerated_run(data, file_id)
        except unsupported:
            return fallback()(data, file_id)

    return run
