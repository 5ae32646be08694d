"""What a provider is: how to reach one upstream family, and in which wire format.

A provider does not do HTTP itself. It says where to send a request, with which
credential, and what body; the gateway (``lynkr_cli.serve.upstream``) sends it
with timeouts and retries, and ``lynkr_cli.serve.pipeline`` streams the answer.
That keeps a provider a few dozen lines, and a plugin can add one with
``register_providers(register)`` → ``register("name", MyProvider)``.

Two wire formats exist:

- ``"anthropic"``: the upstream speaks the Messages API; bytes pass through,
  observed, with only sanitisers applied (cheap, keeps thinking signatures).
- ``"openai"``: chat completions; the body goes through
  ``lynkr_cli.serve.translate`` both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import orjson

from lynkr_cli.settings import ProviderSettings

if TYPE_CHECKING:
    from lynkr_cli.serve.token_command import TokenCommand

Wire = Literal["anthropic", "openai"]
BILLING_PREFIX = "x-anthropic-billing-header"

# Headers a native upstream needs to see unchanged; the client's credentials are never among them.
FORWARD_HEADERS = ("anthropic-version", "anthropic-beta")


@dataclass(frozen=True)
class Route:
    """Where one request goes: provider name, upstream model, and the model the client named."""

    provider: str
    upstream_model: str
    client_model: str


@dataclass
class UpstreamRequest:
    """One prepared upstream call."""

    url: str
    headers: dict[str, str]
    data: bytes
    wire: Wire
    flavor: str = "openai"
    extra: dict[str, Any] = field(default_factory=dict)


class Provider:
    """Base class: subclasses set ``name``/``wire`` and implement the hooks below."""

    name: ClassVar[str] = ""
    wire: Wire = "anthropic"  # an instance may pick per settings (databricks mode)
    flavor: ClassVar[str] = "openai"
    strip_billing: ClassVar[bool] = True
    strip_cache_scope: ClassVar[bool] = False
    # True: with provider.token_command set, the command's token goes as
    # ``Authorization: Bearer`` instead of the key (the sender adds it per request).
    bearer_token: ClassVar[bool] = False
    token: TokenCommand | None = None  # also for plugin subclasses that skip __init__

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        if self.bearer_token and settings.token_command.strip():
            from lynkr_cli.serve.token_command import TokenCommand

            self.token = TokenCommand(settings.token_command, settings.token_ttl_seconds)

    # -- configuration ------------------------------------------------------------------
    def missing(self) -> list[str]:
        """The settings (by environment name) that must still be set; empty when usable."""
        return []

    def url(self, route: Route) -> str:
        raise NotImplementedError

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def default_model(self) -> str:
        """The upstream model when the client's name maps to nothing more specific."""
        return self.settings.model_default

    def count_tokens_url(self, route: Route) -> str | None:
        """Where the upstream counts tokens, or None to count locally."""
        return None

    def credential_setting(self) -> str:
        """The setting to fix when the upstream rejects lynkr's credential."""
        return "the provider's API key"

    def url_setting(self) -> str:
        """The setting that holds the upstream URL (named in start-up errors)."""
        return "the provider's endpoint setting"

    # -- requests ---------------------------------------------------------------------
    def prepare(
        self,
        body: dict[str, Any],
        raw: bytes,
        route: Route,
        client_headers: Mapping[str, str],
        *,
        stream: bool,
    ) -> UpstreamRequest:
        headers = {"content-type": "application/json", **self.auth_headers()}
        if self.wire == "anthropic":
            for name in FORWARD_HEADERS:
                value = client_headers.get(name)
                if value:
                    headers[name] = value
            headers.setdefault("anthropic-version", "2023-06-01")
            data = self.native_body(body, raw, route)
            return UpstreamRequest(self.url(route), headers, data, "anthropic")
        from lynkr_cli.serve.translate import to_openai_request

        doc = to_openai_request(body, model=route.upstream_model, stream=stream, flavor=self.flavor)
        return UpstreamRequest(self.url(route), headers, orjson.dumps(doc), "openai", self.flavor)

    def native_body(self, body: dict[str, Any], raw: bytes, route: Route) -> bytes:
        """The body for an Anthropic-format upstream; the client's bytes when nothing changes."""
        changed = False
        if route.upstream_model != body.get("model"):
            body = {**body, "model": route.upstream_model}
            changed = True
        if self.strip_billing and has_billing_block(body):
            body = {**body, "system": strip_billing(body["system"])}
            changed = True
        if self.strip_cache_scope and b'"scope"' in raw:
            body = strip_cache_scope(body)
            changed = True
        return orjson.dumps(body) if changed else raw


def has_billing_block(body: Mapping[str, Any]) -> bool:
    system = body.get("system")
    return isinstance(system, list) and any(is_billing_block(b) for b in system)


def is_billing_block(block: Any) -> bool:
    return (
        isinstance(block, dict)
        and block.get("type", "text") == "text"
        and isinstance(block.get("text"), str)
        and block["text"].startswith(BILLING_PREFIX)
    )


def strip_billing(system: Any) -> Any:
    """``system`` without Claude Code's per-request attribution block."""
    if isinstance(system, list):
        return [b for b in system if not is_billing_block(b)]
    return system


def strip_cache_scope(value: Any) -> Any:
    """A copy with ``cache_control.scope`` removed everywhere (Azure Foundry rejects it)."""
    if isinstance(value, dict):
        out = {k: strip_cache_scope(v) for k, v in value.items()}
        control = out.get("cache_control")
        if isinstance(control, dict) and "scope" in control:
            out["cache_control"] = {k: v for k, v in control.items() if k != "scope"}
        return out
    if isinstance(value, list):
        return [strip_cache_scope(v) for v in value]
    return value


def secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""
