"""Which languages the index knows, their grammar wheels, and their tags queries.

Tags queries follow aider's convention: definitions are ``name.definition.<kind>``
captures and references ``name.reference.<kind>`` (the wheels' own queries, which
capture ``@name`` beside ``@definition.<kind>``, are read too). A language's query is
the wheel's ``TAGS_QUERY`` where it ships one, plus our ``<lang>-extra.scm`` where it
lacks references; our own ``<lang>.scm`` where the wheel has none; then our
``<lang>-imports.scm`` so a single query pass also finds the imports.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

QUERY_PACKAGE = "lynkr_cli.index.queries"


@dataclass(frozen=True)
class LangSpec:
    """A parseable language: its grammar wheel and how its query is assembled."""

    name: str
    module: str  # import name of the grammar wheel
    package: str  # what to pip install
    factory: str = "language"
    wheel_query: bool = True  # use the wheel's TAGS_QUERY
    own_query: bool = False  # our queries/<name>.scm
    extra_query: bool = False  # our queries/<name>-extra.scm appended
    query_name: str = ""  # file stem of our queries, when not ``name``
    receivers: bool = False  # our query captures every call's @receiver (none: a bare name)

    @property
    def stem(self) -> str:
        return self.query_name or self.name


PARSED: dict[str, LangSpec] = {
    spec.name: spec
    for spec in (
        LangSpec(
            "python",
            "tree_sitter_python",
            "tree-sitter-python",
            wheel_query=False,
            own_query=True,
            extra_query=True,
            receivers=True,
        ),
        LangSpec("javascript", "tree_sitter_javascript", "tree-sitter-javascript"),
        LangSpec(
            "typescript",
            "tree_sitter_typescript",
            "tree-sitter-typescript",
            factory="language_typescript",
            wheel_query=False,
            own_query=True,
        ),
        LangSpec(
            "tsx",
            "tree_sitter_typescript",
            "tree-sitter-typescript",
            factory="language_tsx",
            wheel_query=False,
            own_query=True,
            query_name="typescript",
        ),
        LangSpec("go", "tree_sitter_go", "tree-sitter-go"),
        LangSpec("rust", "tree_sitter_rust", "tree-sitter-rust", extra_query=True),
        LangSpec("java", "tree_sitter_java", "tree-sitter-java"),
        LangSpec("c", "tree_sitter_c", "tree-sitter-c", extra_query=True),
        LangSpec("cpp", "tree_sitter_cpp", "tree-sitter-cpp", extra_query=True),
        LangSpec(
            "csharp",
            "tree_sitter_c_sharp",
            "tree-sitter-c-sharp",
            wheel_query=False,
            own_query=True,
        ),
        LangSpec("ruby", "tree_sitter_ruby", "tree-sitter-ruby"),
        LangSpec(
            "php", "tree_sitter_php", "tree-sitter-php", factory="language_php", extra_query=True
        ),
        LangSpec("bash", "tree_sitter_bash", "tree-sitter-bash", wheel_query=False, own_query=True),
        LangSpec(
            "kotlin", "tree_sitter_kotlin", "tree-sitter-kotlin", wheel_query=False, own_query=True
        ),
        LangSpec(
            "swift", "tree_sitter_swift", "tree-sitter-swift", wheel_query=False, own_query=True
        ),
        LangSpec(
            "scala", "tree_sitter_scala", "tree-sitter-scala", wheel_query=False, own_query=True
        ),
        LangSpec("lua", "tree_sitter_lua", "tree-sitter-lua"),
    )
}

# Extension -> language. Parsed languages map to PARSED keys; the rest only count
# toward the language mix.
EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby",
    ".php": "php",
    ".sh": "bash", ".bash": "bash",
    ".md": "markdown", ".rst": "rst", ".txt": "text",
    ".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".xml": "xml",
    ".html": "html", ".htm": "html", ".css": "css", ".scss": "scss",
    ".sql": "sql", ".kt": "kotlin", ".kts": "kotlin", ".swift": "swift", ".scala": "scala",
    ".sc": "scala",
    ".lua": "lua", ".pl": "perl", ".r": "r", ".dart": "dart", ".ex": "elixir", ".exs": "elixir",
    ".vue": "vue", ".svelte": "svelte", ".gradle": "gradle", ".cfg": "ini", ".ini": "ini",
}  # fmt: skip

FILENAMES: dict[str, str] = {
    "Makefile": "make", "makefile": "make", "GNUmakefile": "make",
    "Dockerfile": "dockerfile", "Rakefile": "ruby", "Gemfile": "ruby",
}  # fmt: skip


def language_for(path: str) -> str | None:
    """The language of a repository-relative path, or None when unknown."""
    name = path.rpartition("/")[2]
    if name in FILENAMES:
        return FILENAMES[name]
    dot = name.rfind(".")
    if dot <= 0:
        return None
    return EXTENSIONS.get(name[dot:].lower())


def read_query_file(name: str) -> str:
    """The text of ``queries/<name>``, or "" when we ship none."""
    from importlib import resources  # only when a grammar loads: planning never needs it

    resource = resources.files(QUERY_PACKAGE).joinpath(name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else ""


def query_text(spec: LangSpec, module: Any) -> str:
    """The tags query for ``spec``: wheel, own and import parts joined."""
    parts: list[str] = []
    wheel = getattr(module, "TAGS_QUERY", None) if spec.wheel_query else None
    if wheel:
        parts.append(wheel)
    if spec.own_query or not wheel:
        parts.append(read_query_file(f"{spec.stem}.scm"))
    if spec.extra_query:
        parts.append(read_query_file(f"{spec.stem}-extra.scm"))
    parts.append(read_query_file(f"{spec.stem}-imports.scm"))
    return "\n".join(part for part in parts if part)


class MissingGrammar(Exception):
    """A grammar wheel is not installed; the message names the package."""


def missing_message(name: str) -> str:
    spec = PARSED[name]
    return (
        f"no grammar for {name}: install the {spec.package} package "
        f"(pip install {spec.package}); its files are counted but not parsed"
    )


def installed(name: str) -> bool:
    """Whether the grammar wheel can be imported, without importing it (cheap)."""
    import importlib.util

    try:
        return importlib.util.find_spec(PARSED[name].module) is not None
    except (ImportError, ValueError):
        return False


@cache
def load(name: str) -> tuple[Any, Any]:
    """``(tree_sitter.Language, tree_sitter.Query)`` for a parsed language.

    Raises MissingGrammar when the wheel is absent.
    """
    import tree_sitter

    spec = PARSED[name]
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise MissingGrammar(missing_message(name)) from exc
    language = tree_sitter.Language(getattr(module, spec.factory)())
    return language, tree_sitter.Query(language, query_text(spec, module))
