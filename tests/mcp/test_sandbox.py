"""The Docker sandbox: the exact argv, and a clear error when no engine is reachable."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from lynkr_cli.errors import ConfigError, UpstreamError
from lynkr_cli.mcp import client, sandbox
from lynkr_cli.mcp.manifests import parse_server
from lynkr_cli.settings import get_settings
from tests.conftest import require


def server(**sandbox_options: Any) -> Any:
    raw = {"command": "node", "args": ["server.js", "--flag"], "env": {"API_KEY": "s3cret"},
           "sandbox": {"type": "docker", "image": "node:22-slim", **sandbox_options}}  # fmt: skip
    return parse_server("sbx", raw, "test")


def test_exact_argv_defaults(tmp_path: Path) -> None:
    argv = sandbox.docker_argv(server(), tmp_path)
    assert argv == [
        "docker", "run", "--rm", "-i",
        "--network", "none",
        "--read-only",
        "--tmpfs", "/tmp:rw,noexec,nosuid,size=64m",
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--memory", "512m",
        "--cpus", "1.0",
        "--pids-limit", "128",
        "--mount", f"type=bind,src={tmp_path},dst=/workspace,readonly",
        "--workdir", "/workspace",
        "-e", "API_KEY",
        "node:22-slim", "node", "server.js", "--flag",
    ]  # fmt: skip
    assert "s3cret" not in " ".join(argv)


def test_argv_with_network_write_and_limits(tmp_path: Path) -> None:
    argv = sandbox.docker_argv(
        server(network=True, memory="1g", cpus="2", pids=64, allow_write=True), tmp_path
    )
    assert "--network" not in argv
    assert argv[argv.index("--memory") + 1] == "1g"
    assert argv[argv.index("--cpus") + 1] == "2"
    assert argv[argv.index("--pids-limit") + 1] == "64"
    assert argv[argv.index("--mount") + 1] == f"type=bind,src={tmp_path},dst=/workspace"
    # write follows policy.tools_allow_write when the server does not say
    plain = sandbox.docker_argv(server(), tmp_path, allow_write=True)
    assert not plain[plain.index("--mount") + 1].endswith(",readonly")


def test_missing_image_is_config_error(tmp_path: Path) -> None:
    bare = parse_server("x", {"command": "c", "sandbox": "docker"}, "t")
    with pytest.raises(ConfigError, match="names no image"):
        sandbox.docker_argv(bare, tmp_path)


def test_no_engine_reachable_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    require(shutil.which("docker") is not None, "docker client not installed")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(UpstreamError, match="no Docker engine is reachable") as info:
        sandbox.ensure_engine(timeout=20)
    assert "Start the Docker daemon" in (info.value.hint or "")


def test_no_docker_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match="docker client"):
        sandbox.ensure_engine()


def test_sandboxed_server_reports_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    require(shutil.which("docker") is not None, "docker client not installed")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    report = asyncio.run(client.probe(server(), get_settings()))
    assert not report.ok and "no Docker engine is reachable" in (report.error or "")
