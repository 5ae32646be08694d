# ruff: noqa: E501  (manifests and expected command lists read better unwrapped)
"""Dependencies from every manifest format, and configuration turned into commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr_cli.index import api, hints, manifests, tooling
from tests.index.helpers import git, make_repo

PACKAGE_JSON = """{
  "name": "web", "scripts": {"test": "vitest run", "lint": "eslint .", "build": "vite build",
  "format:check": "prettier --check ."},
  "dependencies": {"react": "^18", "express": "^4", "a1": "1", "a2": "1", "a3": "1", "a4": "1"},
  "devDependencies": {"vitest": "^1", "eslint": "^9", "typescript": "^5", "prettier": "^3"}
}"""
PYPROJECT = """[project]
name = "svc"
dependencies = ["fastapi>=0.110", "pydantic[email]>=2; python_version>'3.8'", "uvicorn"]
[project.optional-dependencies]
dev = ["pytest>=8", "mypy"]
[dependency-groups]
lint = ["ruff"]
[tool.ruff]
line-length = 88
[tool.ruff.lint]
select = ["E", "F"]
[tool.ruff.lint.flake8-tidy-imports.banned-api]
"requests".msg = "Use httpx."
[tool.mypy]
strict = true
[tool.pytest.ini_options]
addopts = "-q"
"""
POM = """<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <dependencies>
    <dependency><groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId><version>3.2.0</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId>
      <version>4.13</version><scope>test</scope></dependency>
  </dependencies>
</project>"""
GRADLE = """plugins { id 'java' }
dependencies {
    implementation 'com.google.guava:guava:33.0.0-jre'
    testImplementation("org.junit.jupiter:junit-jupiter:5.10.0")
    // implementation 'commented:out:1'
}
"""
GEMFILE = """source "https://rubygems.org"
gem "rails", "~> 7.1"
gem 'pg'
group :development, :test do
  gem "rspec-rails"
end
"""
CSPROJ = """<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
    <PackageReference Include="Newtonsoft.Json" Version="13.0.3" />
    <PackageReference Include="xunit"><Version>2.6.0</Version></PackageReference>
  </ItemGroup>
</Project>"""
GO_MOD = """module example.com/svc

go 1.22

require (
\tgithub.com/gin-gonic/gin v1.9.1
\tgolang.org/x/sync v0.6.0 // indirect
)

require github.com/spf13/cobra v1.8.0

replace example.com/old => ../old
"""
CARGO = """[package]
name = "tool"
[dependencies]
serde = { version = "1", features = ["derive"] }
tokio = "1"
[dev-dependencies]
insta = "1"
[target.'cfg(unix)'.dependencies]
libc = "0.2"
"""
COMPOSER = '{"require": {"php": ">=8.1", "laravel/framework": "^11"}, "require-dev": {"phpunit/phpunit": "^10"}, "scripts": {"test": "phpunit"}}'
REQUIREMENTS = "# pinned\nrequests==2.31.0\n-r base.txt\n--index-url https://x\nflask>=3 ; python_version >= '3.9'\ngit+https://github.com/x/y.git\nnumpy  # math\n"
MAKEFILE = "VAR := 1\n.PHONY: test lint\nall: build\nbuild:\n\tcc x.c\ntest: build\n\t./run\nlint:\n\tcheck\n%.o: %.c\n\tcc\n"
WORKFLOW = """name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
      - run: |
          ruff check .
          pytest -q
