"""The one secret-file list and the one redactor every tool's output goes through."""

from __future__ import annotations

import pytest

from lynkr_cli.git.secrets import (
    content_mode,
    env_file_values,
    is_secret_path,
    known_pattern,
    redact_patch,
    redact_secrets,
    redact_window,
    scan_line,
)

# Built at run time so this file holds no credential-shaped literal.
VALUE = "q8Vz3Lp" + "W1nX7rT5k"
KEY_BLOCK = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0123456789abcdefXYZ\n" \
    "abcdEFGH1234567890+/abcdefghij==\n-----END RSA " + "PRIVATE KEY-----"  # fmt: skip


@pytest.mark.parametrize(
    ("path", "secret"),
    [(".env", True), ("a/b/.env.local", True), (".envrc", True), ("prod.env", True),
     (".ENV.Production", True), ("credentials", True), ("home/.aws/config", True),
     (".ssh/known_hosts", True), ("x/.kube/config", True), ("kube/config", False),
     (".docker/config.json", True), ("docker/config.json", False), ("secrets.yml", True),
     ("src/secrets.py", False), ("credentials.py", False), ("infra/prod.tfvars", True),
     ("state/terraform.tfstate", True), ("id_ed25519.pub", True), ("certs/site.pem", True),
     (".env.example", False), ("config/.env.sample", False), ("env.py", False),
     ("README.md", False), (".config/gcloud/credentials.db", True), ("", False)],
)  # fmt: skip
def test_secret_paths(path: str, secret: bool) -> None:
    assert is_secret_path(path) is secret


def test_content_modes() -> None:
    assert [content_mode(p) for p in (".env.example", "x.env", ".envrc", "a.yml", "b.toml",
                                      "c.json", "d.py", None)] == [
        "env", "env", "env", "config", "config", "config", "code", "code"]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "path", "expected"),
    [
        (f"export OPENAI_API_KEY={VALUE}", None, "export OPENAI_API_KEY=[REDACTED]"),
        (f'DB_PASSWORD = "{VALUE}"', None, 'DB_PASSWORD = "[REDACTED]"'),
        (f"DB_PASSWORD='{VALUE}'", "run.sh", "DB_PASSWORD='[REDACTED]'"),
        ("password: hunter22", "db.yml", "password: [REDACTED]"),
        ("  password: plainword", "db.yaml", "  password: [REDACTED]"),
        (f'{{"api_key": "{VALUE}", "n": 1}}', None, '{"api_key": "[REDACTED]", "n": 1}'),
        (f"client_secret := {VALUE}", None, "client_secret := [REDACTED]"),
        (f"--password={VALUE} --user bob", None, "--password=[REDACTED] --user bob"),
        (f"db.password={VALUE}", "app.properties", "db.password=[REDACTED]"),
        ("aws_session_token = abc123def", "x.ini", "aws_session_token = [REDACTED]"),
        ("Authorization: Basic dXNlcjpwYXNz", None, "Authorization: Basic [REDACTED]"),
        ("url = https://me:hunter2@example.com/r", None, "url = https://****@example.com/r"),
        # env files: every value, whatever its key or shape
        ("PORT=8080", ".env.example", "PORT=[REDACTED]"),
        (f"export REGION = {VALUE} # prod", ".envrc", "export REGION = [REDACTED]"),
        ("NAME: some value with spaces", "x.env", "NAME: [REDACTED]"),
        ("EMPTY=", ".env.example", "EMPTY="),
        ("# COMMENT=x", ".env.example", "# COMMENT=x"),
        ('DB_URL="${DATABASE_URL}"', None, 'DB_URL="${DATABASE_URL}"'),
    ],
)
def test_assignments_in_every_shape(line: str, path: str | None, expected: str) -> None:
    assert redact_secrets(line, path) == expected


@pytest.mark.parametrize(
    "line",
    ["self.token = token", "token = load_token()", "    password: str = ''",
     'api_key = os.environ["X"]', "SECRET_KEY = config.get('x')", "max_tokens = 1024",
     "Basic authentication is used", "PWD=/home/me", "author = jane", "token_count: 5",
     "def get_password(self) -> str:", "if token is None:"],
)  # fmt: skip
def test_code_stays_readable(line: str) -> None:
    assert redact_secrets(line, "module.py") == line


