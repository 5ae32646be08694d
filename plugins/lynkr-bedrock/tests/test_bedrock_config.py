"""lynkr-bedrock configured like any provider: ``[provider.bedrock]`` in ``lynkr.toml``,
the AWS CLI's environment names, ``lynkr config show``, ``doctor``, ``switch``, ``--help``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import KEY_ID, SECRET, static_keys

from lynkr_cli.settings import load_settings


def test_region_from_the_aws_environment_names(workdir: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    loaded = load_settings()
    assert loaded.settings.provider.config("bedrock").region == "eu-central-1"  # type: ignore[attr-defined]
    assert loaded.sources["provider.bedrock.region"] == "env AWS_DEFAULT_REGION"
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # the SDKs' order: AWS_REGION first
    assert load_settings().settings.provider.config("bedrock").region == "us-west-2"  # type: ignore[attr-defined]


def test_toml_section_and_config_show(workdir: Path, invoke: Any, monkeypatch) -> None:
    static_keys(monkeypatch)
    (workdir / "lynkr.toml").write_text(
        '[provider]\nname = "bedrock"\n\n[provider.bedrock]\nregion = "ap-southeast-2"\n'
        'profile = "team"\ninference_profile = "none"\n'
    )
    result = invoke("config", "show", "--json")
    assert result.exit_code == 0, result.stderr
    section = json.loads(result.stdout)["settings"]["provider.bedrock"]
    assert section["region"]["value"] == "ap-southeast-2"
    assert section["profile"]["source"] == f"file {workdir / 'lynkr.toml'}"
    assert SECRET not in result.stdout  # AWS keys are botocore's, never lynkr settings


def test_doctor_resolves_the_chain_without_showing_keys(
    workdir: Path, invoke: Any, monkeypatch
) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "bedrock")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    missing = invoke("doctor", "--only", "credentials", "--json")
    check = next(c for c in json.loads(missing.stdout)["checks"] if c["name"] == "credentials")
    assert check["status"] == "fail" and "no AWS credentials found" in check["summary"]
    static_keys(monkeypatch)
    found = invoke("doctor", "--only", "credentials", "--json")
    check = next(c for c in json.loads(found.stdout)["checks"] if c["name"] == "credentials")
    assert check["status"] == "ok" and "from env" in check["summary"]
    assert KEY_ID not in found.stdout and SECRET not in found.stdout


def test_serve_help_and_the_switch_preset(workdir: Path, invoke: Any, monkeypatch) -> None:
    assert "bedrock" in invoke("serve", "--help").stdout
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = invoke("switch", "bedrock", "--json")
    assert result.exit_code == 0, result.stderr
    import tomllib

    from lynkr_cli import paths

    written = tomllib.loads((paths.config_dir() / "lynkr.toml").read_text())
    assert written["provider"]["name"] == "bedrock"


def test_a_missing_region_is_named_at_start(workdir: Path, invoke: Any, monkeypatch) -> None:
    monkeypatch.setenv("LYNKR_PROVIDER", "bedrock")
    result = invoke("doctor", "--only", "credentials", "--json")
    check = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "credentials")
    assert check["status"] == "fail" and "AWS_REGION" in check["fix"]
