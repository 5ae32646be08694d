"""Secret detectors: each kind found, placeholders and prose left alone, values never echoed."""

from __future__ import annotations

import pytest

from lynkr_cli.git.secrets import redact_line, scan, scan_line, shannon_entropy

# Built at run time so this file holds no credential-shaped literal.
HEX32 = "0123456789abcdef" * 2
B62 = "Zq7xK2mP9vL4tR8wY3nB6cJ1hF5gD0sA"
SAMPLES = {
    "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "AWS access key id": "key = " + "AKIA" + "Q3EGRSPW7JZ2XK4N",
    "AWS secret access key": "aws_secret_access_key = " + (B62 + "Ab1/Cd2+")[:40],
    "GCP API key": "k = '" + "AIza" + (B62 + "xyz")[:35] + "'",
    "GCP service account key": '"private_key_id": "' + HEX32 + "01234567" + '"',
    "Azure storage account key": "AccountKey=" + (B62 * 3)[:86] + "==;",
    "GitHub token": "token: " + "ghp_" + (B62 + "abcd")[:36],
    "Slack token": "SLACK=" + "xoxb-" + "1234567890-" + B62[:12],
    "Slack webhook": "https://hooks.slack.com/services/" + "T0123ABC/B0456DEF/" + B62[:24],
    "Anthropic API key": "ANTHROPIC_API_KEY=" + "sk-ant-" + "api03-" + (B62 * 3)[:80],
    "OpenAI API key": "OPENAI_API_KEY=" + "sk-proj-" + (B62 * 2)[:48],
    "Databricks token": "DATABRICKS_API_KEY=" + "dapi" + HEX32,
    "high-entropy secret assignment": 'client_secret = "' + "q8Vz3LpW1nX7rT5kYb2M" + '"',
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_kind_is_found(kind):
    assert scan_line(SAMPLES[kind]) == kind


@pytest.mark.parametrize(
    "line",
    [
        'password = "changeme-changeme-changeme"',
        'api_key = "your-api-key-goes-here-please"',
        'token = "${GITHUB_TOKEN_FROM_THE_ENVIRONMENT}"',
        'secret = "aaaaaaaaaaaaaaaaaaaaaaaa"',  # long but not random
        "def get_token(self) -> str:",
        "# rotate the API key every 90 days",
        "sk-ant- is the Anthropic key prefix",
        'TOKEN = "sk-token-secretvalue-wxyz"',  # a test fixture, says so itself
        'api_key = "fake-key-for-unit-tests-0123"',
        'author_email = "jane.doe@company.org"',
    ],
)
def test_placeholders_and_prose_are_not_secrets(line):
    assert scan_line(line) is None


def test_scan_reports_location_and_kind_only():
    value = "dapi" + HEX32
    findings = scan("conf/app.env", [(3, "x = 1"), (7, "TOKEN=" + value)])
    assert [f.to_dict() for f in findings] == [
        {"path": "conf/app.env", "line": 7, "kind": "Databricks token"}
    ]
    assert value not in repr(findings)


def test_redact_line_removes_the_value():
    for line in SAMPLES.values():
        redacted = redact_line(line)
        assert scan_line(redacted) is None, redacted


def test_entropy():
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy(B62) > 4.5
