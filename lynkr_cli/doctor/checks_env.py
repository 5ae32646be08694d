"""Doctor checks about lynkr itself and Claude Code's environment.

Each function takes the :class:`~lynkr_cli.doctor.runner.Context` and returns
results; every non-ok result carries the fix. Values are masked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING

from lynkr_cli.errors import ConfigError
from lynkr_cli.registry import CheckResult, CheckStatus
from lynkr_cli.switch import api as switch
from lynkr_cli.switch.api import Finding

if TYPE_CHECKING:
    from lynkr_cli.doctor.runner import Context
    from lynkr_cli.serve.api import TokenCommand

MIN_PYTHON = (3, 11)


def python_deps(ctx: Context) -> list[CheckResult]:
    version = ".".join(map(str, sys.version_info[:3]))
    out = [
        CheckResult.ok("python", f"Python {version} at {sys.executable}")
        if sys.version_info[:2] >= MIN_PYTHON
        else CheckResult.fail(
            "python",
            f"Python {version} is too old",
            "Install Python 3.11 or newer and reinstall lynkr.",
        )
    ]
    problems = _missing_requirements()
    if problems is None:
        out.append(CheckResult.skip("dependencies", "lynkr is not installed as a distribution"))
    elif problems:
        out.append(
            CheckResult.fail(
                "dependencies",
                "; ".join(problems),
                "Reinstall: `pip install -e .` (or `make run`, which creates .venv).",
                problems=problems,
            )
        )
    else:
        out.append(CheckResult.ok("dependencies", "every runtime dependency is installed"))
    return out


def _missing_requirements() -> list[str] | None:
    try:
        requires = metadata.requires("lynkr") or []
    except metadata.PackageNotFoundError:
        return None
    try:
        from packaging.requirements import Requirement
    except ImportError:  # packaging is not ours to require; check presence only
        Requirement = None  # type: ignore[assignment,misc]
    problems = []
    for text in requires:
        if "extra ==" in text:
            continue
        if Requirement is None:
            name, spec, marker = text.split(";")[0].split(">")[0].strip(), None, None
        else:
            req = Requirement(text)
            name, spec, marker = req.name, req.specifier, req.marker
            if marker is not None and not marker.evaluate({"extra": ""}):
                continue
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if spec is not None and have and not spec.contains(have, prereleases=True):
            problems.append(f"{name} {have} does not satisfy {spec}")
    return problems


def settings_valid(ctx: Context) -> CheckResult:
    try:
        loaded = ctx.loaded()
    except ConfigError as exc:
        return CheckResult.fail("settings", exc.message, exc.hint or "Fix the value at its source.")
    changed = {k: v for k, v in loaded.sources.items() if v != "default"}
    files = ", ".join(str(p) for p in loaded.files) or "no lynkr.toml"
    return CheckResult.ok(
        "settings",
        f"valid; {len(changed)} set outside defaults ({files})",
        sources=changed,
        files=[str(p) for p in loaded.files],
    )


def credentials(ctx: Context) -> CheckResult:
    """Ask the gateway's own provider class what it still lacks."""
    settings = ctx.settings()
    if settings is None:
        return CheckResult.skip("credentials", "settings are invalid (see the settings check)")
    from lynkr_cli.registry import providers

    name = settings.provider.name
    known = providers()
    if not name:
        return CheckResult.warn(
            "credentials",
            "no provider chosen for `lynkr serve`",
            f"Set LYNKR_PROVIDER (or PROVIDER) to one of: {', '.join(known)}; "
            "`lynkr switch databricks` sets it up for Databricks.",
        )
    if name not in known:
        return CheckResult.fail(
            "credentials",
            f"provider '{name}' is not known to this lynkr",
            f"Set LYNKR_PROVIDER to one of: {', '.join(sorted(known)) or 'none loaded'}.",
        )
    provider = known[name](settings.provider)
    own: CheckResult | None = provider.doctor_credentials(ctx.timeout)
    if own is not None:  # the provider checks its credentials its own way (AWS, …)
        return own
    missing = list(provider.missing())
    if missing:
        also = (
            ", or set LYNKR_TOKEN_COMMAND to a command printing a bearer token"
            if provider.bearer_token
            else ""
        )
        return CheckResult.fail(
            "credentials",
            f"provider '{name}' lacks {', '.join(missing)}",
            f"Export {' and '.join(missing)} (or set them in lynkr.toml [provider.{name}]){also}.",
        )
    if provider.token is not None:
        return _token_command(ctx, name, provider.token)
    if settings.provider.token_command.strip():
        return CheckResult.warn(
            "credentials",
            f"provider '{name}' has its credentials; provider.token_command is set but "
            f"'{name}' does not use it (it sends its API key)",
            "Unset LYNKR_TOKEN_COMMAND, or use a provider that sends it: "
            + ", ".join(n for n, c in known.items() if c.bearer_token)
            + ".",
        )
    return CheckResult.ok("credentials", f"provider '{name}' has its credentials")


