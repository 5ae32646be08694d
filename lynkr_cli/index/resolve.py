r"""Resolve an import, as written, to a file of the repository where the language allows.

Python modules, relative JavaScript/TypeScript specifiers, Go packages inside
the module (to the package directory, with a trailing ``/``), Rust ``mod`` items
and ``crate::`` paths, C/C++ quoted includes, Java, Kotlin and Scala classes (by
their package path), Ruby requires, Lua ``require`` (``a.b`` -> ``a/b.lua`` or
``a/b/init.lua``), Swift package modules (``import Shop`` -> ``Sources/Shop/``) and
Bash ``source``.

PHP ``use`` and C# ``using`` name namespaces, which resolve only by convention:
a PHP class to the file PSR-4 puts it in (``App\Models\User`` ->
``app/Models/User.php``; the match is case-insensitive, as Laravel's ``App\`` ->
``app/`` needs), a C# namespace to the directory holding it (``MyApp.Services`` ->
``MyApp/Services/``, or ``Services/`` beside ``MyApp.csproj``, whose name is the
default root namespace). Third-party packages stay unresolved.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection

JS_SUFFIXES = ("", ".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs")
JS_INDEXES = ("/index.ts", "/index.tsx", "/index.js", "/index.jsx")


class Resolver:
    """Holds the repository's file set; :meth:`resolve` maps one import to a path."""

    def __init__(self, files: Collection[str], go_module: str = "") -> None:
        self.files = set(files)
        self.dirs = {posixpath.dirname(f) for f in self.files}
        self.go_module = go_module
        self._java: dict[str, str] | None = None
        self._php_map: dict[str, str] | None = None
        self._cs_map: dict[str, str] | None = None
        self._seen: dict[tuple[str, str, str], str | None] = {}
        self._handlers: dict[str, Callable[[str, str], str | None]] = {
            "python": self._python,
            "javascript": self._js,
            "typescript": self._js,
            "tsx": self._js,
            "go": self._go,
            "rust": self._rust,
            "c": self._c,
            "cpp": self._c,
            "java": self._java_class,
            "ruby": self._ruby,
            "bash": self._bash,
            "php": self._php,
            "csharp": self._csharp,
            "kotlin": self._java_class,
            "scala": self._scala,
            "lua": self._lua,
            "swift": self._swift,
        }

    def resolve(self, lang: str, source: str, text: str) -> str | None:
        """Cached: an import resolves the same from every file of a folder (Rust's ``mod``
        alone also depends on the file's name): ``import os`` in 300 files is one look-up."""
        where = source if lang == "rust" else posixpath.dirname(source)
        key = (lang, where, text)
        if key not in self._seen:
            handler = self._handlers.get(lang)
            self._seen[key] = handler(source, text.strip()) if handler else None
        return self._seen[key]

    def _first(self, candidates: list[str]) -> str | None:
        for candidate in candidates:
            path = posixpath.normpath(candidate)
            if path in self.files:
                return path
        return None

    def _python(self, source: str, text: str) -> str | None:
        dots = len(text) - len(text.lstrip("."))
        parts = [p for p in text[dots:].split(".") if p]
        if dots:
            base = posixpath.dirname(source)
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            bases = [base]
        else:
            bases = ["", "src", "lib", posixpath.dirname(source)]
        files = self.files
        # "a.b.c" may name a module or a name inside a.b: try the longest prefix first.
        for end in range(len(parts), 0, -1):
            stem = "/".join(parts[:end])
            for base in bases:
                prefix = f"{base}/{stem}" if base else stem
                if prefix + ".py" in files:
                    return prefix + ".py"
                if prefix + "/__init__.py" in files:
                    return prefix + "/__init__.py"
        if dots and not parts:
            init = f"{bases[0]}/__init__.py" if bases[0] else "__init__.py"
            return init if init in files else None
        return None

    def _js(self, source: str, text: str) -> str | None:
        if not text.startswith("."):
            return None
        base = posixpath.join(posixpath.dirname(source), text)
        return self._first([base + s for s in JS_SUFFIXES] + [base + i for i in JS_INDEXES])

    def _go(self, source: str, text: str) -> str | None:
        path = text.strip('"`')
        if not self.go_module or not (
            path == self.go_module or path.startswith(self.go_module + "/")
        ):
            return None
        rel = path[len(self.go_module) :].lstrip("/")
        return rel + "/" if rel in self.dirs else None

    def _rust(self, source: str, text: str) -> str | None:
        directory = posixpath.dirname(source)
        stem = posixpath.basename(source).removesuffix(".rs")
        if "::" not in text and " " not in text and "{" not in text:
            # `mod name;` is a sibling file, or a file in the module's own directory.
            base = directory if stem in ("lib", "main", "mod") else posixpath.join(directory, stem)
            return self._first([f"{base}/{text}.rs", f"{base}/{text}/mod.rs"])
        if not text.startswith("crate::"):
            return None
        parts = text.removeprefix("crate::").split("::")
        crate_src = directory.split("/src", 1)[0] + "/src" if "/src" in "/" + directory else "src"
        crate_src = crate_src.lstrip("/")
        for end in range(len(parts), 0, -1):
            stem_path = posixpath.join(crate_src, *parts[:end])
            found = self._first([stem_path + ".rs", stem_path + "/mod.rs"])
            if found:
                return found
        return None

    def _c(self, source: str, text: str) -> str | None:
        name = text.strip('"<>')
        bases = [posixpath.dirname(source), "", "include", "src"]
        if text.startswith("<"):
            bases = ["include", "", "src"]
        return self._first([posixpath.join(b, name) for b in bases])

    def _java_class(self, source: str, text: str) -> str | None:
        if self._java is None:
            self._java = {}
            for path in sorted(self.files):
                stem, dot, ext = path.rpartition(".")
                if dot and ext in ("java", "kt", "scala"):
                    # a/b/src/main/java/com/x/Y.java is reachable as com.x.Y (and suffixes).
                    parts = stem.split("/")
                    for start in range(len(parts)):
                        self._java.setdefault(".".join(parts[start:]), path)
        return self._java.get(text.removeprefix("static ").removesuffix(".*"))

    def _scala(self, source: str, text: str) -> str | None:
        """``import a.b.C``, ``import a.b.{C, D}``, ``import a.b._``: the first class."""
        path = text.removeprefix("import").strip().split("{", 1)[0].split(",", 1)[0]
        path = path.strip().removesuffix(".").removesuffix("._").removesuffix(".*")
        return self._java_class(source, path.replace(" ", "")) if path else None

    def _lua(self, source: str, text: str) -> str | None:
        stem = text.strip("\"'").replace(".", "/")
        bases = ["", "lua", "src", posixpath.dirname(source)]
        return self._first(
            [posixpath.join(b, stem + tail) for b in bases for tail in (".lua", "/init.lua")]
        )

    def _swift(self, source: str, text: str) -> str | None:
        """A module of this Swift package: its ``Sources/<name>/`` directory."""
        folder = f"Sources/{text.strip()}"
        return (
            folder + "/"
            if folder in self.dirs or any(d.startswith(folder + "/") for d in self.dirs)
            else None
        )

    def _php(self, source: str, text: str) -> str | None:
        if self._php_map is None:
            self._php_map = {}
            for path in sorted(self.files):
                if path.endswith(".php"):
                    parts = path[:-4].lower().split("/")
                    for start in range(len(parts)):
                        self._php_map.setdefault("/".join(parts[start:]), path)
        name = text.split(" as ", 1)[0].strip().lstrip("\\")
        return self._php_map.get(name.replace("\\", "/").lower()) if name else None

    def _csharp(self, source: str, text: str) -> str | None:
        if self._cs_map is None:
            self._cs_map = {}
            cs_dirs = sorted({posixpath.dirname(f) for f in self.files if f.endswith(".cs")})
            for directory in cs_dirs:
                parts = directory.split("/") if directory else []
                for start in range(len(parts)):
                    self._cs_map.setdefault(".".join(parts[start:]), directory + "/")
            # A project's default root namespace is its .csproj's name: MyApp.csproj in
            # src/ makes src/Services hold MyApp.Services.
            for project in sorted(f for f in self.files if f.endswith(".csproj")):
                base = posixpath.dirname(project)
                root_ns = posixpath.basename(project)[: -len(".csproj")]
                for directory in cs_dirs:
                    if directory == base or directory.startswith(base + "/") or not base:
                        rest = directory[len(base) :].strip("/")
                        key = f"{root_ns}.{rest.replace('/', '.')}" if rest else root_ns
                        self._cs_map.setdefault(key, directory + "/" if directory else "./")
        name = text.removeprefix("static ").split("=")[-1].strip()
        return self._cs_map.get(name)

    def _ruby(self, source: str, text: str) -> str | None:
        name = text if text.endswith(".rb") else text + ".rb"
        return self._first([posixpath.join(posixpath.dirname(source), name), "lib/" + name, name])

    def _bash(self, source: str, text: str) -> str | None:
        name = text.strip("\"'")
        return self._first([posixpath.join(posixpath.dirname(source), name), name])


def go_module_path(go_mod_text: str) -> str:
    """The ``module`` line of a go.mod file."""
    for line in go_mod_text.splitlines():
        words = line.split("//", 1)[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"')
    return ""
