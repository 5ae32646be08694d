"""The path rules behind the risk score."""

from __future__ import annotations

import pytest

from lynkr_cli.git import risk


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/auth/login.py", ["auth"]),
        ("app/authorization.go", ["auth"]),
        ("web/oauth2_callback.ts", ["auth"]),
        ("lib/session.rb", ["auth"]),
        ("docs/author.md", []),
        ("src/crypto/aes.py", ["crypto"]),
        ("pkg/jwt_verify.go", ["crypto"]),
        ("certs/server.pem", ["crypto", "secrets file"]),
        ("src/monkey.py", []),
        ("db/migrations/0001_init.py", ["migrations"]),
        ("schema/001.sql", ["migrations"]),
        (".github/workflows/ci.yml", ["CI"]),
        (".gitlab-ci.yml", ["CI"]),
        ("Jenkinsfile", ["CI"]),
        (".env.production", ["secrets file"]),
        ("requirements-dev.txt", ["dependency manifest"]),
        ("services/api/package.json", ["dependency manifest"]),
        ("Cargo.lock", ["lock file"]),
        ("go.sum", ["lock file"]),
        ("src/app.py", []),
    ],
)
def test_categories(path, expected):
    assert risk.categories(path) == expected


@pytest.mark.parametrize(
    ("path", "test"),
    [
        ("tests/test_app.py", True),
        ("pkg/server_test.go", True),
        ("web/button.test.tsx", True),
        ("src/__tests__/x.js", True),
        ("src/main/java/AppTest.java", True),
        ("spec/models/user_spec.rb", True),
        ("src/app.py", False),
        ("src/contest.py", False),
    ],
)
def test_is_test(path, test):
    assert risk.is_test(path) is test


def test_public_definitions_by_language():
    assert risk.public_definitions(
        "a.py", ["def run():", "    def _hidden(self):", "class A:"]
    ) == {
        ("def", "run"),
        ("class", "A"),
    }
    assert risk.public_definitions("a.go", ["func Serve() {", "func helper() {"]) == {
        ("func", "Serve")
    }
    assert risk.public_definitions("a.rs", ["pub fn run() {}", "fn private() {}"]) == {
        ("fn", "run")
    }
    assert risk.public_definitions("a.ts", ["export class Api {}", "function local() {}"]) == {
        ("class", "Api")
    }
    assert risk.public_definitions("a.txt", ["def run():"]) == set()


def test_levels_and_churn():
    assert [risk.level(s) for s in (0, 19, 20, 49, 50, 74, 75, 100)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical",
    ]  # fmt: skip
    assert risk.churn_points(10, 1) == (0, None)
    assert risk.churn_points(1000, 25) == (40, "large change: 1000 lines in 25 files")
