"""Dependencies and frameworks, read from the manifests with real parsers.

``package.json`` and ``composer.json`` with :mod:`json`; ``pyproject.toml`` and
``Cargo.toml`` with :mod:`tomllib`; ``requirements*.txt`` with
``packaging.requirements``; ``pom.xml`` and ``*.csproj`` with
:mod:`xml.etree.ElementTree`; ``Gemfile`` with the tree-sitter Ruby grammar;
``go.mod`` and ``build.gradle(.kts)`` with the small tokenizers in
:mod:`lynkr_cli.index.manifests`. Every dependency is listed, not the first few.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lynkr_cli.index import manifests, tooling

MANIFEST_READERS = {
    "package.json": manifests.package_json,
    "pyproject.toml": manifests.pyproject,
    "go.mod": manifests.go_mod,
    "Cargo.toml": manifests.cargo_toml,
    "pom.xml": manifests.pom_xml,
    "build.gradle": manifests.gradle,
    "build.gradle.kts": manifests.gradle,
    "Gemfile": manifests.gemfile,
    "composer.json": manifests.composer_json,
}

# dependency name (lowercase) -> framework shown to the model
FRAMEWORKS = {
    "django": "Django", "flask": "Flask", "fastapi": "FastAPI", "starlette": "Starlette",
    "aiohttp": "aiohttp", "typer": "Typer", "click": "Click", "pydantic": "Pydantic",
    "sqlalchemy": "SQLAlchemy", "pytest": "pytest", "numpy": "NumPy", "pandas": "pandas",
    "torch": "PyTorch", "tensorflow": "TensorFlow", "celery": "Celery",
    "react": "React", "next": "Next.js", "vue": "Vue", "nuxt": "Nuxt", "svelte": "Svelte",
    "@angular/core": "Angular", "express": "Express", "@nestjs/core": "NestJS",
    "fastify": "Fastify", "koa": "Koa", "jest": "Jest", "vitest": "Vitest",
    "electron": "Electron", "vite": "Vite", "webpack": "webpack", "typescript": "TypeScript",
    "github.com/gin-gonic/gin": "Gin", "github.com/labstack/echo/v4": "Echo",
    "github.com/spf13/cobra": "Cobra", "github.com/gofiber/fiber/v2": "Fiber",
    "tokio": "Tokio", "actix-web": "Actix Web", "axum": "Axum", "serde": "Serde",
    "clap": "clap", "rocket": "Rocket",
    "org.springframework.boot:spring-boot-starter": "Spring Boot",
    "org.springframework.boot:spring-boot-starter-web": "Spring Boot",
    "junit:junit": "JUnit", "org.junit.jupiter:junit-jupiter": "JUnit 5",
    "rails": "Rails", "sinatra": "Sinatra", "rspec": "RSpec",
    "laravel/framework": "Laravel", "symfony/framework-bundle": "Symfony",
    "phpunit/phpunit": "PHPUnit",
    "microsoft.aspnetcore.app": "ASP.NET Core", "xunit": "xUnit", "nunit": "NUnit",
}  # fmt: skip


def analyze(root: Path, files: list[str], skipped: list[str] | None = None) -> dict[str, Any]:
    """Manifests, dependencies, frameworks and the commands found, as JSON-ready data.

    ``skipped`` are paths left out of the index (lockfiles, say): they are not read
    as manifests, but their presence picks the runner (``uv run``, ``pnpm``).
    """
    present = sorted({*files, *(skipped or [])})
    found: list[dict[str, Any]] = []
    errors: list[str] = []
    for path in files:
        reader = _reader_for(path)
        if reader is None:
            continue
        try:
            deps = reader((root / path).read_bytes())
        except (OSError, ValueError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        found.append({"path": path, "dependencies": deps})
    frameworks = sorted(
        {
            FRAMEWORKS[d["name"].lower()]
            for manifest in found
            for d in manifest["dependencies"]
            if d["name"].lower() in FRAMEWORKS
        }
    )
    return {
        "manifests": found,
        "frameworks": frameworks,
        "commands": tooling.discover_commands(root, present),
        "conventions": tooling.conventions(root, present),
        "errors": errors,
    }


def _reader_for(path: str) -> Any:
    name = path.rpartition("/")[2]
    if "/" in path and any(part in path.split("/") for part in ("test", "tests", "fixtures")):
        return None  # test fixtures are not the project's manifests
    if name in MANIFEST_READERS:
        return MANIFEST_READERS[name]
    if name.startswith("requirements") and name.endswith(".txt"):
        return manifests.requirements_txt
    if name.endswith(".csproj"):
        return manifests.csproj
    return None
