"""Sending one request upstream: timeouts, retries with jittered backoff, error mapping.

Retries happen only here, i.e. before the first byte reaches the client. They
cover connection errors, a timeout before the response headers, and the
statuses 408/429/5xx/529. A ``Retry-After`` is honoured: the retry waits at
least that long, and when that is longer than ``provider.retry_max_wait`` the
429 and its header go to the client instead.

Failures become :class:`ApiError` saying whose fault it was: the client's
input (400 passed through), lynkr's upstream credential (naming the setting),
or the upstream being down or slow.

Every upstream call goes through :class:`Sender`: the request (:meth:`Sender.send`,
with retries) and the one-shot calls (:meth:`Sender.once`: ``count_tokens``
forwarding, the ``/health/ready?deep=1`` probe). Each attempt gets the hop header,
the token command's bearer token, and the provider's :meth:`~Provider.sign` when it
signs its requests; a 2xx answer goes through the provider's
:meth:`~Provider.decode_response`. What carries the bytes is a
:class:`~lynkr_cli.serve.transport.Transport`.
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from lynkr_cli.serve.errors import ApiError
from lynkr_cli.serve.providers.base import Provider, ProviderError, UpstreamRequest
from lynkr_cli.serve.streams import wait_until
from lynkr_cli.serve.transport import (
    ConnectTimeout,
    ProxyError,
    RemoteProtocolError,
    Response,
    Transport,
    TransportError,
)
from lynkr_cli.settings import ProviderSettings

if TYPE_CHECKING:
    from lynkr_cli.serve.metrics import Metrics

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
HOP_HEADER = "x-lynkr-hop"


def open_transport(settings: ProviderSettings) -> Transport:
    """The transport ``provider.transport`` names: ``http1``, ``aiohttp``, or ``auto``
    (http1, and aiohttp for each upstream whose proxy http1 cannot speak: https, SOCKS)."""
    from lynkr_cli.serve.http1 import Pool

    proxy = settings.proxy.get_secret_value() if settings.proxy is not None else ""
    timeout = settings.connect_timeout
    if settings.transport == "aiohttp":
        return _aiohttp_transport(timeout, proxy)
    if settings.transport == "http1":
        return Pool(timeout, proxy)
    return Pool(timeout, proxy, fallback=lambda: _aiohttp_transport(timeout, proxy))


def _aiohttp_transport(connect_timeout: float, proxy: str) -> Transport:
    """aiohttp's client (its module imported only when an upstream needs it)."""
    from lynkr_cli.serve.transport_aiohttp import AiohttpTransport

    return AiohttpTransport(connect_timeout, proxy)


new_pool = open_transport  # its older name (state.py)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date. None when absent or junk."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


