"""Each detector: what it finds (and exactly what it replaces), and what it leaves alone."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from lynkr_cli.guard.api import scan
from lynkr_cli.guard.kinds import ALL_KINDS, resolve_kinds
from tests.guard.samples import (
    AMEX,
    CARD,
    IBAN_GB,
    PII,
    SECRETS,
    grouped,
    iban,
    luhn_complete,
    rand,
    user,
)

FOUND = {**SECRETS, **PII}


def test_every_kind_has_a_sample() -> None:
    assert set(FOUND) == set(ALL_KINDS)


@pytest.mark.parametrize("kind", sorted(FOUND))
def test_each_kind_is_found_and_only_its_value_replaced(kind: str) -> None:
    text, value = FOUND[kind]
    result = scan(user(text), mode="redact", kinds=("all",))
    assert [(f.kind, f.location, f.count) for f in result.findings] == [
        (kind, "messages.0.content", 1)
    ]
    redacted = result.body["messages"][0]["content"]
    assert redacted == text.replace(value, f"[REDACTED:{kind}]")
    assert value not in repr(result.findings) and value not in repr(result.to_dict())


@pytest.mark.parametrize("kind", sorted(FOUND))
def test_a_kind_not_chosen_is_not_looked_for(kind: str) -> None:
    others = [k for k in ALL_KINDS if k != kind]
    # (ANTHROPIC_API_KEY=… is still a secret assignment when anthropic_api_key is off)
    assert kind not in {f.kind for f in scan(user(FOUND[kind][0]), kinds=others).findings}


def test_private_ip_is_opt_in() -> None:
    text = PII["private_ip"][0]
    assert scan(user(text)).findings == ()
    assert [f.kind for f in scan(user(text), kinds=("pii", "private_ip")).findings] == [
        "private_ip"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "call +1 415 555 2671 now",
        "tel: +33 1 23 45 67 89",
        "+49 30 901820",
        "mobile +86 138 0013 8000.",
        "(415) 555-2671",
    ],
)
def test_phone_numbers_in_international_and_nanp_forms(text: str) -> None:
    assert [f.kind for f in scan(user(text)).findings] == ["phone"]


@pytest.mark.parametrize(
    "text",
    [
        CARD,  # ungrouped
        "-".join(CARD[i : i + 4] for i in range(0, 16, 4)),
        f"{AMEX[:4]} {AMEX[4:10]} {AMEX[10:]}",  # Amex 4-6-5
        luhn_complete("5", 16),
        luhn_complete("6011", 16),
    ],
)
def test_card_numbers_in_their_printed_forms(text: str) -> None:
    assert [f.kind for f in scan(user(f"card: {text}.")).findings] == ["credit_card"]


def test_card_number_failing_luhn_or_without_a_network_is_not_found() -> None:
    bad_check = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    no_network = luhn_complete("9", 16)
    assert scan(user(f"{bad_check} {no_network}")).findings == ()


@pytest.mark.parametrize(
    "value",
    [IBAN_GB, grouped(IBAN_GB), iban("NO", "86011117947"), iban("FR", "20041010050500013M02606")],
)
def test_ibans_grouped_or_not(value: str) -> None:
    assert [f.kind for f in scan(user(f"pay to {value} today")).findings] == ["iban"]


def test_iban_with_a_bad_check_or_length_is_not_found() -> None:
    bad = IBAN_GB[:2] + f"{(int(IBAN_GB[2:4]) + 1) % 100:02d}" + IBAN_GB[4:]
    assert scan(user(f"{bad} {IBAN_GB}0 {IBAN_GB[:-1]}")).findings == ()


@pytest.mark.parametrize(
    "text", ["10.0.0.1", "172.31.255.1:8080", "192.168.1.20", "169.254.10.1", "fd12:3456:789a::1",
             "fe80::1ff:fe23:4567:890a"],
)  # fmt: skip
def test_private_addresses(text: str) -> None:
    assert [f.kind for f in scan(user(f"host {text} up"), kinds=("private_ip",)).findings] == [
        "private_ip"
    ]


_SHA1 = hashlib.sha1(b"lynkr").hexdigest()
_SHA256 = hashlib.sha256(b"lynkr").hexdigest()
_SRI = base64.b64encode(hashlib.sha512(b"lynkr").digest()).decode()

NOT_FOUND = [
    f"commit {_SHA1}",
    f"sha256 {_SHA256}",
    f"session {uuid.UUID(int=2**127 + 12345)}",
    f'"integrity": "sha512-{_SRI}"',
    f"requests==2.31.0 --hash=sha256:{_SHA256}",
    f'checksum = "{_SHA256}"',
    f'{{file = "x-1.0-py3-none-any.whl", hash = "sha256:{_SHA256}"}}',
    f"docker pull image@sha256:{_SHA256}",
    "version 1.2.3, v10.0.0, 3.11.4, 1.0.0+20130313144700",
    "2026-11-22T11:30:43Z, epoch 1700000000, in ms 1700000000000, in ns 1700000000000000000",
    "ISBN 978-0-306-40615-7 or 9780306406157",
    "localhost:8080 127.0.0.1:5432 0.0.0.0:443",
    "a diff:\n+1700000000\n-1600000000\n",
    "+5 more lines, +1 2023",
    "fiction: (415) 555-0132, +1 212 555 0199, +44 20 7946 0018, +44 7700 900123",
    "task-notification, disk-cache-dir, risk-assessment",
    # the detectors' own docs and test fixtures
    "AKIA" + "IOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "pay with 4242 4242 4242 4242 or 4111-1111-1111-1111",
    "DE89 3704 0044 0532 0130 00 and GB82 WEST 1234 5698 7654 32",
    "sk-ant- is the Anthropic key prefix",
    'password = "changeme-changeme-changeme"',
    'api_key = "${ANTHROPIC_API_KEY}"',
    "DB_PASSWORD=$DB_PASSWORD",
    "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n{body}\n-----END OPENSSH " + "PRIVATE KEY-----",
    "http://user:password@proxy.corp:3128 postgres://app:${DB_PASS}@db/app",
    # addresses that are no person's
    "Co-Authored-By: Claude <noreply@anthropic.com>",
    "git clone git@github.com:org/repo.git",
    "icon@2x.png logo@3x.webp user@example.com a@b.test",
    "@pytest.fixture\n+@pytest.mark.parametrize('x', [1])",
    "npm i react@18.2.0 @types/node; x = a@b.T",
    # code
    "TOKEN_URL=https://oauth2.googleapis.com/token",
    "MAX_TOKENS=4096 SECRET_FILE_BYTES=65_536 tokens_per_second=123456789",
    "export PATH=/usr/local/bin:$PATH",
    'json.dumps({"apiKeyHelper": "/usr/local/bin/key"})',
]


@pytest.mark.parametrize("text", NOT_FOUND)
def test_code_and_documentation_are_not_findings(text: str) -> None:
    assert scan(user(text), kinds=("secrets", "pii")).findings == ()


def test_kind_names_and_groups_resolve() -> None:
    assert resolve_kinds(["pii"]) == {"email", "phone", "credit_card", "iban"}
    assert "private_ip" not in resolve_kinds(["secrets", "pii"])
    assert resolve_kinds(["all"]) == set(ALL_KINDS)
    assert resolve_kinds([" Private-IP ", ""]) == {"private_ip"}
    with pytest.raises(ValueError, match="unknown guard kind 'emails'"):
        scan(user("x"), kinds=("emails",))


def test_random_prose_has_no_findings() -> None:
    words = [rand("abcdefghijklmnopqrstuvwxyz", n) for n in range(1, 12) for _ in range(200)]
    assert scan(user(" ".join(words))).findings == ()


def test_without_re2_python_re_finds_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from lynkr_cli.guard import engine

    text = "\n".join([*(t for t, _ in FOUND.values()), *NOT_FOUND])
    expected = scan(user(text), mode="redact", kinds=("all",))
    monkeypatch.setattr(engine, "_re2_finder", lambda source: None)  # no wheel: re only
    engine.candidates.cache_clear()
    try:
        fallback = scan(user(text), mode="redact", kinds=("all",))
    finally:
        engine.candidates.cache_clear()
    assert fallback.findings == expected.findings and fallback.body == expected.body
    assert {f.kind for f in fallback.findings} == set(ALL_KINDS)
