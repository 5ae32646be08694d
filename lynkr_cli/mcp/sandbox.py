"""The Docker sandbox for stdio MCP servers: ``sandbox = "docker"`` on a server.

The launch becomes ``docker run --rm -i`` with no network unless the server's
sandbox options allow it, a read-only root filesystem (a small ``/tmp`` tmpfs for
scratch), every capability dropped, ``no-new-privileges``, memory/CPU/pids limits,
and the workspace mounted read-only at ``/workspace`` unless writes are allowed.

Options (``sandbox_options`` or a ``sandbox`` table): ``image`` (required),
``network`` (bool), ``allow_write`` (bool, default ``policy.tools_allow_write``),
``memory`` ("512m"), ``cpus`` ("1.0"), ``pids`` (128), ``workspace`` (path).
Environment values are passed as ``-e NAME`` so they never appear in the argv.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from lynkr_cli.errors import ConfigError, UpstreamError
from lynkr_cli.mcp.manifests import ServerConfig

CONTAINER_WORKSPACE = "/workspace"
DEFAULTS: dict[str, Any] = {"memory": "512m", "cpus": "1.0", "pids": 128, "network": False}


def docker_argv(
    server: ServerConfig, workspace: Path, *, allow_write: bool = False, docker: str = "docker"
) -> list[str]:
    """The exact ``docker run`` argument list that launches ``server`` sandboxed."""
    opts = {**DEFAULTS, **server.sandbox_options}
    image = str(opts.get("image") or "")
    if not image:
        raise ConfigError(
            f"MCP server '{server.name}' uses sandbox = \"docker\" but names no image",
            hint='Add sandbox_options = { image = "node:22-slim" } (or "image" in JSON).',
        )
    write = bool(opts.get("allow_write", allow_write))
    mount = f"type=bind,src={Path(opts.get('workspace') or workspace)},dst={CONTAINER_WORKSPACE}"
    argv = [docker, "run", "--rm", "-i"]
    if not opts.get("network"):
        argv += ["--network", "none"]
    argv += [
        "--read-only",
        "--tmpfs", "/tmp:rw,noexec,nosuid,size=64m",
        "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--memory", str(opts["memory"]),
        "--cpus", str(opts["cpus"]),
        "--pids-limit", str(opts["pids"]),
        "--mount", mount if write else f"{mount},readonly",
        "--workdir", CONTAINER_WORKSPACE,
    ]  # fmt: skip
    for name in sorted(server.env):
        argv += ["-e", name]
    return [*argv, image, server.command, *server.args]


def ensure_engine(docker: str = "docker", timeout: float = 10.0) -> str:
    """The path of a docker client that reaches an engine; a clear error otherwise."""
    client = shutil.which(docker)
    if client is None:
        raise ConfigError(
            'sandbox = "docker" needs the docker client, and it is not on PATH',
            hint="Install Docker, or remove the sandbox setting from this MCP server.",
        )
    try:
        proc = subprocess.run(
            [client, "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise UpstreamError(f"docker did not answer within {timeout:g}s") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        detail = (proc.stderr.strip().splitlines() or ["no server version reported"])[-1]
        raise UpstreamError(
            f"the docker client is installed but no Docker engine is reachable: {detail}",
            hint='Start the Docker daemon (or set DOCKER_HOST), or remove sandbox = "docker".',
        )
    return client
