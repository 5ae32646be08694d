"""The settings snapshot keeps no secret, and only this user's own file decides settings.

Every secret a user can configure (keys in the environment, in ``.env``, in
``lynkr.toml``; a token command; URLs carrying passwords; tokens inside an MCP server's
table) goes through real loads, from a process started as the ``lynkr`` script starts,
and must not appear in ``settings.json``. A snapshot file another user could have
written is ignored, so nobody else can choose this user's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lynkr_cli import settings, snapshot

CANARIES = {
    "ANTHROPIC_API_KEY": "sk-ant-canary-env-0001",
    "OPENAI_API_KEY": "sk-canary-env-0002",
    "LYNKR_API_KEY": "canary-gateway-key-0003",
    "LYNKR_DATABASE_URL": "postgresql://u:canary-db-0004@h/db",
    "LYNKR_CACHE_URL": "redis://u:canary-cache-0005@h:6379/0",
    "LYNKR_UPSTREAM_PROXY": "http://u:canary-proxy-0006@proxy:3128",
    "LYNKR_TOKEN_COMMAND": "get-token --secret canary-cmd-0007",
    "LYNKR_METRICS_KEY": "canary-metrics-0008",
}
DOTENV = "DATABRICKS_API_KEY=canary-dotenv-0009\nAZURE_ANTHROPIC_API_KEY=canary-dotenv-0010\n"
TOML = """
[provider]
openai_model = "canary-model-0011"

[mcp.servers.github]
command = "gh-mcp"
env = { GITHUB_TOKEN = "canary-toml-0012" }
headers = { Authorization = "Bearer canary-toml-0013" }
"""


def test_no_secret_reaches_the_snapshot(workdir: Path, lynkr_home: Path) -> None:
    (workdir / ".env").write_text(DOTENV)
    (workdir / "lynkr.toml").write_text(TOML)
    env = {"PATH": os.environ["PATH"], "LYNKR_HOME": str(lynkr_home), **CANARIES}
    code = "from lynkr_cli import settings; settings.load_settings(); settings.load_settings()"
    for _ in range(2):  # recorded, then recalled
        subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, check=True, timeout=60)
    text = (lynkr_home / "cache" / snapshot.FILENAME).read_text(encoding="utf-8")
    assert "canary" not in text
    json.loads(text)  # and it is the snapshot, not an empty file


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_snapshot_others_may_write_is_ignored(
    mode: int, workdir: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.load_settings(environ={})
    path = lynkr_home / "cache" / snapshot.FILENAME
    forged = json.loads(path.read_text())
    policy = forged["entries"][0]["sections"]["policy"]
    policy["git_allow_force_push"] = ["value", True]  # what an attacker would like
    path.write_text(json.dumps(forged))
    path.chmod(mode)
    assert settings.load_settings(environ={}).settings.policy.git_allow_force_push is False
    assert snapshot.section("policy").git_allow_force_push is False
    assert path.stat().st_mode & 0o077 == 0  # replaced by a private one


def test_a_snapshot_of_another_owner_is_ignored(
    workdir: Path, lynkr_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.load_settings(environ={})
    path = lynkr_home / "cache" / snapshot.FILENAME
    monkeypatch.setattr(os, "getuid", lambda: path.stat().st_uid + 1)
    assert snapshot.section("index") is None
    assert snapshot.recall("anything") is None
