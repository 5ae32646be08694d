"""docs/openapi.json: fresh, valid OpenAPI 3.1, and exactly the gateway's route table.

The answers themselves are checked against it in test_openapi_answers.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from lynkr_cli.serve.app import build
from lynkr_cli.serve.errors import ERROR_TYPES
from lynkr_cli.serve.openapi.responses import ERRORS
from lynkr_cli.settings import get_settings
from tests.conftest import ROOT

FILE = ROOT / "docs" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def load() -> dict[str, Any]:
    return dict(json.loads(FILE.read_bytes()))


def test_the_file_is_fresh() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_openapi.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_file_is_valid_openapi_3_1() -> None:
    doc = load()
    assert doc["openapi"].startswith("3.1.")
    validate(doc, cls=OpenAPIV31SpecValidator)


def differences(
    routes: set[tuple[str, str]], doc: dict[str, Any]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(routes the document lacks, operations the gateway does not answer).

    The gateway answers its route table, and OPTIONS on each of its paths (a preflight,
    or a 405 when it is none); the document lists the same operations.
    """
    answered = routes | {("OPTIONS", path) for _method, path in routes}
    documented = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }
    return answered - documented, documented - answered


def test_the_document_lists_every_route_and_nothing_else() -> None:
    routes = set(build(get_settings({"server.access_log": False})).routes)
    doc = load()
    assert differences(routes, doc) == (set(), set())
    for method, path in routes:  # GET routes answer HEAD, and the document says so
        if method == "GET":
            assert ("HEAD", path) in routes and "head" in doc["paths"][path]
    assert ("POST", "/v1/chat/completions") in routes
    assert ("GET", "/openapi.json") in routes


def test_a_route_missing_on_either_side_is_found() -> None:
    routes = set(build(get_settings({"server.access_log": False})).routes)
    doc = load()
    missing, extra = differences(routes | {("POST", "/v1/new")}, doc)
    assert missing == {("POST", "/v1/new"), ("OPTIONS", "/v1/new")} and extra == set()
    del doc["paths"]["/metrics"]["head"]
    doc["paths"]["/v1/gone"] = {"get": {}}
    missing, extra = differences(routes, doc)
    assert missing == {("HEAD", "/metrics")} and extra == {("GET", "/v1/gone")}


def test_every_error_status_of_the_code_is_documented() -> None:
    doc = load()
    assert set(ERROR_TYPES) <= set(ERRORS)
    responses = doc["components"]["responses"]
    for status in ERRORS:
        assert f"Error{status}" in responses
        if status != 529:  # OpenAI's clients get a 503 for it
            assert f"ChatError{status}" in responses
    chat = doc["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert all(
        r["$ref"].startswith("#/components/responses/Chat") for s, r in chat.items() if s > "299"
    )


def test_security_and_headers_are_declared() -> None:
    doc = load()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "in": "header", "name": "x-api-key"}
    assert schemes["bearer"]["scheme"] == "bearer"
    names = set(doc["components"]["headers"])
    wanted = {"request-id", "x-lynkr-cache", "x-lynkr-route", "retry-after", "x-should-retry",
              "allow", "anthropic-ratelimit-requests-limit", "anthropic-ratelimit-tokens-reset",
              "x-ratelimit-limit-requests", "x-ratelimit-reset-tokens"}  # fmt: skip
    assert wanted <= names
    for path in ("/health/live", "/health/ready", "/", "/openapi.json"):
        assert doc["paths"][path]["get"]["security"] == []
    assert {"apiKey": []} in doc["paths"]["/v1/messages"]["post"]["security"]
