"""What makes a change risky: sensitive paths, tests, public symbols, size.

Pure functions over paths and diff lines, so each rule is easy to test and
to explain: every point of the score comes with a sentence saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from lynkr_cli.console import plural

# (category, points, path pattern). Matched against the lower-cased path.
SENSITIVE: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    (
        "auth",
        15,
        re.compile(
            r"(^|[/_.-])(auth|authn|authz|authentication|authori[sz](e|ation|er)s?|o?auth2?"
            r"|login|logout|passwords?|sessions?|permissions?|acl|rbac|sso|saml|oidc)([/_.-]|$)"
        ),
    ),
    (
        "crypto",
        15,
        re.compile(
            r"(crypt|cipher|hmac|signing|signature|jwt|(^|[/_.-])(tls|ssl|certs?|keys?)([/_.-]|$))"
        ),
    ),
    ("migrations", 15, re.compile(r"(^|/)(migrations?|alembic|migrate)(/|$)|\.sql$")),
    (
        "CI",
        10,
        re.compile(
            r"^\.github/workflows/|^\.gitlab-ci\.ya?ml$|^\.circleci/|(^|/)jenkinsfile$"
            r"|azure-pipelines\.ya?ml$|^\.travis\.yml$|^\.buildkite/"
        ),
    ),
    (
        "secrets file",
        15,
        re.compile(r"(^|/)\.env(\.[\w.-]+)?$|\.(pem|key|p12|pfx)$|(^|/)id_(rsa|ed25519|ecdsa)$"),
    ),
)
MANIFESTS = frozenset(
    {
        "package.json",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "pipfile",
        "go.mod",
        "cargo.toml",
        "gemfile",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "composer.json",
        "dockerfile",
    }
)
LOCKFILES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "uv.lock",
        "pipfile.lock",
        "cargo.lock",
        "go.sum",
        "gemfile.lock",
        "composer.lock",
        "bun.lockb",
        "npm-shrinkwrap.json",
    }
)
CATEGORY_POINTS = {name: points for name, points, _ in SENSITIVE} | {
    "dependency manifest": 10,
    "lock file": 5,
}
SOURCE_SUFFIXES = frozenset(
    [
        ".py",
        ".js",
        ".jsx",
        ".mjs",
        ".cjs",
        ".ts",
        ".tsx",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".c",
        ".cc",
        ".cpp",
        ".h",
        ".hpp",
        ".cs",
        ".rb",
        ".php",
        ".swift",
        ".scala",
        ".sh",
    ]
)
_TEST_PATH = re.compile(
    r"(^|/)(tests?|specs?|__tests__|testing)/|(^|/)test_[^/]*$|_test\.\w+$"
    r"|\.(test|spec)\.\w+$|_spec\.rb$|(^|/)(tests?|conftest)\.py$|(?-i:Tests?)\.(java|kt|cs)$",
    re.IGNORECASE,
)


def categories(path: str) -> list[str]:
    """The sensitive categories a path falls in (possibly none)."""
    lower = path.lower()
    found = [name for name, _, pattern in SENSITIVE if pattern.search(lower)]
    name = PurePosixPath(lower).name
    if name in LOCKFILES:
        found.append("lock file")
    elif name in MANIFESTS or re.fullmatch(r"requirements[\w.-]*\.(txt|in)|.*\.csproj", name):
        found.append("dependency manifest")
    return found


def is_test(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def is_source(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in SOURCE_SUFFIXES and not is_test(path)


# Definitions a caller outside the file could depend on, per language family.
_PUBLIC_DEFS: dict[str, tuple[re.Pattern[str], ...]] = {
    ".py": (re.compile(r"^\s*(?:async\s+)?(def|class)\s+([A-Za-z]\w*)"),),
    ".js": (
        re.compile(
            r"^\s*export\s+(?:default\s+)?(?:async\s+)?(function\*?|class|const|let|var"
            r"|interface|type|enum)\s+([A-Za-z_$][\w$]*)"
        ),
    ),
    ".go": (
        re.compile(r"^(func)\s+(?:\([^)]*\)\s*)?([A-Z]\w*)"),
        re.compile(r"^(type)\s+([A-Z]\w*)"),
    ),
    ".rs": (re.compile(r"^\s*pub\s+(?:async\s+)?(fn|struct|enum|trait|type|const|mod)\s+(\w+)"),),
    ".java": (
        re.compile(r"^\s*public\s+(?:[\w<>\[\],]+\s+)*?(class|interface|enum|record)\s+(\w+)"),
        re.compile(r"^\s*public\s+(?:[\w<>\[\],.?]+\s+)+(\w+)()\s*\("),
    ),
    ".rb": (
        re.compile(r"^\s*(def)\s+(?:self\.)?([a-z]\w*[?!]?)"),
        re.compile(r"^\s*(class|module)\s+([A-Z]\w*)"),
    ),
    ".php": (re.compile(r"^\s*(?:public\s+)?(?:static\s+)?(function|class)\s+(\w+)"),),
}
_FAMILY = {
    ".jsx": ".js",
    ".mjs": ".js",
    ".cjs": ".js",
    ".ts": ".js",
    ".tsx": ".js",
    ".kt": ".java",
    ".cs": ".java",
}


def public_definitions(path: str, lines: Iterable[str]) -> set[tuple[str, str]]:
    """(kind, name) of public definitions in ``lines`` of a file at ``path``."""
    suffix = PurePosixPath(path).suffix.lower()
    patterns = _PUBLIC_DEFS.get(_FAMILY.get(suffix, suffix), ())
    found: set[tuple[str, str]] = set()
    for line in lines:
        for pattern in patterns:
            match = pattern.match(line)
            if match:
                kind, name = match.group(1) or "method", match.group(2) or match.group(1)
                found.add((kind, name))
    return found


def churn_points(churn: int, files: int) -> tuple[int, str | None]:
    """Points for the size of a change, with the reason."""
    for limit, points in ((1000, 30), (500, 20), (200, 12), (50, 5)):
        if churn >= limit:
            return points + _file_points(
                files
            ), f"large change: {churn} lines in {plural(files, 'file')}"
    extra = _file_points(files)
    return extra, (f"wide change: {plural(files, 'file')}" if extra else None)


def _file_points(files: int) -> int:
    return 10 if files >= 20 else 5 if files >= 10 else 0


def level(score: int) -> str:
    return (
        "critical" if score >= 75 else "high" if score >= 50 else "medium" if score >= 20 else "low"
    )
