"""Fixtures for lynkr-bedrock's tests, on top of lynkr's own (its checkout's ``tests``).

The AWS chain is confined to the test: every ``AWS_*`` variable is cleared, the shared
config and credentials files point into tmp, and the instance-metadata lookup is off,
so nothing reaches beyond 127.0.0.1 and no developer's identity leaks in.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke, lynkr_home, require, runner, workdir  # noqa: F401
from tests.serve.conftest import gateway  # noqa: F401

try:
    import lynkr_bedrock
except ImportError:  # pragma: no cover - `make test` installs it
    lynkr_bedrock = None

from fake_bedrock import FakeBedrock

KEY_ID, SECRET = "AKIDLYNKRTEST0000001", "bedrock-test-secret-key-0123456789abcd"


@pytest.fixture(autouse=True)
def aws_env(
    lynkr_home: Path,  # noqa: F811  # tests.conftest's fixture, requested first
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Path]:
    require(lynkr_bedrock is not None, "lynkr-bedrock is not installed (make venv installs it)")
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    aws = tmp_path / "aws"
    aws.mkdir()
    files = {"config": aws / "config", "credentials": aws / "credentials"}
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files["config"]))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files["credentials"]))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("LYNKR_LOAD_PLUGINS", "bedrock")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    # botocore resolves ~/.aws/sso/cache once, at import, with this run's HOME: point it
    # at the test's home, as a process started with that HOME would.
    import botocore.credentials
    import botocore.tokens

    sso_cache = tmp_path / "home" / ".aws" / "sso" / "cache"
    for cls in (botocore.credentials.SSOProvider, botocore.tokens.SSOTokenProvider):
        monkeypatch.setattr(cls, "_SSO_TOKEN_CACHE_DIR", str(sso_cache))
    return files


@pytest.fixture
async def bedrock() -> AsyncIterator[Callable[..., Awaitable[FakeBedrock]]]:
    started: list[FakeBedrock] = []

    async def start(**kwargs: Any) -> FakeBedrock:
        kwargs.setdefault("keys", {KEY_ID: (SECRET, None)})
        fake = await FakeBedrock(**kwargs).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        await fake.stop()


def static_keys(monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    if token is not None:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)


def settings_for(fake: FakeBedrock, **extra: Any) -> dict[str, Any]:
    return {
        "provider.name": "bedrock",
        "provider.bedrock.region": fake.region,
        "provider.bedrock.endpoint": fake.url,
        **extra,
    }
