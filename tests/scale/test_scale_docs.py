"""docs/scale-out.md's docker-compose example, checked without a container engine: the
files the page shows are the files in docs/scale-out/, the compose file parses and
wires two lynkr instances to PostgreSQL and Redis with settings lynkr knows, and the
nginx config passes ``nginx -t``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from lynkr_cli import settings
from tests.conftest import ROOT, require

EXAMPLE = ROOT / "docs" / "scale-out"
PAGE = ROOT / "docs" / "scale-out.md"


def _blocks(language: str) -> list[str]:
    text = PAGE.read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_the_page_shows_the_example_files_verbatim() -> None:
    assert (EXAMPLE / "docker-compose.yml").read_text() in _blocks("text")
    assert (EXAMPLE / "nginx.conf").read_text() in _blocks("text")


def test_the_compose_file_wires_two_instances_to_the_shared_backends() -> None:
    doc = yaml.safe_load((EXAMPLE / "docker-compose.yml").read_text())
    services = doc["services"]
    assert set(services) == {"postgres", "redis", "lynkr-a", "lynkr-b", "nginx"}
    known = {name for s, n in settings.iter_fields() for name in settings.field_env_names(s, n)}
    known |= {"LYNKR_HOME", "ANTHROPIC_API_KEY"}
    for name in ("lynkr-a", "lynkr-b"):
        service = services[name]
        env = service["environment"]
        assert env["LYNKR_DATABASE_URL"].startswith("postgresql://lynkr:")
        assert env["LYNKR_DATABASE_URL"].endswith("@postgres:5432/lynkr")
        assert (
            env["LYNKR_REDIS_URL"].startswith("redis://:")
            and "@redis:6379/" in env["LYNKR_REDIS_URL"]
        )
        assert set(env) <= known, set(env) - known
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert (ROOT / service["build"]["dockerfile"]).is_file()
    assert services["lynkr-a"]["volumes"] != services["lynkr-b"]["volumes"]  # own spill files
    mount = services["nginx"]["volumes"][0].split(":")[0]
    assert (EXAMPLE / mount).resolve() == (EXAMPLE / "nginx.conf").resolve()
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    assert "lynkr db migrate && exec lynkr serve" in dockerfile and "USER nobody" in dockerfile


def _nginx_test(tmp_path: Path, site: str) -> subprocess.CompletedProcess[str]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    require(nginx is not None, "nginx is not installed (scripts/test-deps.sh installs it)")
    assert nginx is not None
    # nginx resolves upstream names when it loads a config: the compose names become loopback
    (tmp_path / "site.conf").write_text(re.sub(r"lynkr-[ab]:8080", "127.0.0.1:8080", site))
    (tmp_path / "main.conf").write_text(f"events {{}}\nhttp {{ include {tmp_path}/site.conf; }}\n")
    return subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "main.conf"),
         "-g", f"pid {tmp_path}/nginx.pid; error_log stderr;"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    site = (EXAMPLE / "nginx.conf").read_text()
    result = _nginx_test(tmp_path, site)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    broken = _nginx_test(tmp_path, site.replace("proxy_buffering off;", "proxy_buffering off"))
    assert broken.returncode != 0  # the check can fail