"""


def names(deps: list[dict[str, str]]) -> list[str]:
    return [d["name"] for d in deps]


def test_package_json_lists_every_dependency() -> None:
    deps = manifests.package_json(PACKAGE_JSON.encode())
    assert len(deps) == 10
    assert {"name": "vitest", "version": "^1", "scope": "dev"} in deps


def test_pyproject() -> None:
    deps = manifests.pyproject(PYPROJECT.encode())
    assert names(deps) == ["fastapi", "pydantic", "uvicorn", "pytest", "mypy", "ruff"]
    assert deps[3]["scope"] == "extra:dev" and deps[5]["scope"] == "group:lint"


def test_requirements_txt() -> None:
    assert names(manifests.requirements_txt(REQUIREMENTS.encode())) == [
        "requests",
        "flask",
        "numpy",
    ]


def test_pom_xml_with_namespace() -> None:
    deps = manifests.pom_xml(POM.encode())
    assert names(deps) == ["org.springframework.boot:spring-boot-starter-web", "junit:junit"]
    assert deps[1]["scope"] == "test"


def test_gradle() -> None:
    deps = manifests.gradle(GRADLE.encode())
    assert names(deps) == ["com.google.guava:guava", "org.junit.jupiter:junit-jupiter"]
    assert deps[1]["scope"] == "test"


def test_gemfile_through_the_ruby_grammar() -> None:
    deps = manifests.gemfile(GEMFILE.encode())
    assert names(deps) == ["rails", "pg", "rspec-rails"]
    assert deps[0]["version"] == "~> 7.1"
    assert deps[2]["scope"] == "group:development,test"


def test_csproj() -> None:
    deps = manifests.csproj(CSPROJ.encode())
    assert [(d["name"], d["version"]) for d in deps] == [
        ("Newtonsoft.Json", "13.0.3"),
        ("xunit", "2.6.0"),
    ]


def test_go_mod() -> None:
    deps = manifests.go_mod(GO_MOD.encode())
    assert names(deps) == [
        "github.com/gin-gonic/gin",
        "golang.org/x/sync",
        "github.com/spf13/cobra",
    ]
    assert deps[1]["scope"] == "indirect"


def test_cargo_toml() -> None:
    assert names(manifests.cargo_toml(CARGO.encode())) == ["serde", "tokio", "libc", "insta"]


def test_composer_json() -> None:
    deps = manifests.composer_json(COMPOSER.encode())
    assert names(deps) == ["php", "laravel/framework", "phpunit/phpunit"]


@pytest.mark.parametrize(
    ("reader", "data"),
    [(manifests.package_json, b"{not json"), (manifests.pyproject, b"[project\n"),
     (manifests.pom_xml, b"<project><unclosed></project>"), (manifests.package_json, b"[1, 2]")],
)  # fmt: skip
def test_bad_manifest_raises_value_error(reader: object, data: bytes) -> None:
    with pytest.raises(ValueError):
        reader(data)  # type: ignore[operator]


def test_make_targets() -> None:
    assert tooling.make_targets(MAKEFILE) == ["all", "build", "test", "lint"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {
        "package.json": PACKAGE_JSON,
        "pnpm-lock.yaml": "lockfileVersion: 9\n",
        "tsconfig.json": "{}",
        "pyproject.toml": PYPROJECT,
        "uv.lock": "version = 1\n",
        "go.mod": GO_MOD,
        "Cargo.toml": CARGO,
        "rustfmt.toml": 'edition = "2021"\n',
        ".golangci.yml": "linters: {}\n",
        "Makefile": MAKEFILE,
        ".github/workflows/ci.yml": WORKFLOW,
        ".gitlab-ci.yml": "stages: [test]\n.template:\n  script: [hidden]\nunit:\n  stage: test\n"
        "  script:\n    - go test ./...\n    - cargo test\nlint:\n  script: golangci-lint run\n",
        "requirements-dev.txt": REQUIREMENTS,
        ".editorconfig": "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n",
        "broken/package.json": "{oops",
        "tests/fixtures/package.json": '{"dependencies": {"not-ours": "1"}}',
    }
    return make_repo(tmp_path / "p", files)


def test_discovered_commands(project: Path) -> None:
    commands = api.discovered_commands(project)
    assert commands["test"] == [
        "make test", "uv run pytest", "pnpm test", "pnpm exec vitest run", "go test ./...",
        "cargo test",
    ]  # fmt: skip
    assert commands["lint"] == [
        "make lint", "uv run ruff check .", "uv run mypy .", "pnpm run lint",
        "pnpm exec eslint .", "pnpm exec tsc --noEmit", "go vet ./...", "golangci-lint run",
        "cargo clippy --all-targets -- -D warnings",
    ]  # fmt: skip
    assert commands["format"] == [
        "uv run ruff format --check .", "pnpm run format:check", "pnpm exec prettier --check .",
        "gofmt -l .", "cargo fmt --check",
    ]  # fmt: skip
    assert commands["build"] == [
        "make all", "make build", "python -m build", "pnpm run build", "go build ./...", "cargo build",
    ]  # fmt: skip
    assert commands["ci"] == [
        "make test", "ruff check .", "pytest -q", "go test ./...", "cargo test", "golangci-lint run",
    ]  # fmt: skip


def test_analyze_frameworks_and_errors(project: Path) -> None:
    files = sorted(git(project, "ls-files").split())
    doc = hints.analyze(project, files)
    assert {"Express", "FastAPI", "Gin", "React", "Serde", "Tokio", "Vitest"} <= set(
        doc["frameworks"]
    )
    paths = [m["path"] for m in doc["manifests"]]
    assert "tests/fixtures/package.json" not in paths
    assert "requirements-dev.txt" in paths
    assert [e.split(":")[0] for e in doc["errors"]] == ["broken/package.json"]
    assert "Python line length 88 (ruff)" in doc["conventions"]
    assert "mypy --strict: every function fully typed" in doc["conventions"]
    assert "imports of `requests` are restricted: Use httpx." in doc["conventions"]
    assert "rustfmt edition = 2021" in doc["conventions"]
    assert "*.py: indent_style=space, indent_size=4" in doc["conventions"]


def test_tox_nox_flake8_and_java_projects(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "tox.ini": "[tox]\nenvlist = py311\n[flake8]\nmax-line-length = 100\n",
        "noxfile.py": "import nox\n",
        "setup.cfg": "[mypy]\nstrict = True\n",
        "pom.xml": POM,
        "mvnw": "#!/bin/sh\n",
        "build.gradle": GRADLE,
        "Gemfile": GEMFILE,
        ".rspec": "--color\n",
        "App.csproj": CSPROJ,
        "composer.json": COMPOSER,
        "phpunit.xml": "<phpunit/>",
    }
    root = make_repo(tmp_path / "t", files)
    commands = api.discovered_commands(root)
    assert commands["test"] == [
        "tox", "nox", "./mvnw test", "gradle test", "dotnet test", "bundle exec rspec",
        "composer test", "vendor/bin/phpunit",
    ]  # fmt: skip
    assert commands["lint"] == ["flake8", "mypy ."]
