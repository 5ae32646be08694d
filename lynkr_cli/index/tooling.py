"""Turn lint, format, test and build configuration into the exact commands to run.

Everything is read from files at the repository root (and CI workflows), with
the same parsers as the manifests. The result maps a purpose (``test``, ``lint``,
``format``, ``build``) to commands in the order a person would try them; CI
``run:`` steps are listed under ``ci``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # configparser and tomllib load when a file needs them
    import configparser

PURPOSES = ("test", "lint", "format", "build")


class _Found:
    def __init__(self) -> None:
        self.commands: dict[str, list[str]] = {p: [] for p in (*PURPOSES, "ci")}

    def add(self, purpose: str, command: str) -> None:
        if command not in self.commands[purpose]:
            self.commands[purpose].append(command)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _read_ini(path: Path) -> configparser.ConfigParser:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        pass
    return parser


def discover_commands(root: Path, files: list[str]) -> dict[str, list[str]]:
    """``{"test": [...], "lint": [...], "format": [...], "build": [...], "ci": [...]}``."""
    top = {f for f in files if "/" not in f}
    found = _Found()
    for detector in DETECTORS:
        detector(root, top, found)
    _ci(root, files, found)
    return found.commands


def _python(root: Path, top: set[str], found: _Found) -> None:
    doc = _read_toml(root / "pyproject.toml") if "pyproject.toml" in top else {}
    tool = doc.get("tool") or {}
    setup_cfg = _read_ini(root / "setup.cfg") if "setup.cfg" in top else None
    tox_ini = _read_ini(root / "tox.ini") if "tox.ini" in top else None
    run = "uv run " if "uv.lock" in top else "poetry run " if "poetry.lock" in top else ""
    has_py = "pyproject.toml" in top or "setup.py" in top or "setup.cfg" in top
    if (
        "pytest.ini" in top
        or "conftest.py" in top
        or "pytest" in (tool.get("pytest") or {})
        or ("ini_options" in (tool.get("pytest") or {}))
        or (setup_cfg is not None and setup_cfg.has_section("tool:pytest"))
        or (tox_ini is not None and tox_ini.has_section("pytest"))
    ):
        found.add("test", f"{run}pytest")
    if "tox.ini" in top or "tox" in tool:
        found.add("test", "tox")
    if "noxfile.py" in top:
        found.add("test", "nox")
    if "ruff" in tool or "ruff.toml" in top or ".ruff.toml" in top:
        found.add("lint", f"{run}ruff check .")
        found.add("format", f"{run}ruff format --check .")
    if ".flake8" in top or any(
        cfg is not None and cfg.has_section("flake8") for cfg in (setup_cfg, tox_ini)
    ):
        found.add("lint", f"{run}flake8")
    if (
        "mypy" in tool
        or "mypy.ini" in top
        or ".mypy.ini" in top
        or (setup_cfg is not None and setup_cfg.has_section("mypy"))
    ):
        found.add("lint", f"{run}mypy .")
    if "black" in tool:
        found.add("format", f"{run}black --check .")
    if "isort" in tool or ".isort.cfg" in top:
        found.add("format", f"{run}isort --check-only .")
    if has_py and "pyproject.toml" in top and (doc.get("build-system") or doc.get("project")):
        found.add("build", "python -m build")


def _node(root: Path, top: set[str], found: _Found) -> None:
    if "package.json" not in top:
        return
    doc = _read_json(root / "package.json")
    manager = ("pnpm" if "pnpm-lock.yaml" in top else "yarn" if "yarn.lock" in top
               else "bun" if "bun.lockb" in top or "bun.lock" in top else "npm")  # fmt: skip
    scripts = doc.get("scripts") or {}
    deps = {**(doc.get("dependencies") or {}), **(doc.get("devDependencies") or {})}
    runner = "npx" if manager == "npm" else f"{manager} exec" if manager == "pnpm" else manager
    for name in scripts:
        purpose = _script_purpose(name)
        if purpose:
            shown = f"{manager} test" if name == "test" else f"{manager} run {name}"
            found.add(purpose, shown)
    if "vitest" in deps or any(f.startswith("vitest.config.") for f in top):
        found.add("test", f"{runner} vitest run")
    if "jest" in deps or any(f.startswith("jest.config.") for f in top) or "jest" in doc:
        found.add("test", f"{runner} jest")
    if "eslint" in deps or any(f.startswith((".eslintrc", "eslint.config.")) for f in top):
        found.add("lint", f"{runner} eslint .")
    if (
        "prettier" in deps
        or "prettier" in doc
        or any(f.startswith((".prettierrc", "prettier.config.")) for f in top)
    ):
        found.add("format", f"{runner} prettier --check .")
    if "@biomejs/biome" in deps or "biome.json" in top or "biome.jsonc" in top:
        found.add("lint", f"{runner} biome check .")
    if "tsconfig.json" in top and "typescript" in deps:
        found.add("lint", f"{runner} tsc --noEmit")


def _script_purpose(name: str) -> str:
    head = name.split(":", 1)[0]
    if head in ("test", "tests", "e2e", "coverage"):
        return "test"
    if head in ("lint", "typecheck", "type-check", "check"):
        return "lint"
    if head in ("format", "fmt", "prettier"):
        return "format"
    if head in ("build", "compile"):
        return "build"
    return ""


def _go(root: Path, top: set[str], found: _Found) -> None:
    if "go.mod" not in top:
        return
    found.add("test", "go test ./...")
    found.add("lint", "go vet ./...")
    if top & {".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"}:
        found.add("lint", "golangci-lint run")
    found.add("format", "gofmt -l .")
    found.add("build", "go build ./...")


def _rust(root: Path, top: set[str], found: _Found) -> None:
    if "Cargo.toml" not in top:
        return
    found.add("test", "cargo test")
    found.add("lint", "cargo clippy --all-targets -- -D warnings")
    found.add("format", "cargo fmt --check")
    found.add("build", "cargo build")


def _jvm_dotnet_ruby_php(root: Path, top: set[str], found: _Found) -> None:
    if "pom.xml" in top:
        mvn = "./mvnw" if "mvnw" in top else "mvn"
        found.add("test", f"{mvn} test")
        found.add("build", f"{mvn} package")
    if top & {"build.gradle", "build.gradle.kts"}:
        gradle = "./gradlew" if "gradlew" in top else "gradle"
        found.add("test", f"{gradle} test")
        found.add("build", f"{gradle} build")
    if any(f.endswith((".sln", ".csproj")) for f in top):
        found.add("test", "dotnet test")
        found.add("build", "dotnet build")
        found.add("format", "dotnet format --verify-no-changes")
    if "Gemfile" in top:
        found.add("test", "bundle exec rspec" if ".rspec" in top else "bundle exec rake test")
        if ".rubocop.yml" in top:
            found.add("lint", "bundle exec rubocop")
    if "composer.json" in top:
        scripts = _read_json(root / "composer.json").get("scripts") or {}
        if "test" in scripts:
            found.add("test", "composer test")
        if top & {"phpunit.xml", "phpunit.xml.dist"}:
            found.add("test", "vendor/bin/phpunit")


MAKE_PURPOSES = {"test": "test", "tests": "test", "check": "test", "lint": "lint",
                 "typecheck": "lint", "fmt": "format", "format": "format", "build": "build",
                 "all": "build"}  # fmt: skip


def make_targets(text: str) -> list[str]:
    """Rule targets of a Makefile, in order (no special or pattern targets, no variables)."""
    targets: list[str] = []
    for line in text.splitlines():
        if not line or line[0] in " \t#" or ":" not in line:
            continue
        head, _, rest = line.partition(":")
        if rest.startswith("=") or "=" in head or "%" in head or "$" in head:
            continue
        for target in head.split():
            if not target.startswith(".") and target not in targets:
                targets.append(target)
    return targets


def _make(root: Path, top: set[str], found: _Found) -> None:
    name = next((n for n in ("GNUmakefile", "Makefile", "makefile") if n in top), "")
    if not name:
        return
    try:
        text = (root / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for target in make_targets(text):
        purpose = MAKE_PURPOSES.get(target)
        if purpose:
            found.add(purpose, f"make {target}")


def _ci(root: Path, files: list[str], found: _Found) -> None:
    """``run:`` steps of GitHub workflows and ``script:`` lines of GitLab CI jobs."""
    workflows = [
        f for f in files if f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))
    ]
    for path in sorted(workflows):
        jobs = _yaml(root / path).get("jobs") or {}
        for job in jobs.values() if isinstance(jobs, dict) else []:
            steps = job.get("steps") if isinstance(job, dict) else None
            for step in steps if isinstance(steps, list) else []:
                if isinstance(step, dict) and isinstance(step.get("run"), str):
                    _add_lines(found, step["run"].splitlines())
    if ".gitlab-ci.yml" in files:
        for name, job in _yaml(root / ".gitlab-ci.yml").items():
            if isinstance(job, dict) and not str(name).startswith("."):
                script = job.get("script")
                _add_lines(found, [script] if isinstance(script, str) else script or [])


def _yaml(path: Path) -> dict[str, Any]:
    import yaml  # type: ignore[import-untyped]

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _add_lines(found: _Found, lines: list[Any]) -> None:
    for line in lines:
        if isinstance(line, str) and line.strip():
            found.add("ci", line.strip())


DETECTORS: tuple[Callable[[Path, set[str], _Found], None], ...] = (
    _make, _python, _node, _go, _rust, _jvm_dotnet_ruby_php,
)  # fmt: skip


def conventions(root: Path, files: list[str]) -> list[str]:
    """Style settings worth telling the model, from the formatter and linter configs."""
    top = {f for f in files if "/" not in f}
    notes: list[str] = []
    tool = (
        (_read_toml(root / "pyproject.toml").get("tool") or {}) if "pyproject.toml" in top else {}
    )
    ruff = tool.get("ruff") or (_read_toml(root / "ruff.toml") if "ruff.toml" in top else {})
    if ruff:
        if "line-length" in ruff:
            notes.append(f"Python line length {ruff['line-length']} (ruff)")
        selected = (ruff.get("lint") or {}).get("select") or ruff.get("select")
        if selected:
            notes.append("ruff rules: " + ", ".join(map(str, selected)))
        tidy = (ruff.get("lint") or ruff).get("flake8-tidy-imports") or {}
        for module, rule in (tidy.get("banned-api") or {}).items():
            message = rule.get("msg", "banned") if isinstance(rule, dict) else str(rule)
            notes.append(f"imports of `{module}` are restricted: {message}")
    if (tool.get("mypy") or {}).get("strict"):
        notes.append("mypy --strict: every function fully typed")
    if "black" in tool:
        notes.append(f"black, line length {(tool['black'] or {}).get('line-length', 88)}")
    if ".editorconfig" in top:
        notes += _editorconfig(root / ".editorconfig")
    prettier = next((f for f in (".prettierrc", ".prettierrc.json") if f in top), "")
    if prettier:
        doc = _read_json(root / prettier)
        notes += [f"prettier {k}: {v}" for k, v in doc.items() if isinstance(v, str | int | bool)]
    if "rustfmt.toml" in top or ".rustfmt.toml" in top:
        name = "rustfmt.toml" if "rustfmt.toml" in top else ".rustfmt.toml"
        notes += [f"rustfmt {k} = {v}" for k, v in _read_toml(root / name).items()]
    if "go.mod" in top:
        notes.append("Go: gofmt formatting")
    return notes


def _editorconfig(path: Path) -> list[str]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        # `root = true` comes before any section: give it one so configparser accepts it.
        parser.read_string("[*preamble*]\n" + path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error):
        return []
    notes = []
    for section in parser.sections():
        items = {k: v for k, v in parser.items(section) if k in ("indent_style", "indent_size")}
        if items:
            notes.append(f"{section}: " + ", ".join(f"{k}={v}" for k, v in items.items()))
    return notes
