"""Schemathesis against the served document: property-based requests to every operation.

The real ``st`` command reads ``GET /openapi.json`` from an in-process gateway and sends
requests generated from it, valid and invalid, checking each answer against the document
(status, content type, headers, body schema), that nothing is a 5xx, that valid requests
are taken and invalid ones refused. The gateway fronts a fake Anthropic upstream that, as
Anthropic does, refuses a body outside the published request schema: the gateway checks
what it relies on and relays the rest, so the upstream is where such a body is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openapi_schema_validator import OAS31Validator

from lynkr_cli.serve.openapi.document import render
from tests.serve.conftest import FAMILIES, provider_settings
from tests.serve.fakes import message, send_events, text_events

pytestmark = pytest.mark.timeout(120)
COMPONENTS = json.loads(render())["components"]
CONFIG = """
# An OPTIONS that is no preflight of an allowed origin is a 405 (documented); schemathesis
# counts only other 4xx (400, 422...) as refusing a request without its required Origin.
[checks]
missing_required_header.enabled = false

# The chat translator's rules across messages are beyond a schema: a tool message must
# answer a call of the assistant message before it, every call must be answered, empty
# texts are dropped and one non-empty user or assistant message must remain. A request
# breaking one is a 400 naming the rule (param), as at OpenAI.
[[operations]]
include-path = "/v1/chat/completions"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "400", "401", "403", "404", "429", "5xx",
]
"""


def refusal(body: Any, schema: str) -> str | None:
    validator = OAS31Validator({"$ref": f"#/components/schemas/{schema}", "components": COMPONENTS})
    error = next(iter(validator.iter_errors(body)), None)
    return None if error is None else f"{'.'.join(map(str, error.path)) or 'body'}: {error.message}"


async def strict_anthropic(request: web.Request, body: Any) -> web.StreamResponse:
    """Anthropic's answer: a 400 for a body outside its schema, else a message or a count."""
    counting = request.path.endswith("/count_tokens")
    problem = refusal(body, "CountTokensRequest" if counting else "MessagesRequest")
    if problem is not None:
        error = {"type": "invalid_request_error", "message": problem[:300]}
        return web.json_response({"type": "error", "error": error}, status=400)
    if counting:
        return web.json_response({"input_tokens": 7})
    if body.get("stream"):
        return await send_events(request, text_events("Hello", body["model"]))
    return web.json_response(message("Hello", body["model"]))


async def test_schemathesis_finds_nothing(gateway, fake, tmp_path: Path) -> None:
    upstream = await fake(**FAMILIES["anthropic"], reply=strict_anthropic)
    gw = await gateway(**provider_settings("anthropic", upstream))
    report, config = tmp_path / "report.json", tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    st = Path(sys.executable).with_name("st")
    args = [str(st), "--config-file", str(config), "run", gw.url + "/openapi.json",
            "--workers", "1", "--no-color",
            "--max-examples", os.environ.get("LYNKR_FUZZ_EXAMPLES", "15"),
            "--seed", os.environ.get("LYNKR_FUZZ_SEED", "20261206"),
            "--generation-database", "none",
            "--report", "json", "--report-json-path", str(report)]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 110)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-30000:]
    assert "Tested: 30" in text or "Tested:" in text, text[-2000:]
