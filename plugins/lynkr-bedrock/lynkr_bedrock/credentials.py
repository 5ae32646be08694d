"""AWS credentials from the standard chain, and SigV4 signatures with botocore's signer.

The chain is botocore's own, the one the AWS CLI and SDKs use: the environment
(``AWS_ACCESS_KEY_ID``…), the shared files and their profiles (``AWS_PROFILE`` or
``provider.bedrock.profile``: static keys, ``credential_process``, assumed roles, IAM
Identity Center through the SSO token cache ``aws sso login`` leaves), then container
and instance roles. The client's own key never takes part: lynkr signs as itself.

Credentials that expire (SSO, roles, processes) are botocore's ``RefreshableCredentials``:
they are refreshed, in a thread and once for every request waiting, when botocore says
they are due; otherwise signing reads them from memory. botocore is imported on the first
request, not when the provider is registered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from lynkr_cli.serve.providers.base import ProviderError

SIGNED_NAMES = ("authorization", "x-amz-date", "x-amz-security-token")
SERVICE = "bedrock"  # the signing name of bedrock-runtime


class AwsSigner:
    """Signs requests for one region with the chain's current credentials."""

    def __init__(self, region: str, profile: str = "") -> None:
        self.region = region
        self.profile = profile
        self._credentials: Any = None
        self._lock = asyncio.Lock()

    async def sign(self, method: str, url: str, headers: dict[str, str], data: bytes) -> None:
        """Add ``Authorization``, ``X-Amz-Date`` (and the session token) to ``headers``."""
        frozen = await self.frozen()
        for name in [h for h in headers if h.lower() in SIGNED_NAMES]:
            del headers[name]  # a retry: the previous attempt's signature
        headers.update(sign_request(frozen, self.region, (method, url, headers, data)))

    async def frozen(self) -> Any:
        """The credentials to sign with now; refreshed first when botocore says so."""
        credentials = self._credentials
        if credentials is None or _due(credentials):
            async with self._lock:  # one resolution or refresh serves every waiting request
                if self._credentials is None:
                    self._credentials = await asyncio.to_thread(resolve, self.profile)
                credentials = self._credentials
                if _due(credentials):
                    return await asyncio.to_thread(freeze, credentials)
        return freeze(credentials)

    def method(self) -> str:
        """Where the credentials came from (``env``, ``shared-credentials-file``, ``sso``…)."""
        return str(getattr(self._credentials, "method", "") or "unknown")


def resolve(profile: str) -> Any:
    """The chain's credentials (blocking: it may read files or call SSO / STS)."""
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        session = botocore.session.Session(profile=profile or None)
        credentials = session.get_credentials()
    except BotoCoreError as exc:
        raise ProviderError(f"the AWS credential chain failed: {exc}. {_FIX}") from None
    if credentials is None:
        raise ProviderError(f"no AWS credentials found. {_FIX}")
    return credentials


def _due(credentials: Any) -> bool:
    refresh_needed = getattr(credentials, "refresh_needed", None)
    return bool(refresh_needed()) if callable(refresh_needed) else False


def freeze(credentials: Any) -> Any:
    from botocore.exceptions import BotoCoreError

    try:
        return credentials.get_frozen_credentials()
    except BotoCoreError as exc:  # an SSO session that expired, a failing process…
        raise ProviderError(f"refreshing the AWS credentials failed: {exc}. {_FIX}") from None


def sign_request(
    frozen: Any, region: str, request_parts: tuple[str, str, Mapping[str, str], bytes]
) -> dict[str, str]:
    """The SigV4 headers for this exact request, ``(method, url, headers, body)``
    (botocore's ``SigV4Auth``)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    method, url, headers, data = request_parts
    request = AWSRequest(method=method, url=url, data=data, headers=dict(headers))
    SigV4Auth(frozen, SERVICE, region).add_auth(request)
    out = {"Authorization": request.headers["Authorization"]}
    out["X-Amz-Date"] = request.headers["X-Amz-Date"]
    if frozen.token:
        out["X-Amz-Security-Token"] = request.headers["X-Amz-Security-Token"]
    return out


_FIX = (
    "lynkr reads the standard AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile "
    "(AWS_PROFILE or provider.bedrock.profile) in ~/.aws/config or ~/.aws/credentials, "
    "`aws sso login` for IAM Identity Center, or an instance/container role"
)
