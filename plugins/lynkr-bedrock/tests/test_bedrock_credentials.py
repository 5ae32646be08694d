"""Credentials from the standard AWS chain, never from the client, refreshed when due.

Each source is real botocore reading real files: a profile in the shared credentials
file, a ``credential_process`` whose keys expire (and rotate) between requests, and IAM
Identity Center through the SSO token cache, with a fake SSO portal on 127.0.0.1
(``AWS_ENDPOINT_URL_SSO``) answering GetRoleCredentials.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import anthropic
from aiohttp import web
from conftest import settings_for

HI = [{"role": "user", "content": "hi"}]


async def ask(url: str, n: int = 1) -> None:
    async with anthropic.AsyncAnthropic(base_url=url, api_key="client", max_retries=0) as c:
        for _ in range(n):
            msg = await c.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
            assert msg.content[0].text == "Hello from Bedrock"  # type: ignore[union-attr]


async def test_a_profile_in_the_shared_credentials_file(gateway, bedrock, aws_env) -> None:
    aws_env["credentials"].write_text(
        "[default]\naws_access_key_id = AKIDWRONGDEFAULT0000\naws_secret_access_key = nope\n"
        "[team]\naws_access_key_id = AKIDTEAMPROFILE00001\n"
        "aws_secret_access_key = team-secret-0123456789\n"
    )
    fake = await bedrock(keys={"AKIDTEAMPROFILE00001": ("team-secret-0123456789", None)})
    gw = await gateway(**settings_for(fake, **{"provider.bedrock.profile": "team"}))
    await ask(gw.url)
    assert fake.problems == [] and fake.seen[0]["key"] == "AKIDTEAMPROFILE00001"


PROCESS = """
import json, sys, datetime, pathlib
counter = pathlib.Path(sys.argv[1])
n = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(n))
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
print(json.dumps({"Version": 1, "AccessKeyId": f"AKIDPROCESS{n:09d}",
                  "SecretAccessKey": f"process-secret-{n}", "SessionToken": f"token-{n}",
                  "Expiration": expires.isoformat()}))
"""


async def test_expiring_credentials_are_refreshed(gateway, bedrock, aws_env, tmp_path) -> None:
    """Keys that expire in 5 minutes are inside botocore's refresh window: each request
    gets fresh ones from the process (rotated here), and every signature is valid."""
    script, counter = tmp_path / "creds.py", tmp_path / "count"
    script.write_text(PROCESS)
    aws_env["config"].write_text(
        f"[profile proc]\ncredential_process = {sys.executable} {script} {counter}\n"
    )
    keys = {f"AKIDPROCESS{n:09d}": (f"process-secret-{n}", f"token-{n}") for n in range(1, 9)}
    fake = await bedrock(keys=keys)
    gw = await gateway(**settings_for(fake, **{"provider.bedrock.profile": "proc"}))
    await ask(gw.url, n=2)
    assert fake.problems == []
    used = [s["key"] for s in fake.seen]
    assert used[0] != used[1] and int(counter.read_text()) >= 2


def sso_portal(seen: list[dict[str, str]]) -> web.Application:
    async def credentials(request: web.Request) -> web.Response:
        seen.append({"token": request.headers.get("x-amz-sso_bearer_token", ""),
                     **request.query})  # fmt: skip
        expiration = int((time.time() + 3600) * 1000)
        role = {"accessKeyId": "AKIDSSOROLE000000001", "secretAccessKey": "sso-secret-0000",
                "sessionToken": "sso-session-token", "expiration": expiration}  # fmt: skip
        return web.json_response({"roleCredentials": role})

    app = web.Application()
    app.router.add_get("/federation/credentials", credentials)
    return app


async def test_iam_identity_center_from_the_sso_token_cache(
    gateway, bedrock, aws_env, monkeypatch, tmp_path
) -> None:
    aws_env["config"].write_text(
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
        "sso_role_name = Developer\n\n[sso-session corp]\n"
        "sso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
    )
    cache = Path(tmp_path / "home" / ".aws" / "sso" / "cache")  # aws_env points botocore here
    cache.mkdir(parents=True)
    token = {
        "startUrl": "https://corp.awsapps.com/start",
        "region": "us-east-1",
        "accessToken": "cached-sso-access-token",
        "expiresAt": "2099-01-01T00:00:00Z",
    }
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(json.dumps(token))
    calls: list[dict[str, str]] = []
    runner = web.AppRunner(sso_portal(calls), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", f"http://127.0.0.1:{runner.addresses[0][1]}")
    try:
        role = ("sso-secret-0000", "sso-session-token")
        fake = await bedrock(keys={"AKIDSSOROLE000000001": role})
        gw = await gateway(**settings_for(fake, **{"provider.bedrock.profile": "dev"}))
        await ask(gw.url, n=2)
    finally:
        await runner.cleanup()
    assert fake.problems == [] and {s["key"] for s in fake.seen} == {"AKIDSSOROLE000000001"}
    assert calls[0]["token"] == "cached-sso-access-token"
    assert calls[0]["account_id"] == "111122223333" and calls[0]["role_name"] == "Developer"
    assert len(calls) == 1  # an hour left: resolved once, then read from memory


async def test_an_expired_sso_login_says_to_log_in(gateway, bedrock, aws_env, tmp_path) -> None:
    aws_env["config"].write_text(
        "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        "sso_region = us-east-1\n"
    )
    fake = await bedrock()
    gw = await gateway(**settings_for(fake, **{"provider.bedrock.profile": "dev"}))
    async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="c", max_retries=0) as client:
        try:
            await client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=HI)
        except anthropic.InternalServerError as exc:
            message = exc.body["error"]["message"]  # type: ignore[index]
        else:
            raise AssertionError("an unsigned request went through")
    assert "aws sso login" in message and fake.seen == []
