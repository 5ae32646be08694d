"""provider.token_command: a real command prints bearer tokens; fake upstreams check them.

The command is a small Python script in tmp. It counts its runs in a file, prints
``tok-<n>-<padding>`` (token-shaped, so redaction is tested for real) as plain text
or JSON, and reads its behaviour from files: ``mode`` (plain/json/fail/empty/slow/
junk), ``sleep`` (seconds before answering), ``expires_in`` (for json).
"""

from __future__ import annotations

import asyncio
import io
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from lynkr_cli import logs
from tests.serve.conftest import FAMILIES

PAD = "Zq7" * 12  # makes every token 40+ characters of base64-ish text

SCRIPT = r"""
import json, sys, time
from pathlib import Path

state = Path(sys.argv[1])
runs = state / "runs"
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))

def read(name, default=""):
    p = state / name
    return p.read_text().strip() if p.exists() else default

time.sleep(float(read("sleep", "0")))
token = f"tok-{n}-" + PAD
mode = read("mode", "plain")
if mode == "fail":
    print("", file=sys.stderr)
    print(f"ERROR: AADSTS700082: refresh token expired; last token {token}", file=sys.stderr)
    print("second line never shown", file=sys.stderr)
    sys.exit(3)
if mode == "slow":
    time.sleep(60)
if mode == "empty":
    sys.exit(0)
if mode == "junk":
    print("two words")
    sys.exit(0)
if mode == "json":
    doc = {"access_token": token, "token_type": "Bearer"}
    if read("expires_in"):
        doc["expires_in"] = float(read("expires_in"))
    print(json.dumps(doc))
else:
    print(token)
""".replace("PAD", repr(PAD))


class Helper:
    """The token script and its state directory."""

    def __init__(self, tmp: Path) -> None:
        self.state = tmp / "token-state"
        self.state.mkdir()
        script = tmp / "token_helper.py"
        script.write_text(SCRIPT)
        self.command = shlex.join([sys.executable, str(script), str(self.state)])

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            (self.state / name).write_text(str(value))

    @property
    def runs(self) -> int:
        p = self.state / "runs"
        return int(p.read_text()) if p.exists() else 0


def token(n: int) -> str:
    return f"tok-{n}-{PAD}"


@pytest.fixture
def helper(tmp_path: Path) -> Helper:
    return Helper(tmp_path)


def settings(family: str, up: Any, helper: Helper, **extra: Any) -> dict[str, Any]:
    """Provider settings with a token command and no API key at all."""
    out: dict[str, Any] = {"provider.token_command": helper.command, **extra}
    if family == "azure-anthropic":
        out.update(
            {"provider.name": family, "provider.azure_anthropic_endpoint": up.url + "/anthropic"}
        )
    elif family in ("databricks", "databricks-anthropic"):
        mode = "anthropic" if family == "databricks-anthropic" else "chat"
        out.update(
            {
                "provider.name": "databricks",
                "provider.databricks_api_base": up.url,
                "provider.databricks_mode": mode,
                "provider.model_default": "my-endpoint",
            }
        )
    elif family == "openai":
        out.update(
            {
                "provider.name": "openai",
                "provider.openai_endpoint": up.url + "/v1/chat/completions",
                "provider.openai_model": "gpt-test",
            }
        )
    return out


def bearer_upstream(family: str, n: int = 1) -> dict[str, Any]:
    """Fake-upstream arguments that accept only ``Authorization: Bearer tok-<n>``."""
    spec = {**FAMILIES[family], "auth_header": "Authorization", "auth_value": f"Bearer {token(n)}"}
    return spec


def client(url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=url, api_key="client-key", max_retries=0, timeout=30)


