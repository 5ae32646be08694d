"""The token command's output parsing, expiry and redaction (the pieces, without a gateway)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from lynkr_cli.serve.token_command import (
    REFRESH_MARGIN,
    TokenCommand,
    expiry_seconds,
    first_line,
    fresh_for,
    parse_output,
    redact,
)

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_plain_output_is_stripped() -> None:
    assert parse_output(f"  {JWT}\n") == (JWT, None)
    assert parse_output(f"Bearer {JWT}\n") == (JWT, None)


@pytest.mark.parametrize("key", ["access_token", "accessToken", "token"])
def test_json_token_keys(key: str) -> None:
    assert parse_output(f'{{"{key}": "{JWT}"}}')[0] == JWT


def test_json_expires_in_and_epoch_and_iso() -> None:
    assert parse_output(f'{{"access_token": "{JWT}", "expires_in": 3599}}') == (JWT, 3599.0)
    soon = time.time() + 1000
    assert abs(expiry_seconds({"expires_on": int(soon)}) - 1000) < 3  # type: ignore[operator]
    assert abs(expiry_seconds({"expiresOn": str(int(soon))}) - 1000) < 3  # type: ignore[operator]
    iso = (datetime.now(UTC) + timedelta(seconds=1000)).isoformat().replace("+00:00", "Z")
    assert abs(expiry_seconds({"expiry": iso}) - 1000) < 3  # type: ignore[operator]
    local = (datetime.now() + timedelta(seconds=1000)).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert abs(expiry_seconds({"expiresOn": local}) - 1000) < 3  # type: ignore[operator]
    assert expiry_seconds({"expiresOn": "not a time"}) is None
    assert expiry_seconds({}) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{not json", "not"),
        ('{"token_type": "Bearer"}', "without access_token"),
        ("[1, 2]", "more than one word"),
        ("two words", "more than one word"),
    ],
)
def test_unusable_output(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_output(text)


def test_fresh_for_uses_the_expiry_minus_a_minute() -> None:
    assert fresh_for(None, 300) == 300
    assert fresh_for(3600, 300) == 3600 - REFRESH_MARGIN
    assert fresh_for(60, 300) == 30  # short-lived: half its life
    assert fresh_for(-5, 300) == 0


def test_redaction_keeps_words_and_drops_tokens() -> None:
    pat = "dapi0123456789abcdef0123456789abcdef"
    line = f"ERROR: AADSTS700082 expired, token {JWT} Bearer abc {pat}"
    out = redact(line)
    assert JWT not in out and "abc" not in out.split("Bearer")[-1] and "dapi" not in out
    assert out.startswith("ERROR: AADSTS700082 expired, token [redacted]")
    assert first_line(b"\n\n  first one  \nsecond\n") == "first one"


def test_a_command_line_that_cannot_be_split_is_reported() -> None:
    assert TokenCommand("sh -c 'unbalanced", 300).parse_error
    assert TokenCommand("   ", 300).parse_error == "it is empty"
    assert TokenCommand("az account get-access-token -o tsv", 300).argv[0] == "az"


def test_a_plugin_provider_that_skips_init_has_no_token() -> None:
    from lynkr_cli.serve.providers.base import Provider
    from lynkr_cli.settings import get_settings

    class Plugin(Provider):
        name = "plugin"

        def __init__(self, settings: object) -> None:  # no super().__init__
            self.settings = settings  # type: ignore[assignment]

    settings = get_settings({"provider.token_command": "true"}).provider
    assert Plugin(settings).token is None
