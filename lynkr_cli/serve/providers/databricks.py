"""``databricks``: model serving, in mode ``chat`` (OpenAI format) or ``anthropic`` (native)."""

from __future__ import annotations

from lynkr_cli.serve.providers.base import Provider, Route, secret
from lynkr_cli.settings import ProviderSettings


class DatabricksProvider(Provider):
    """Bearer-token auth against ``<workspace>/serving-endpoints``.

    - mode ``chat`` (Lynkr's default): ``/serving-endpoints/<endpoint>/invocations``
      in chat-completions format; ``DATABRICKS_ENDPOINT_PATH`` overrides the path.
    - mode ``anthropic``: ``/serving-endpoints/anthropic/v1/messages``, native, with
      the endpoint name as ``model``.
    """

    name = "databricks"
    flavor = "databricks"
    strip_billing = True
    bearer_token = True

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.wire = "anthropic" if settings.databricks_mode == "anthropic" else "openai"

    def missing(self) -> list[str]:
        out = []
        if not self.settings.databricks_api_base:
            out.append("DATABRICKS_API_BASE")
        if self.token is None and not secret(self.settings.databricks_api_key):
            out.append("DATABRICKS_API_KEY")
        return out

    @property
    def native(self) -> bool:
        return self.settings.databricks_mode == "anthropic"

    def _base(self) -> str:
        return self.settings.databricks_api_base.rstrip("/")

    def url(self, route: Route) -> str:
        if self.native:
            return f"{self._base()}/serving-endpoints/anthropic/v1/messages"
        path = self.settings.databricks_endpoint_path
        if path and route.upstream_model == self.default_model():
            return self._base() + "/" + path.lstrip("/")
        return f"{self._base()}/serving-endpoints/{route.upstream_model}/invocations"

    def url_setting(self) -> str:
        return "DATABRICKS_API_BASE"

    def default_model(self) -> str:
        if self.settings.model_default:
            return self.settings.model_default
        # "/serving-endpoints/<name>/invocations" names the endpoint.
        parts = [p for p in self.settings.databricks_endpoint_path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "serving-endpoints":
            return parts[1]
        return "databricks-claude-sonnet-4-5"

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {}  # the sender adds the command's bearer token
        return {"authorization": f"Bearer {secret(self.settings.databricks_api_key)}"}

    def credential_setting(self) -> str:
        if self.token is not None:
            return "provider.token_command (LYNKR_TOKEN_COMMAND)"
        return "DATABRICKS_API_KEY"
