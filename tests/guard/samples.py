"""Secret- and PII-shaped values for the guard's tests, built at run time.

No file in the repository holds a credential-shaped literal: each value is made from a
seeded random alphabet, so a secret scanner run over the source finds nothing here.
"""

from __future__ import annotations

import random
import string
from typing import Any

_RNG = random.Random(1512)
UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def rand(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def luhn_complete(prefix: str, length: int) -> str:
    """``prefix`` padded with random digits to ``length`` with a valid Luhn check digit."""
    body = prefix + rand(string.digits, length - len(prefix) - 1)
    for check in string.digits:
        digits = body + check
        total = sum(
            (n * 2 - 9 if n * 2 > 9 else n * 2) if i % 2 else n
            for i, n in enumerate(int(c) for c in reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def iban(country: str, bban: str) -> str:
    """A valid IBAN (mod-97 check digits computed) for ``country`` and ``bban``."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def grouped(value: str) -> str:
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def pem() -> str:
    lines = [rand(B64, 64) for _ in range(4)] + [rand(B64, 20) + "=="]
    head, tail = "-----BEGIN RSA " + "PRIVATE KEY-----", "-----END RSA " + "PRIVATE KEY-----"
    return "\n".join([head, *lines, tail])


AWS_ID = "AKIA" + rand(UPPER_DIGITS, 16)
AWS_SECRET = rand(ALNUM + "/+", 40)
GITHUB = "ghp_" + rand(ALNUM, 36)
ANTHROPIC = "sk-ant-api03-" + rand(ALNUM + "_-", 93)
OPENAI = "sk-proj-" + rand(ALNUM + "_-", 48)
DATABRICKS = "dapi" + rand(HEX, 32)
SLACK = "xoxb-" + rand(string.digits, 12) + "-" + rand(ALNUM, 24)
GCP_KEY = "AIza" + rand(ALNUM + "_-", 35)
PASSWORD = rand(ALNUM, 14) + "!9"
CARD = luhn_complete("45", 16)
AMEX = luhn_complete("37", 15)
IBAN_DE = iban("DE", "50010517" + rand(string.digits, 10))
IBAN_GB = iban("GB", "NWBK" + rand(string.digits, 14))

# kind -> (text holding it, the exact substring a redaction replaces)
SECRETS: dict[str, tuple[str, str]] = {
    "private_key": (f"key:\n{(key := pem())}\nbye", key),
    "aws_access_key": (f"aws_access_key_id = {AWS_ID}", AWS_ID),
    "aws_secret_key": (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    "gcp_api_key": (f"key={GCP_KEY}&q=1", GCP_KEY),
    "gcp_service_account_key": (
        f'{{"type": "service_account", "private_key_id": "{(hid := rand(HEX, 40))}"}}',
        hid,
    ),
    "azure_storage_key": (
        f"DefaultEndpointsProtocol=https;AccountKey={(ak := rand(ALNUM + '+/', 86) + '==')};",
        ak,
    ),
    "azure_client_secret": (f"secret: {(az := 'aB3' + '8Q~' + rand(ALNUM + '_-', 34))}", az),
    "github_token": (f"token {GITHUB} in the remote", GITHUB),
    "slack_token": (f"SLACK={SLACK}", SLACK),
    "slack_webhook": (
        "post to " + (hook := "https://hooks.slack.com/services/" + "T0" + rand(UPPER_DIGITS, 8)
                      + "/B0" + rand(UPPER_DIGITS, 8) + "/" + rand(ALNUM, 24)),
        hook,
    ),
    "anthropic_api_key": (f"ANTHROPIC_API_KEY={ANTHROPIC}", ANTHROPIC),
    "openai_api_key": (f"key is {OPENAI}.", OPENAI),
    "databricks_token": (f"Authorization: Bearer {DATABRICKS}", DATABRICKS),
    "url_password": (f"DATABASE_URL=postgres://app:{PASSWORD}@db.internal:5432/app", PASSWORD),
    "secret_assignment": (f'client_secret = "{(cs := rand(ALNUM, 24))}"', cs),
}  # fmt: skip

PII: dict[str, tuple[str, str]] = {
    "email": ("write to alice.smith@acme-corp.com today", "alice.smith@acme-corp.com"),
    "phone": ("call +44 20 7123 4567 after 5", "+44 20 7123 4567"),
    "credit_card": (f"card {grouped(CARD)} exp 12/29", grouped(CARD)),
    "iban": (f"IBAN {grouped(IBAN_DE)}, thanks", grouped(IBAN_DE)),
    "private_ip": ("ssh admin@10.20.30.40 -p 22", "10.20.30.40"),
}


def user(text: str) -> dict[str, Any]:
    """A one-message body whose user turn is ``text``."""
    return {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": text}]}