async def ask(sdk: anthropic.AsyncAnthropic) -> str:
    msg = await sdk.messages.create(
        model="claude-client-model", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    return msg.content[0].text


BODY = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    "family", ["azure-anthropic", "databricks", "databricks-anthropic", "openai"]
)
async def test_sdk_through_each_bearer_family_with_the_command_token(
    gateway, fake, helper, family: str
) -> None:
    up = await fake(**bearer_upstream(family))
    gw = await gateway(**settings(family, up, helper))
    async with client(gw.url) as sdk:
        assert await ask(sdk) == "Hello from upstream"
        async with sdk.messages.stream(
            model="claude-client-model", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            assert "".join([t async for t in stream.text_stream]) == "Hello from upstream"
    assert up.problems == []
    assert [s.headers.get("authorization") for s in up.seen] == [f"Bearer {token(1)}"] * 2
    for seen in up.seen:  # the key headers are not sent at all
        assert "x-api-key" not in seen.headers and "api-key" not in seen.headers
    assert helper.runs == 1


async def test_no_key_but_a_token_command_is_configured(gateway, fake, helper) -> None:
    up = await fake(**bearer_upstream("azure-anthropic"))
    gw = await gateway(**settings("azure-anthropic", up, helper))
    assert gw.gw.configuration_problem() is None
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        ready = await http.get("/health/ready")
    assert ready.status_code == 200
    assert helper.runs == 0  # nothing runs until a request needs a token


async def test_without_key_or_command_the_503_mentions_the_token_command(gateway, fake) -> None:
    up = await fake(**bearer_upstream("databricks"))
    gw = await gateway(**{"provider.name": "databricks", "provider.databricks_api_base": up.url})
    async with httpx.AsyncClient(base_url=gw.url, timeout=10) as http:
        resp = await http.post("/v1/messages", json=BODY)
    assert resp.status_code == 503
    message = resp.json()["error"]["message"]
    assert "DATABRICKS_API_KEY" in message and "LYNKR_TOKEN_COMMAND" in message


async def test_many_requests_one_run_while_fresh(gateway, fake, helper) -> None:
    up = await fake(**bearer_upstream("databricks"))
    gw = await gateway(**settings("databricks", up, helper))
    async with client(gw.url) as sdk:
        for _ in range(6):
            assert await ask(sdk) == "Hello from upstream"
    assert helper.runs == 1 and len(up.seen) == 6


async def test_ttl_expiry_runs_the_command_again(gateway, fake, helper) -> None:
    up = await fake(**bearer_upstream("azure-anthropic"))
    gw = await gateway(
        **settings("azure-anthropic", up, helper, **{"provider.token_ttl_seconds": 0.4})
    )
    async with client(gw.url) as sdk:
        await ask(sdk)
        await ask(sdk)
        assert helper.runs == 1
        up.auth_value = f"Bearer {token(2)}"  # the next token is the only valid one now
        await asyncio.sleep(0.5)
        assert await ask(sdk) == "Hello from upstream"
    assert helper.runs == 2
    assert up.seen[-1].headers["authorization"] == f"Bearer {token(2)}"


async def test_json_output_and_its_expires_in_are_honoured(gateway, fake, helper) -> None:
    helper.set(mode="json", expires_in=1.0)  # under two minutes: fresh for half of it
    up = await fake(**bearer_upstream("databricks-anthropic"))
    gw = await gateway(**settings("databricks-anthropic", up, helper))  # TTL stays 300 s
    async with client(gw.url) as sdk:
        await ask(sdk)
        await ask(sdk)
        assert helper.runs == 1
        up.auth_value = f"Bearer {token(2)}"
        await asyncio.sleep(0.6)
        await ask(sdk)
    assert helper.runs == 2


async def test_a_401_runs_the_command_again_and_retries_once(gateway, fake, helper) -> None:
    # The upstream already wants token 2 (token 1 was revoked): 401, fresh token, success.
    up = await fake(**bearer_upstream("azure-anthropic", n=2))
    gw = await gateway(**settings("azure-anthropic", up, helper))
    async with client(gw.url) as sdk:
        assert await ask(sdk) == "Hello from upstream"
        assert await ask(sdk) == "Hello from upstream"  # token 2 is cached now
    assert helper.runs == 2
    assert [s.headers["authorization"] for s in up.seen] == [
        f"Bearer {token(1)}",
        f"Bearer {token(2)}",
        f"Bearer {token(2)}",
    ]


async def test_a_second_401_is_the_error_after_exactly_one_retry(gateway, fake, helper) -> None:
    stream = io.StringIO()
    logs.configure("debug", stream)
    up = await fake(**bearer_upstream("databricks", n=99))  # no token the command makes works
    gw = await gateway(
        **settings("databricks", up, helper, **{"provider.max_retries": 2}),
        **{"server.access_log": True},
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=BODY)
    await asyncio.sleep(0.2)  # access-log lines are written in batches
    assert resp.status_code == 401 and resp.headers["x-should-retry"] == "false"
    message = resp.json()["error"]["message"]
    assert "LYNKR_TOKEN_COMMAND" in message
    assert helper.runs == 2 and len(up.seen) == 2
    text = stream.getvalue()
    for leak in (token(1), token(2), PAD):
        assert leak not in text and leak not in resp.text


async def test_concurrent_requests_share_one_run(gateway, fake, helper) -> None:
    helper.set(sleep=0.5)
    up = await fake(**bearer_upstream("databricks"))
    gw = await gateway(**settings("databricks", up, helper))
    async with client(gw.url) as sdk:
        answers = await asyncio.gather(*(ask(sdk) for _ in range(8)))
    assert answers == ["Hello from upstream"] * 8
    assert helper.runs == 1 and len(up.seen) == 8


async def _failing(gateway, fake, helper: Helper, mode: str, **extra: Any) -> httpx.Response:
    stream = io.StringIO()
    logs.configure("debug", stream)
    helper.set(mode=mode)
    up = await fake(**bearer_upstream("azure-anthropic"))
    gw = await gateway(
        **settings("azure-anthropic", up, helper, **{"provider.max_retries": 2}),
        **{"server.access_log": True},
    )
    source = gw.gw.providers["azure-anthropic"].token
    source.timeout = 1.0
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=BODY)
        again = await http.post("/v1/messages", json=BODY)  # within the failure hold
    assert time.monotonic() - started < 8
    await asyncio.sleep(0.2)
    assert again.status_code == resp.status_code == 502
    assert resp.headers["x-should-retry"] == "false"
    doc = resp.json()
    assert doc["type"] == "error" and doc["error"]["type"] == "api_error"
    assert "token command failed" in doc["error"]["message"]
    assert "LYNKR_TOKEN_COMMAND" in doc["error"]["message"]
    assert helper.runs == 1  # not run again and again
    assert up.seen == []  # nothing went upstream without a token
    text = stream.getvalue()
    for leak in (token(1), PAD):
        assert leak not in text and leak not in resp.text
    return resp