def _token_command(ctx: Context, name: str, source: TokenCommand) -> CheckResult:
    """Run the gateway's token command once, as the gateway would; never show the token."""
    import asyncio

    from lynkr_cli.serve.api import RUN_TIMEOUT, TokenCommandError

    source.timeout = min(RUN_TIMEOUT, max(ctx.timeout, 10.0))
    try:
        _, fresh = asyncio.run(source.run())
    except TokenCommandError as exc:
        return CheckResult.fail(
            "credentials",
            f"provider '{name}': the token command failed: {exc.why}",
            "Run provider.token_command (LYNKR_TOKEN_COMMAND) in a shell: it must exit 0 and "
            "print the token alone, or JSON with access_token; log in first (`az login`, "
            "`databricks auth login`). Shell syntax needs `sh -c '…'`.",
        )
    return CheckResult.ok(
        "credentials",
        f"provider '{name}' gets a bearer token from {source.program} "
        f"(provider.token_command; used for {fresh:.0f}s, then run again)",
    )


def _all_base_urls(ctx: Context) -> list[Finding]:
    found = switch.scan_all(ctx.environ, ctx.home, ctx.cwd)
    return [f for f in found if f.name == "ANTHROPIC_BASE_URL"]


def base_url_pitfalls(ctx: Context) -> CheckResult:
    bad = [f for f in _all_base_urls(ctx) if f.value.rstrip("/").endswith(("/v1", "/v1/messages"))]
    if bad:
        where = "; ".join(f"{f.value} in {f.where}" for f in bad)
        return CheckResult.fail(
            "base-url",
            f"ANTHROPIC_BASE_URL ends in /v1 or /v1/messages ({where}): Claude Code "
            "appends /v1/messages itself, so requests go to /v1/v1/messages and 404",
            "Drop the /v1… suffix: e.g. `lynkr switch NAME` writes a clean base URL.",
            findings=[f.as_dict() for f in bad],
        )
    insecure = [f for f in _all_base_urls(ctx) if switch.insecure_base_url(f.value)]
    if insecure:
        where = "; ".join(f"{f.value} in {f.where}" for f in insecure)
        return CheckResult.warn(
            "base-url",
            f"plain http to another host sends the key in clear: {where}",
            "Use https, or reach the host through an SSH tunnel to 127.0.0.1.",
        )
    return CheckResult.ok("base-url", "no ANTHROPIC_BASE_URL with a /v1 suffix")


def _findings_result(
    name: str, found: list[Finding], what: str, fix: str, status: CheckStatus = "warn"
) -> CheckResult:
    if not found:
        return CheckResult.ok(name, f"none found ({what})")
    listed = "; ".join(f"{f.name}={f.value} at {f.where}" for f in found)
    return CheckResult(
        name, status, f"{what}: {listed}", fix, {"findings": [f.as_dict() for f in found]}
    )


def env_conflicts(ctx: Context) -> list[CheckResult]:
    out = [
        _findings_result(
            "env.process",
            switch.process_env(ctx.environ),
            "ANTHROPIC_* in this process's environment",
            "Settings files win over these; unset them (`unset NAME`) to avoid "
            "surprises, or use `lynkr switch NAME --shell bash`.",
        ),
        _findings_result(
            "env.rc-files",
            switch.rc_files(ctx.home),
            "ANTHROPIC_* exported by shell startup files",
            "Remove those lines and let `lynkr switch` manage the values.",
        ),
        _findings_result(
            "env.dotenv",
            switch.dotenv_files(ctx.cwd),
            "ANTHROPIC_* in .env files here",
            "Tools that load .env will override your profile; remove the lines.",
        ),
        _findings_result(
            "env.claude-json",
            switch.claude_json(ctx.home),
            "primaryApiKey saved by /login in ~/.claude.json",
            "It competes with the profile's key: run `claude /logout`, or delete "
            "primaryApiKey from ~/.claude.json.",
        ),
        _settings_files_valid(ctx),
        _settings_layers(ctx),
        _both_auth(ctx),
        _third_party(ctx),
        _findings_result(
            "env.api-key-helper",
            switch.api_key_helpers(ctx.cwd),
            "apiKeyHelper in Claude Code settings",
            "Its output is sent as the key on every request, whatever the profile says; "
            "remove it to use the profile's key.",
        ),
    ]
    return out


def _settings_layers(ctx: Context) -> CheckResult:
    found = switch.settings_files(ctx.cwd)
    urls = {f.value for f in found if f.name == "ANTHROPIC_BASE_URL"}
    if len(urls) > 1:
        listed = "; ".join(
            f"{f.value} in {f.where}" for f in found if f.name == "ANTHROPIC_BASE_URL"
        )
        return CheckResult.warn(
            "env.claude-settings",
            f"settings files disagree on ANTHROPIC_BASE_URL: {listed}",
            "The local file wins over project, project over user; `lynkr switch NAME "
            "--scope SCOPE` rewrites one, `lynkr switch current` shows all.",
            findings=[f.as_dict() for f in found],
        )
    summary = f"{len(found)} ANTHROPIC_* values in Claude settings files, consistent"
    return CheckResult.ok("env.claude-settings", summary, findings=[f.as_dict() for f in found])