class Sender:
    """Posts prepared requests with the provider settings' timeouts and retry policy."""

    def __init__(
        self,
        transport: Transport,
        settings: ProviderSettings,
        metrics: Metrics,
        hop_id: str,
    ) -> None:
        self.transport = transport
        self.settings = settings
        self.metrics = metrics
        self.hop_id = hop_id

    @property
    def pool(self) -> Transport:
        """The transport (its older name)."""
        return self.transport

    def backoff(self, attempt: int) -> float:
        # Full jitter keeps many clients retrying a shared upstream from synchronising.
        ceiling = min(self.settings.retry_max_wait, 0.5 * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def send(self, provider: Provider, req: UpstreamRequest) -> Response:
        """The upstream response with a 2xx status, or an ApiError after the retries."""
        name = provider.name
        headers = {**req.headers, HOP_HEADER: self.hop_id}
        token = "" if provider.token is None else await authorize(provider, headers)
        attempts = self.settings.max_retries + 1
        loop = asyncio.get_running_loop()
        request = self.transport.request
        last: ApiError | None = None
        attempt = 0
        while attempt < attempts:
            if attempt:
                self.metrics.inc("lynkr_retries", name)
            self.metrics.inc("lynkr_upstream_attempts", name)
            if provider.signs:
                await _sign(provider, req, headers)
            wait: float | None = None
            try:
                resp = await wait_until(
                    request(req.method, req.url, headers, req.data),
                    loop.time() + self.settings.first_byte_timeout,
                    loop,
                )
            except TimeoutError:
                self.metrics.inc("lynkr_upstream_errors", name, "timeout")
                last = ApiError(
                    504,
                    f"upstream {name} sent no response headers within "
                    f"{self.settings.first_byte_timeout:g}s (provider.first_byte_timeout)",
                )
            except RemoteProtocolError as exc:
                # The upstream received the request and answered garbage: sending it again
                # could run it twice (and bill it twice), so this is not retried.
                self.metrics.inc("lynkr_upstream_errors", name, "malformed")
                raise ApiError(
                    502,
                    f"upstream {name} at {_origin(req.url)} sent an answer that is not valid "
                    f"HTTP/1.1: {exc.detail}",
                ) from None
            except TransportError as exc:
                last = self._unreachable(name, req.url, exc)
            else:
                if resp.status < 400:
                    return provider.decode_response(resp, req) if provider.decodes else resp
                self.metrics.inc("lynkr_upstream_errors", name, str(resp.status))
                last = await error_from_response(provider, resp)
                if resp.status == 401 and token:
                    # The command's token expired or was revoked early: run it again and
                    # retry once, at once (nothing has reached the client yet).
                    assert provider.token is not None
                    provider.token.invalidate(token)
                    token = ""
                    headers["authorization"] = "Bearer " + await provider.token.get()
                    continue
                if resp.status not in RETRY_STATUSES:
                    raise last
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                if wait is not None and wait > self.settings.retry_max_wait:
                    raise last  # the client is better placed to wait that long
            attempt += 1
            if attempt < attempts:
                await asyncio.sleep(max(wait or 0.0, self.backoff(attempt - 1)))
        assert last is not None
        raise last

    def _unreachable(self, name: str, url: str, exc: TransportError) -> ApiError:
        """The error for an upstream that could not be reached (raised at once when the
        proxy's configuration is the cause: retrying cannot help)."""
        reason = "timeout" if isinstance(exc, ConnectTimeout) else "connect"
        self.metrics.inc("lynkr_upstream_errors", name, reason)
        error = ApiError(502, f"upstream {name} is unreachable at {_origin(url)}: {_reason(exc)}")
        if isinstance(exc, ProxyError) and exc.stage in ("refused", "unsupported"):
            raise ApiError(502, error.message + _PROXY_FIX, retry=False) from None
        return error

    async def once(self, provider: Provider, req: UpstreamRequest, timeout: float) -> Response:
        """One attempt, any status, within ``timeout`` seconds: for calls that have a local
        answer to fall back on or only ask whether the upstream answers (``count_tokens``,
        the deep readiness probe). Raises :class:`TransportError`, :class:`TimeoutError`,
        or :class:`ApiError` when the token command fails."""
        headers = {**req.headers, HOP_HEADER: self.hop_id}
        await authorize(provider, headers)
        if provider.signs:
            await _sign(provider, req, headers)
        async with asyncio.timeout(timeout):
            resp = await self.transport.request(req.method, req.url, headers, req.data)
        if resp.status < 400 and provider.decodes:
            return provider.decode_response(resp, req)
        return resp


async def _sign(provider: Provider, req: UpstreamRequest, headers: dict[str, str]) -> None:
    try:
        await provider.sign(req, headers)
    except ProviderError as exc:
        raise ApiError(
            502, f"upstream {provider.name}: lynkr cannot sign the request: {exc}", retry=False
        ) from None


async def authorize(provider: Provider, headers: dict[str, str]) -> str:
    """Add the token command's bearer token to ``headers``; the token, or "" without one.

    Fresh from the cache costs a clock read; otherwise the command runs (once, shared).
    """
    source = provider.token
    if source is None:
        return ""
    token = source.current()
    if token is None:
        token = await source.get()
    headers["authorization"] = "Bearer " + token
    return token


_PROXY_FIX = (
    ". This is lynkr's proxy setting, not your request: fix HTTPS_PROXY/HTTP_PROXY/NO_PROXY "
    "or provider.proxy (LYNKR_UPSTREAM_PROXY) and restart `lynkr serve`."
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    return f"{parts.scheme}://{parts.hostname}:{port}"


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "os_error", None) or exc
    return str(cause) or type(cause).__name__


async def error_from_response(provider: Provider, resp: Response) -> ApiError:
    """Map an upstream error response to the client's error, saying whose fault it is."""
    try:
        raw = await resp.read()
    except TransportError:
        raw = b""
    finally:
        resp.release()
    status = resp.status
    name = provider.name
    shaped = provider.upstream_error(status, resp.headers, raw)
    if shaped is not None:  # the provider's own error format, in Anthropic's terms
        return ApiError(
            shaped.status,
            f"upstream {name}: {shaped.message}",
            error_type=shaped.error_type,
            headers={"retry-after": resp.headers["retry-after"]}
            if "retry-after" in resp.headers
            else None,
            retry=shaped.retry,
        )
    detail = _upstream_message(raw)
    headers: dict[str, str] = {}
    if status in (401, 403):
        return ApiError(
            status,
            f"upstream {name} rejected lynkr's credential (HTTP {status}: {detail}). "
            f"This is not your client key: fix {provider.credential_setting()} "
            "in lynkr's settings and restart `lynkr serve`.",
            retry=False,
        )
    if status == 429:
        retry_after = resp.headers.get("retry-after")
        if retry_after:
            headers["retry-after"] = retry_after
        return ApiError(429, f"upstream {name} is rate limiting: {detail}", headers=headers)
    if status == 508:  # our own loop detector answered: say so plainly
        return ApiError(508, detail, retry=False)
    if status == 529:
        return ApiError(529, f"upstream {name} is overloaded: {detail}")
    if status >= 500 or status == 408:
        return ApiError(502, f"upstream {name} failed with HTTP {status}: {detail}")
    if status == 404:
        return ApiError(
            404,
            f"upstream {name} answered 404 at {_origin(resp.url)}{urlsplit(resp.url).path}: "
            f"{detail}. "
            "Check the provider's endpoint setting and the model name.",
            retry=False,
        )
    error_type = _upstream_type(raw) or "invalid_request_error"
    return ApiError(
        status, f"upstream {name} rejected the request: {detail}", error_type=error_type
    )


def _upstream_doc(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _upstream_message(raw: bytes) -> str:
    doc = _upstream_doc(raw)
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:2000]
        if isinstance(err, str):
            return err[:2000]
        if doc.get("message"):
            return str(doc["message"])[:2000]
    text = raw.decode("utf-8", "replace").strip()
    return text[:500] or "(empty body)"


def _upstream_type(raw: bytes) -> str | None:
    doc = _upstream_doc(raw)
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        value = doc["error"].get("type")
        return value if isinstance(value, str) and value.endswith("_error") else None
    return None
