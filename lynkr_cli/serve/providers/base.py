"""What a provider is: how to reach one upstream family, in which wire format, and with
which settings. This module is the plugin API for providers (docs/plugins.md).

A provider does not do HTTP itself. It says where to send a request, with which
credential, and what body; the gateway (``lynkr_cli.serve.upstream``) sends it
with timeouts and retries, and ``lynkr_cli.serve.pipeline`` streams the answer.
That keeps a provider a few dozen lines, and a plugin adds one with
``register_providers(register)`` → ``register("name", MyProvider)``.

A provider declares:

- ``name``, the ``wire`` format, and ``settings_model``: a :class:`ProviderConfig`
  whose fields are its settings (``provider.<name>.<field>``, their environment
  names, which are secret); the instance reads them as ``self.config``;
- for the ``openai`` wire, its :class:`Quirks` (how it departs from OpenAI's API);
- optionally ``presets`` for ``lynkr switch`` and the hooks below.

Two wire formats exist:

- ``"anthropic"``: the upstream speaks the Messages API; bytes pass through,
  observed, with only sanitisers applied (cheap, keeps thinking signatures).
- ``"openai"``: chat completions; the body goes through
  ``lynkr_cli.serve.translate`` both ways.

Hooks for upstreams that are neither exactly (Amazon Bedrock): :meth:`Provider.sign`
(each attempt, once the bytes are final: a request signature), :meth:`decode_response`
(an answer's body in another framing, decoded into Anthropic SSE) and
:meth:`upstream_error` (the upstream's own error format, in Anthropic's terms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import orjson

from lynkr_cli.serve.billing import BILLING_PREFIX as BILLING_PREFIX  # noqa: PLC0414 (public)
from lynkr_cli.serve.billing import has_billing_block as has_billing_block  # noqa: PLC0414
from lynkr_cli.serve.billing import is_billing_block as is_billing_block  # noqa: PLC0414
from lynkr_cli.serve.billing import strip_billing as strip_billing  # noqa: PLC0414
from lynkr_cli.serve.providers.quirks import OPENAI, Quirks
from lynkr_cli.settings import ProviderConfig, ProviderSettings, env

if TYPE_CHECKING:
    from lynkr_cli.registry import CheckResult
    from lynkr_cli.serve.token_command import TokenCommand
    from lynkr_cli.serve.transport import Response

__all__ = [
    "FORWARD_HEADERS",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "Quirks",
    "Route",
    "UpstreamError",
    "UpstreamRequest",
    "env",
    "secret",
]

Wire = Literal["anthropic", "openai"]

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
    """One prepared upstream call (``stream``: the client asked for a stream)."""

    url: str
    headers: dict[str, str]
    data: bytes
    wire: Wire
    method: str = "POST"
    stream: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """Raised by a provider's hook when lynkr itself cannot make the request (its
    credentials cannot be had, a setting is wrong): the client gets a 502 saying so,
    with the message (which names the fix), and the request is not retried."""


@dataclass(frozen=True)
class UpstreamError:
    """An upstream's error in Anthropic's terms (:meth:`Provider.upstream_error`): the
    status and ``error.type`` the client gets, the message, and whether the SDKs should
    retry (None: as the status says)."""

    status: int
    error_type: str
    message: str
    retry: bool | None = None


class Provider:
    """Base class: subclasses set ``name``/``wire``/``settings_model`` and the hooks below.

    A subclass narrows ``config`` to its model's type (``config: MyConfig``)."""

    name: ClassVar[str] = ""
    wire: Wire = "anthropic"  # an instance may pick per settings (databricks mode)
    settings_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    quirks: ClassVar[Quirks] = OPENAI
    strip_billing: ClassVar[bool] = True
    strip_cache_scope: ClassVar[bool] = False
    # True: with provider.token_command set, the command's token goes as
    # ``Authorization: Bearer`` instead of the key (the sender adds it per request).
    bearer_token: ClassVar[bool] = False
    # ``lynkr switch`` presets this provider brings, in presets.json's shape, by name.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    # Set from the class: whether it overrides sign() / decode_response().
    signs: ClassVar[bool] = False
    decodes: ClassVar[bool] = False
    token: TokenCommand | None = None  # also for plugin subclasses that skip __init__
    config: ProviderConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.signs = cls.sign is not Provider.sign
        cls.decodes = cls.decode_response is not Provider.decode_response

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        config = settings.config(self.name)
        if not isinstance(config, self.settings_model):  # registered under another name
            config = self.settings_model()
        self.config = config
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
        return {}

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

    def endpoints(self) -> list[tuple[str, str]]:
        """The upstream URLs this provider sends to, each with the setting that holds it:
        ``lynkr serve`` checks them at start, ``lynkr doctor`` reaches the first."""
        return [(self.url(Route(self.name, self.default_model(), "")), self.url_setting())]

    def doctor_credentials(self, timeout: float) -> CheckResult | None:
        """``lynkr doctor``'s credentials check for this provider, or None for the usual
        one (:meth:`missing`, and the token command when it uses one)."""
        return None

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
        if self.wire == "anthropic":
            data = self.native_body(body, raw, route)
        else:
            from lynkr_cli.serve.translate import to_openai_request

            doc = to_openai_request(
                body, model=route.upstream_model, stream=stream, quirks=self.quirks
            )
            data = orjson.dumps(doc)
        req = self.request(route, data, client_headers)
        req.stream = stream
        return req

    def request(
        self, route: Route, data: bytes, client_headers: Mapping[str, str]
    ) -> UpstreamRequest:
        """A request in this provider's wire format carrying ``data`` as it is: the URL, the
        credential, and (native wire) the client's ``anthropic-*`` headers. ``prepare``
        builds on it; the OpenAI passthrough of ``/v1/chat/completions`` uses it alone."""
        headers = {"content-type": "application/json", **self.auth_headers()}
        for name in FORWARD_HEADERS:
            value = client_headers.get(name)
            if value:
                headers[name] = value
        if self.wire == "anthropic":
            headers.setdefault("anthropic-version", "2023-06-01")
        return UpstreamRequest(self.url(route), headers, data, self.wire)

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

    # -- hooks for upstreams with their own signing, framing or errors -------------------
    async def sign(self, req: UpstreamRequest, headers: dict[str, str]) -> None:
        """Add what must be computed over the final request to ``headers`` (a signature
        over method, URL, headers and body). Called before every attempt, retries
        included, after the gateway's own headers are in; only when a subclass
        overrides it. May await (credentials that refresh)."""

    def decode_response(self, resp: Response, req: UpstreamRequest) -> Response:
        """A 2xx answer as the gateway reads it: for the ``anthropic`` wire, a JSON
        Message or an SSE stream of Messages events. Override for an upstream that
        frames its stream otherwise (see :func:`lynkr_cli.serve.transport.decoded`)."""
        return resp

    def upstream_error(
        self, status: int, headers: Mapping[str, str], raw: bytes
    ) -> UpstreamError | None:
        """An error answer (status >= 400) in Anthropic's terms, or None for the usual
        mapping (by status, with the body's ``error.message``)."""
        return None


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
    """A ``SecretStr`` setting's value, "" when unset."""
    return value.get_secret_value() if value is not None else ""
