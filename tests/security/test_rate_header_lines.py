"""The rate-limit headers written as ready-made header lines (serve/respond.py) can
carry nothing a client sent, and a line break where the lines are made is refused,
never written: no header injection through the fast path."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lynkr_cli.team import limits
from lynkr_cli.team.limits import Admission, MemoryLimitStore
from lynkr_cli.team.store import Decision
from lynkr_cli.team.types import MINUTE, REQUESTS_M, Principal
from tests.serve.conftest import FAMILIES, provider_settings
from tests.team.test_gateway_keys import issue

INJECTED = "x-injected"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_a_line_break_in_client_input_reaches_no_header(
    invoke: Any, gateway: Any, fake: Any, stream: bool
) -> None:
    upstream = await fake(**FAMILIES["anthropic"])
    key = issue(invoke, "alice", "--rpm", "100", "--tpm", "100000")
    gw = await gateway(**provider_settings("anthropic", upstream))
    body = {
        "model": f"claude-sonnet-4-5\r\n{INJECTED}: 1",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": f"hi\r\n{INJECTED}: 2\r\n\r\n"}],
        "metadata": {"user_id": f"u\r\n{INJECTED}: 3"},
        "stream": stream,
    }
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=body, headers={"x-api-key": key})
    assert resp.status_code == 200, resp.text  # served, the line breaks kept in the JSON
    assert INJECTED not in resp.headers
    assert all("\n" not in v and "\r" not in v for v in resp.headers.values())
    assert resp.headers.get_list("anthropic-ratelimit-requests-remaining") == ["99"]


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_a_line_break_where_the_lines_are_made_is_refused(native: bool) -> None:
    if native and limits._native is None:
        pytest.skip("the C accelerator is not built")
    limits.set_native(native)
    reset = 1_790_000_060.0  # the minute window's end below: its text comes from the cache
    limits._RESETS[reset] = f"2026-09-21T14:14:20Z\r\n{INJECTED}: 1"
    try:
        plan = ((REQUESTS_M, 10, MINUTE),)
        windows = ((1_790_000_000.0, reset), (0.0, 1.0), (0.0, 1.0))
        if native:
            checks, decision, lines = MemoryLimitStore().admit_plan("k", plan, windows, (1, 0, 0))
            assert decision.ok and lines is None  # the C side will not make such a line
        else:
            with pytest.raises(ValueError, match="line break"):
                MemoryLimitStore().admit_plan("k", plan, windows, (1, 0, 0))
            checks = limits.build_checks(plan, windows, (1, 0, 0))
            decision = Decision(True, (1,), -1)
        admission = Admission(
            Principal("k", "alice", "lk-alice"), ("m",), 0, 0, checks, decision.values
        )
        with pytest.raises(ValueError, match="line break"):
            admission.header_lines()  # an error answer, never an injected header
    finally:
        limits._RESETS.pop(reset, None)
        limits.set_native(True)