async def test_failing_command_is_a_clear_error_with_its_redacted_stderr(
    gateway, fake, helper
) -> None:
    resp = await _failing(gateway, fake, helper, "fail")
    message = resp.json()["error"]["message"]
    assert "exited with status 3" in message
    assert "AADSTS700082: refresh token expired" in message
    assert "[redacted]" in message and "second line" not in message


async def test_slow_command_is_killed_at_the_timeout(gateway, fake, helper) -> None:
    resp = await _failing(gateway, fake, helper, "slow")
    assert "did not finish within 1s" in resp.json()["error"]["message"]


@pytest.mark.parametrize(("mode", "says"), [("empty", "no token"), ("junk", "more than one word")])
async def test_empty_or_unusable_output_is_a_clear_error(
    gateway, fake, helper, mode: str, says: str
) -> None:
    resp = await _failing(gateway, fake, helper, mode)
    assert says in resp.json()["error"]["message"]


async def test_a_fixed_command_works_after_the_failure_hold(gateway, fake, helper) -> None:
    helper.set(mode="fail")
    up = await fake(**bearer_upstream("azure-anthropic", n=2))
    gw = await gateway(**settings("azure-anthropic", up, helper))
    gw.gw.providers["azure-anthropic"].token.failure_hold = 0.2
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        assert (await http.post("/v1/messages", json=BODY)).status_code == 502
        helper.set(mode="plain")
        await asyncio.sleep(0.3)
        assert (await http.post("/v1/messages", json=BODY)).status_code == 200
    assert helper.runs == 2


async def test_missing_program_names_it(gateway, fake, tmp_path) -> None:
    up = await fake(**bearer_upstream("databricks"))
    missing = tmp_path / "no-such-helper"
    gw = await gateway(
        **{
            "provider.name": "databricks",
            "provider.databricks_api_base": up.url,
            "provider.token_command": f"{missing} --flag",
        }
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        resp = await http.post("/v1/messages", json=BODY)
    assert resp.status_code == 502
    assert "no-such-helper" in resp.json()["error"]["message"]


async def test_native_anthropic_keeps_its_api_key(gateway, fake, helper) -> None:
    up = await fake(**FAMILIES["anthropic"])  # x-api-key: up-key
    gw = await gateway(
        **{
            "provider.name": "anthropic",
            "provider.anthropic_endpoint": up.url + "/v1/messages",
            "provider.anthropic_api_key": "up-key",
            "provider.token_command": helper.command,
        }
    )
    async with client(gw.url) as sdk:
        assert await ask(sdk) == "Hello from upstream"
    assert helper.runs == 0 and "authorization" not in up.seen[0].headers


async def test_deep_ready_uses_the_token_and_reports_a_failing_command(
    gateway, fake, helper
) -> None:
    up = await fake(**bearer_upstream("azure-anthropic"))
    gw = await gateway(**settings("azure-anthropic", up, helper))
    async with httpx.AsyncClient(base_url=gw.url, timeout=20) as http:
        ok = await http.get("/health/ready?deep=1")
        assert ok.status_code == 200 and ok.json()["upstream_status"] != 401
        assert up.seen[-1].headers["authorization"] == f"Bearer {token(1)}"
    helper.set(mode="fail")
    gw2 = await gateway(**settings("azure-anthropic", up, helper))
    async with httpx.AsyncClient(base_url=gw2.url, timeout=20) as http:
        bad = await http.get("/health/ready?deep=1")
    assert bad.status_code == 503 and "token command failed" in bad.json()["problem"]
    assert PAD not in bad.text


async def test_count_tokens_forwarding_sends_the_token(gateway, fake, helper) -> None:
    up = await fake(**bearer_upstream("azure-anthropic"))
    gw = await gateway(**settings("azure-anthropic", up, helper))
    async with client(gw.url) as sdk:
        count = await sdk.messages.count_tokens(
            model="claude-client-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert count.input_tokens > 0
    assert up.seen[0].path.endswith("/count_tokens")
    assert up.seen[0].headers["authorization"] == f"Bearer {token(1)}"
    assert helper.runs == 1
