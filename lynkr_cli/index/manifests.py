"""One reader per manifest format: bytes in, every dependency out.

Each reader returns ``[{"name", "version", "scope"}]`` and raises ValueError on a
file it cannot parse. ``go.mod`` and Gradle build scripts have no parser on PyPI
that we can use offline, so they get small tokenizers that follow the grammar
(directives and blocks for go.mod; configuration calls inside ``dependencies {}``
for Gradle) rather than searching the text.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

Dep = dict[str, str]


def _dep(name: str, version: str = "", scope: str = "runtime") -> Dep:
    return {"name": name, "version": version, "scope": scope}


def _json(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    return doc


def _toml(data: bytes) -> dict[str, Any]:
    try:
        import tomllib  # here, not at import: most runs read no manifest

        return tomllib.loads(data.decode("utf-8", "replace"))
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ValueError(f"invalid TOML: {exc}") from exc


def package_json(data: bytes) -> list[Dep]:
    doc = _json(data)
    scopes = {"dependencies": "runtime", "devDependencies": "dev",
              "peerDependencies": "peer", "optionalDependencies": "optional"}  # fmt: skip
    return [
        _dep(name, str(version), scope)
        for key, scope in scopes.items()
        for name, version in (doc.get(key) or {}).items()
    ]


def composer_json(data: bytes) -> list[Dep]:
    doc = _json(data)
    return [
        _dep(name, str(version), scope)
        for key, scope in (("require", "runtime"), ("require-dev", "dev"))
        for name, version in (doc.get(key) or {}).items()
    ]


def _requirement(text: str, scope: str) -> Dep | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return _dep(req.name, str(req.specifier), scope)


def pyproject(data: bytes) -> list[Dep]:
    doc = _toml(data)
    project = doc.get("project") or {}
    out = [d for t in project.get("dependencies") or [] if (d := _requirement(t, "runtime"))]
    for extra, reqs in (project.get("optional-dependencies") or {}).items():
        out += [d for t in reqs if (d := _requirement(t, f"extra:{extra}"))]
    for group, reqs in (doc.get("dependency-groups") or {}).items():
        out += [d for t in reqs if isinstance(t, str) and (d := _requirement(t, f"group:{group}"))]
    poetry = (doc.get("tool") or {}).get("poetry") or {}
    out += _poetry_table(poetry.get("dependencies") or {}, "runtime")
    out += _poetry_table(poetry.get("dev-dependencies") or {}, "dev")
    for group, table in (poetry.get("group") or {}).items():
        out += _poetry_table((table or {}).get("dependencies") or {}, f"group:{group}")
    return out


def _poetry_table(table: dict[str, Any], scope: str) -> list[Dep]:
    return [
        _dep(name, spec if isinstance(spec, str) else str(spec.get("version", "")), scope)
        for name, spec in table.items()
        if name.lower() != "python"
    ]


def requirements_txt(data: bytes) -> list[Dep]:
    out = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http://", "https://")):
            continue  # options (-r, -e, --index-url) and direct URLs name no package
        dep = _requirement(line, "runtime")
        if dep:
            out.append(dep)
    return out


def cargo_toml(data: bytes) -> list[Dep]:
    doc = _toml(data)
    tables = [("dependencies", "runtime"), ("dev-dependencies", "dev"),
              ("build-dependencies", "build")]  # fmt: skip
    out = []
    for key, scope in tables:
        out += _cargo_table(doc.get(key) or {}, scope)
        out += _cargo_table(((doc.get("workspace") or {}).get(key)) or {}, scope)
        for target in (doc.get("target") or {}).values():
            out += _cargo_table((target or {}).get(key) or {}, scope)
    return out


def _cargo_table(table: dict[str, Any], scope: str) -> list[Dep]:
    return [
        _dep(name, spec if isinstance(spec, str) else str(spec.get("version", "")), scope)
        for name, spec in table.items()
    ]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def pom_xml(data: bytes) -> list[Dep]:
    try:
        from xml.etree import ElementTree

        root = ElementTree.fromstring(data)
    except SyntaxError as exc:  # ElementTree.ParseError
        raise ValueError(f"invalid XML: {exc}") from exc
    out = []
    for element in root.iter():
        if _local(element.tag) != "dependency":
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in element}
        if "artifactId" in fields:
            name = f"{fields.get('groupId', '')}:{fields['artifactId']}".lstrip(":")
            out.append(_dep(name, fields.get("version", ""), fields.get("scope", "compile")))
    return out


def csproj(data: bytes) -> list[Dep]:
    try:
        from xml.etree import ElementTree

        root = ElementTree.fromstring(data)
    except SyntaxError as exc:  # ElementTree.ParseError
        raise ValueError(f"invalid XML: {exc}") from exc
    out = []
    for element in root.iter():
        tag = _local(element.tag)
        if tag in ("PackageReference", "FrameworkReference"):
            name = element.get("Include") or element.get("Update") or ""
            version = element.get("Version") or ""
            for child in element:
                if _local(child.tag) == "Version":
                    version = (child.text or "").strip()
            if name:
                out.append(_dep(name, version, "framework" if tag[0] == "F" else "runtime"))
    return out


def go_mod(data: bytes) -> list[Dep]:
    out: list[Dep] = []
    block = ""
    for raw in data.decode("utf-8", "replace").splitlines():
        words = raw.split("//", 1)[0].split()
        indirect = "indirect" in raw.split("//", 1)[1] if "//" in raw else False
        if not words:
            continue
        if block:
            if words == [")"]:
                block = ""
            elif block == "require" and len(words) >= 2:
                out.append(_dep(words[0], words[1], "indirect" if indirect else "runtime"))
            continue
        if words[0] == "require":
            if words[1:] == ["("]:
                block = "require"
            elif len(words) >= 3:
                out.append(_dep(words[1], words[2], "indirect" if indirect else "runtime"))
        elif len(words) == 2 and words[1] == "(":
            block = words[0]  # replace/exclude/retract blocks: skipped
    return out


GRADLE_CONFIGS = {
    "implementation": "runtime", "api": "runtime", "compileOnly": "compile",
    "runtimeOnly": "runtime", "testImplementation": "test", "testRuntimeOnly": "test",
    "testCompileOnly": "test", "annotationProcessor": "build", "kapt": "build",
    "compile": "runtime", "testCompile": "test", "classpath": "build",
}  # fmt: skip


def gradle(data: bytes) -> list[Dep]:
    """Configuration calls with a ``group:name:version`` string inside ``dependencies {}``."""
    text = data.decode("utf-8", "replace")
    out = []
    for body in _blocks(text, "dependencies"):
        for line in body.splitlines():
            stripped = line.strip()
            config = stripped.split("(", 1)[0].split(" ", 1)[0].strip()
            if config not in GRADLE_CONFIGS:
                continue
            coordinate = _first_string(stripped[len(config) :])
            if coordinate and coordinate.count(":") >= 1:
                group, _, rest = coordinate.partition(":")
                name, _, version = rest.partition(":")
                out.append(_dep(f"{group}:{name}", version, GRADLE_CONFIGS[config]))
    return out


def _blocks(text: str, keyword: str) -> list[str]:
    """Bodies of ``keyword { ... }`` blocks, braces balanced."""
    bodies = []
    start = 0
    while (at := text.find(keyword, start)) >= 0:
        brace = text.find("{", at + len(keyword))
        start = at + len(keyword)
        if brace < 0 or text[at + len(keyword) : brace].strip():
            continue
        depth, pos = 0, brace
        while pos < len(text):
            depth += {"{": 1, "}": -1}.get(text[pos], 0)
            if depth == 0:
                break
            pos += 1
        bodies.append(text[brace + 1 : pos])
        start = pos
    return bodies


def _first_string(text: str) -> str:
    try:
        tokens = shlex.split(text.replace("(", " ").replace(")", " "), posix=True)
    except ValueError:
        return ""
    return tokens[0] if tokens else ""


def gemfile(data: bytes) -> list[Dep]:
    """``gem "name", "version"`` calls, read from the Ruby syntax tree."""
    import tree_sitter

    from lynkr_cli.index.languages import load

    language, _ = load("ruby")
    tree = tree_sitter.Parser(language).parse(data)
    out = []
    stack = [(tree.root_node, "runtime")]
    while stack:
        node, scope = stack.pop()
        if node.type == "call" and _call_name(node) == "group":
            scope = _group_scope(node) or scope
        if node.type == "call" and _call_name(node) == "gem":
            strings = _string_args(node)
            if strings:
                out.append(_dep(strings[0], ", ".join(strings[1:]), scope))
        stack.extend((child, scope) for child in reversed(node.children))
    return out


def _call_name(node: Any) -> str:
    method = node.child_by_field_name("method")
    return method.text.decode() if method is not None and method.text else ""


def _string_args(node: Any) -> list[str]:
    args = node.child_by_field_name("arguments")
    if args is None:
        return []
    out = []
    for child in args.named_children:
        if child.type == "string":
            out.append("".join(c.text.decode() for c in child.named_children if c.text))
    return out


def _group_scope(node: Any) -> str:
    args = node.child_by_field_name("arguments")
    if args is None:
        return ""
    names = [c.text.decode().lstrip(":") for c in args.named_children if c.text]
    return "group:" + ",".join(names) if names else ""