def _settings_files_valid(ctx: Context) -> CheckResult:
    """Claude Code skips a settings file it cannot parse, env block and all."""
    bad, good = [], []
    for scope in switch.SCOPES:
        path = switch.settings_path(scope, ctx.cwd)
        try:
            text = switch.read_text(path)
            switch.parse_settings(text, path)
        except ConfigError as exc:
            bad.append(exc.message.replace("; lynkr will not overwrite it", ""))
            continue
        if text is not None:
            good.append(str(path))
    if bad:
        return CheckResult.fail(
            "env.settings-json",
            "; ".join(bad),
            "Fix the JSON: Claude Code ignores an invalid settings file entirely, "
            "including its env block.",
        )
    return CheckResult.ok(
        "env.settings-json", f"{len(good)} Claude Code settings files parse", files=good
    )


def _both_auth(ctx: Context) -> CheckResult:
    seen = switch.effective(ctx.environ, ctx.cwd)
    if "ANTHROPIC_API_KEY" in seen and "ANTHROPIC_AUTH_TOKEN" in seen:
        where = f"{seen['ANTHROPIC_API_KEY'][1]} and {seen['ANTHROPIC_AUTH_TOKEN'][1]}"
        return CheckResult.warn(
            "env.auth-both",
            f"both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN reach Claude Code ({where})",
            "Keep one: `lynkr switch NAME` writes one and removes the other.",
        )
    return CheckResult.ok(
        "env.auth-both", "only one of ANTHROPIC_API_KEY / ANTHROPIC_AUTH_TOKEN is set"
    )


def _third_party(ctx: Context) -> CheckResult:
    seen = switch.effective(ctx.environ, ctx.cwd)
    on = [(n, seen[n][1]) for n in switch.THIRD_PARTY if n in seen and switch.truthy(seen[n][0])]
    if on:
        listed = "; ".join(f"{name} in {where}" for name, where in on)
        return CheckResult.warn(
            "env.third-party",
            f"Claude Code is told to use another cloud and ignores ANTHROPIC_BASE_URL: {listed}",
            "Unset it (or set it to 0) to reach lynkr or a profile's endpoint.",
        )
    return CheckResult.ok("env.third-party", "no CLAUDE_CODE_USE_BEDROCK/VERTEX/FOUNDRY")


def claude_code(ctx: Context) -> CheckResult:
    path = shutil.which("claude", path=ctx.environ.get("PATH"))
    if path is None:
        return CheckResult.warn(
            "claude-code",
            "the claude CLI is not on PATH",
            "Install it: `npm install -g @anthropic-ai/claude-code`.",
        )
    version = _version(path, ctx.timeout * 3)
    seen = switch.effective(ctx.environ, ctx.cwd)
    url, where = seen.get("ANTHROPIC_BASE_URL", ("https://api.anthropic.com (default)", "-"))
    return CheckResult.ok(
        "claude-code",
        f"{version or 'claude'} at {path}; points at {url} ({where})",
        path=path,
        version=version,
        base_url=url,
        base_url_source=where,
    )


def _version(path: str, timeout: float) -> str:
    try:
        proc = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""


def switch_state(ctx: Context) -> CheckResult:
    """Settings files lynkr switched, still saying what lynkr wrote?"""
    from lynkr_cli import paths

    if not paths.app_db_path().is_file():
        return CheckResult.skip("switch", "no profiles yet (`lynkr switch presets`)")
    states = [s for s in switch.active_scopes(ctx.cwd) if s.profile]
    if not states:
        return CheckResult.ok("switch", "no settings file is managed by `lynkr switch` here")
    drifted = [s for s in states if not s.in_sync]
    if drifted:
        listed = "; ".join(f"{s.scope} ({s.path}) was '{s.profile}'" for s in drifted)
        fix = "; ".join(f"`lynkr switch {s.profile} --scope {s.scope}`" for s in drifted)
        return CheckResult.warn(
            "switch",
            f"edited since lynkr wrote it: {listed}",
            f"Re-apply with {fix}, or `lynkr switch restore`.",
        )
    shown = ", ".join(f"{s.scope}: {s.profile}" for s in states)
    return CheckResult.ok("switch", f"active profiles match their files ({shown})")


CHECKS: list[tuple[str, str, Callable[..., object]]] = [
    ("python", "python", python_deps),
    ("settings", "settings", settings_valid),
    ("credentials", "provider", credentials),
    ("base-url", "claude", base_url_pitfalls),
    ("environment", "claude", env_conflicts),
    ("claude-code", "claude", claude_code),
    ("switch", "claude", switch_state),
]
