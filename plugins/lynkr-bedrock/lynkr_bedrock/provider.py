"""``bedrock``: Claude on Amazon Bedrock, through ``InvokeModel`` and its streaming twin.

What the gateway sends to Bedrock, for a Messages request:

- ``POST {endpoint}/model/{modelId}/invoke``, or ``…/invoke-with-response-stream`` for a
  stream, where ``modelId`` is the Bedrock id or inference profile of the route's model
  (``provider.model_map``, then :mod:`lynkr_bedrock.models`);
- the Anthropic body without ``model`` and ``stream`` (the URL says both), with
  ``anthropic_version: "bedrock-2023-05-31"`` and the client's ``anthropic-beta``
  header as ``anthropic_beta``; Claude Code's billing block and ``cache_control.scope``
  removed, as for any upstream that is not Anthropic's API;
- signed with SigV4 for each attempt, credentials from the standard AWS chain
  (:mod:`lynkr_bedrock.credentials`).

A stream's event-stream frames are decoded into Anthropic SSE
(:mod:`lynkr_bedrock.eventstream`) before the gateway reads them, so the native
relay's guarantees hold unchanged: the events pass observed, the model renamed,
``message_start`` first, an ``error`` event when the stream is cut.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import orjson
from pydantic import Field

from lynkr_bedrock.models import bedrock_model_id
from lynkr_cli.serve.providers.base import (
    Provider,
    ProviderConfig,
    Route,
    UpstreamError,
    UpstreamRequest,
    env,
    strip_billing,
    strip_cache_scope,
)
from lynkr_cli.serve.transport import Response, decoded
from lynkr_cli.settings import ProviderSettings

if TYPE_CHECKING:
    from lynkr_bedrock.credentials import AwsSigner
    from lynkr_cli.registry import CheckResult

BEDROCK_VERSION = "bedrock-2023-05-31"
EVENT_STREAM = "application/vnd.amazon.eventstream"


class BedrockConfig(ProviderConfig):
    """``provider.bedrock.*`` in ``lynkr.toml``; the environment names follow the AWS CLI's."""

    region: str = Field(
        "", json_schema_extra=env("LYNKR_BEDROCK_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # A profile of ~/.aws/config; empty: the chain's default (AWS_PROFILE, then "default").
    profile: str = Field("", json_schema_extra=env("LYNKR_BEDROCK_PROFILE", "AWS_PROFILE"))
    # bedrock-runtime's URL; empty: https://bedrock-runtime.<region>.amazonaws.com
    endpoint: str = Field(
        "",
        json_schema_extra=env("LYNKR_BEDROCK_ENDPOINT", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
    )
    # The cross-region inference profile for Claude model names: auto (from the region:
    # us, eu, apac), none (the in-region model id), or a prefix such as us or global.
    inference_profile: str = Field("auto", json_schema_extra=env("LYNKR_BEDROCK_INFERENCE_PROFILE"))


class BedrockProvider(Provider):
    """Anthropic's Messages API on Amazon Bedrock, signed with SigV4."""

    name = "bedrock"
    wire = "anthropic"
    settings_model = BedrockConfig
    config: BedrockConfig
    strip_billing = True
    strip_cache_scope = True
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "bedrock": {
            "description": "Claude Code -> the local lynkr gateway -> Amazon Bedrock "
            "(run `lynkr serve`)",
            "base_url": "http://127.0.0.1:{port}",
            "key": "{gateway_key}",
            "key_field": "ANTHROPIC_API_KEY",
            "notes": "The gateway signs with your AWS identity (AWS_PROFILE, `aws sso login`); "
            "Claude Code only sees the gateway key.",
            "gateway": {"provider.name": "bedrock"},
            "inputs": [
                {
                    "id": "region",
                    "prompt": "AWS region of Bedrock (e.g. us-east-1)",
                    "env": ["AWS_REGION", "AWS_DEFAULT_REGION"],
                    "setting": "provider.bedrock.region",
                    "persist": True,
                }
            ],
        }
    }

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._signer: AwsSigner | None = None

    # -- configuration ------------------------------------------------------------------
    def missing(self) -> list[str]:
        return [] if self.config.region else ["AWS_REGION (provider.bedrock.region)"]

    def base_url(self) -> str:
        endpoint = self.config.endpoint.strip().rstrip("/")
        return endpoint or f"https://bedrock-runtime.{self.config.region}.amazonaws.com"

    def url(self, route: Route) -> str:
        """The invoke URL of the route's model; the endpoint itself for a name that has no
        Bedrock id (a reachability probe: :meth:`prepare` refuses such a request)."""
        try:
            return self._url(route, stream=False)
        except ValueError:
            return self.base_url() + "/"

    def _url(self, route: Route, *, stream: bool) -> str:
        try:
            model = bedrock_model_id(
                route.upstream_model, self.config.inference_profile, self.config.region
            )
        except ValueError as exc:
            raise ValueError(f"model: {exc}") from None
        action = "invoke-with-response-stream" if stream else "invoke"
        return f"{self.base_url()}/model/{quote(model, safe='')}/{action}"

    def endpoints(self) -> list[tuple[str, str]]:
        setting = (
            "provider.bedrock.endpoint (AWS_ENDPOINT_URL_BEDROCK_RUNTIME)"
            if self.config.endpoint
            else "provider.bedrock.region (AWS_REGION)"
        )
        return [(self.base_url() + "/", setting)]

    def url_setting(self) -> str:
        return self.endpoints()[0][1]

    def credential_setting(self) -> str:
        return "the AWS credentials lynkr runs with (AWS_PROFILE / provider.bedrock.profile)"

    def signer(self) -> AwsSigner:
        if self._signer is None:
            from lynkr_bedrock.credentials import AwsSigner

            self._signer = AwsSigner(self.config.region, self.config.profile)
        return self._signer

    # -- requests -----------------------------------------------------------------------
    def prepare(
        self,
        body: dict[str, Any],
        raw: bytes,
        route: Route,
        client_headers: Mapping[str, str],
        *,
        stream: bool,
    ) -> UpstreamRequest:
        doc = {k: v for k, v in body.items() if k not in ("model", "stream")}
        doc["anthropic_version"] = BEDROCK_VERSION
        betas = client_headers.get("anthropic-beta")
        if betas:
            doc["anthropic_beta"] = [b.strip() for b in betas.split(",") if b.strip()]
        if doc.get("system") is not None:
            doc["system"] = strip_billing(doc["system"])
        if b'"scope"' in raw:
            doc = strip_cache_scope(doc)
        headers = {
            "content-type": "application/json",
            "accept": EVENT_STREAM if stream else "application/json",
            "x-amzn-bedrock-accept": "application/json",
        }
        url = self._url(route, stream=stream)
        return UpstreamRequest(url, headers, orjson.dumps(doc), "anthropic", stream=stream)

    async def sign(self, req: UpstreamRequest, headers: dict[str, str]) -> None:
        await self.signer().sign(req.method, req.url, headers, req.data)

    def decode_response(self, resp: Response, req: UpstreamRequest) -> Response:
        if resp.content_type != EVENT_STREAM:
            return resp  # a JSON Message (invoke), or JSON the gateway reads as such
        from lynkr_bedrock.eventstream import EventStreamDecoder

        return decoded(resp, EventStreamDecoder(), "text/event-stream")

    def upstream_error(
        self, status: int, headers: Mapping[str, str], raw: bytes
    ) -> UpstreamError | None:
        from lynkr_bedrock.eventstream import http_error

        return http_error(status, headers, raw)

    # -- doctor -------------------------------------------------------------------------
    def doctor_credentials(self, timeout: float) -> CheckResult | None:
        """Resolve the AWS chain as the gateway will (refreshing if due); never show a key."""
        from lynkr_bedrock.credentials import freeze, resolve
        from lynkr_cli.registry import CheckResult
        from lynkr_cli.serve.providers.base import ProviderError

        if self.missing():
            return CheckResult.fail(
                "credentials",
                "provider 'bedrock' has no region",
                "Set AWS_REGION (or provider.bedrock.region in lynkr.toml [provider.bedrock]).",
            )
        try:
            credentials = resolve(self.config.profile)
            freeze(credentials)
        except ProviderError as exc:
            return CheckResult.fail(
                "credentials",
                f"provider 'bedrock': {exc}",
                "Log in: `aws sso login`, "
                "or export AWS_PROFILE / AWS_ACCESS_KEY_ID for the identity lynkr should use.",
            )
        method = getattr(credentials, "method", "unknown")
        return CheckResult.ok(
            "credentials",
            f"provider 'bedrock' signs for {self.config.region} with AWS credentials from {method}",
            source=method,
        )