def test_private_key_blocks_and_windows() -> None:
    text = f"x = 1\nKEY = '''\n{KEY_BLOCK}\n'''\ny = 2"
    out = redact_secrets(text, "keys.py")
    assert "MIIE" not in out and "abcdEFGH" not in out
    assert out.splitlines()[0] == "x = 1" and out.splitlines()[-1] == "y = 2"
    assert len(out.splitlines()) == len(text.splitlines())
    lines = text.splitlines()
    # A read that starts inside the key still masks its body.
    assert redact_window(lines, 3, 5, "keys.py") == ["[REDACTED]", "[REDACTED]"]
    assert redact_window(lines, 0, 1, "keys.py") == ["x = 1"]
    assert redact_window(lines, 50, 60, "keys.py") == []


def test_known_values_anywhere() -> None:
    known = known_pattern([VALUE, "", "other-value-123"])
    assert known is not None
    text = f"the value {VALUE} printed bare, and other-value-123"
    assert redact_secrets(text, None, known) == "the value [REDACTED] printed bare, and [REDACTED]"
    assert known_pattern([]) is None


def test_env_file_values_keeps_only_secret_looking_ones() -> None:
    text = (f"DB_PASSWORD={VALUE}\nexport TOKEN='abcdefgh12'\nHOST=localhost\nPORT=5432\n"
            "DB_NAME=production\n#OLD=q8Vz3LpW1nX7rT5kZZ\nRANDOM=Zq7xK2mP9vL4tR8w\n")  # fmt: skip
    assert env_file_values(text) == [VALUE, "abcdefgh12", "Zq7xK2mP9vL4tR8w"]


PATCH = """diff --git a/.env b/.env
index 1..2 100644
--- a/.env
+++ b/.env
@@ -1 +1,2 @@
-DB_PASSWORD=old
+DB_PASSWORD={v}
+X=1
diff --git a/.env b/notes.txt
similarity index 90%
rename from .env
rename to notes.txt
--- a/.env
+++ b/notes.txt
@@ -1 +1 @@
-A={v}
+B={v}
diff --git a/config.yml b/config.yml
--- a/config.yml
+++ b/config.yml
@@ -1,2 +1,2 @@
 user: app
-password: old1
+password: {v}
diff --git a/.env.example b/.env.example
--- a/.env.example
+++ b/.env.example
@@ -0,0 +1 @@
+PORT=8080
diff --git a/id_rsa b/id_rsa
new file mode 100644
Binary files /dev/null and b/id_rsa differ
"""


def test_patch_withholds_secret_files_and_redacts_the_rest() -> None:
    out = redact_patch(PATCH.format(v=VALUE))
    assert VALUE not in out
    assert "[.env is a secrets file: its 2 added and 1 removed lines are withheld]" in out
    # A rename out of a secret name is still the secret's content.
    assert "[notes.txt is a secrets file: its 1 added and 1 removed lines are withheld]" in out
    assert " user: app\n-password: [REDACTED]\n+password: [REDACTED]" in out
    assert "+PORT=[REDACTED]" in out
    assert "[id_rsa is a secrets file" in out
    assert out.count("diff --git ") == 5


def test_llm_review_prompt_uses_the_same_patch_redaction() -> None:
    from lynkr_cli.git.llm import redact_patch as llm_redact_patch

    out = llm_redact_patch(PATCH.format(v=VALUE))
    assert VALUE not in out and "[.env is a secrets file" in out


def test_every_detector_shape_is_redacted() -> None:
    """The redactor skips a detector only when its hint is absent: each shape still goes."""
    from tests.git.test_secrets import SAMPLES

    for kind, line in SAMPLES.items():
        if kind == "private key":
            continue  # a BEGIN line alone: tested with its body above
        out = redact_secrets(line, "notes.txt")
        assert "[REDACTED]" in out, (kind, out)
        assert scan_line(out) is None, (kind, out)
