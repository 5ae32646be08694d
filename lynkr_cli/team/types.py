"""The team gateway's values and the errors a key holder can meet.

The errors::

    TeamError                     base; ``message`` is safe to show a key holder
    ├── AuthError                 401 authentication_error, ``reason``: missing, unknown,
    │                             revoked or expired
    ├── ModelRefused              403 permission_error: the key may not use this model
    ├── RateLimited               429 rate_limit_error; ``retry_after`` seconds and ``headers``
    └── TeamUnavailable           503 api_error: the key store could not be read for too long

No message ever contains a presented key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fnmatch import translate
from typing import Any, Literal

ToolsMode = Literal["never", "auto", "always"]
AuditMode = Literal["off", "metadata", "full"]
AuthReason = Literal["missing", "unknown", "revoked", "expired"]
NANO = Decimal(1_000_000_000)  # costs are kept as integer nano-USD (exact, and Redis-friendly)
# Limit counters and their windows (0: the UTC minute, 1: the UTC day, 2: the UTC month).
REQUESTS_M, TOKENS_M, TOKENS_D, TOKENS_MO, NANO_MO = "req/m", "tok/m", "tok/d", "tok/mo", "usd/mo"
MINUTE, DAY, MONTH = 0, 1, 2
Plan = tuple[tuple[str, int, int], ...]  # (counter, limit, window) per limit a key has


class TeamError(Exception):
    """Base of the team errors; ``message`` is written for the key holder.

    The gateway answers ``ApiError(e.status, e.message, error_type=e.error_type,
    headers=e.headers, retry=e.retry)``: ``retry`` becomes ``x-should-retry``.
    """

    status = 500
    error_type = "api_error"
    retry = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = {}


class AuthError(TeamError):
    status = 401
    error_type = "authentication_error"

    def __init__(self, reason: AuthReason, message: str) -> None:
        super().__init__(message)
        self.reason: AuthReason = reason


class ModelRefused(TeamError):
    status = 403
    error_type = "permission_error"


class RateLimited(TeamError):
    status = 429
    error_type = "rate_limit_error"
    retry = True

    def __init__(self, limit: str, message: str, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.limit = limit  # rpm | tpm | tokens_day | tokens_month | budget_usd
        self.retry_after = retry_after
        self.headers = {**headers, "retry-after": str(retry_after)}


class TeamUnavailable(TeamError):
    status = 503
    error_type = "api_error"
    retry = True


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-key limits; ``None`` is no limit. Tokens count input, cache and output tokens."""

    rpm: int | None = None
    tpm: int | None = None
    tokens_day: int | None = None
    tokens_month: int | None = None
    budget_usd: Decimal | None = None  # per calendar month (UTC)

    def any(self) -> bool:
        return any(v is not None for v in self.as_dict().values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rpm": self.rpm,
            "tpm": self.tpm,
            "tokens_day": self.tokens_day,
            "tokens_month": self.tokens_month,
            "budget_usd": str(self.budget_usd) if self.budget_usd is not None else None,
        }

    def plan(self) -> Plan:
        """The counters these limits need, in the order they are checked."""
        steps = (
            (REQUESTS_M, self.rpm, MINUTE),
            (TOKENS_M, self.tpm, MINUTE),
            (TOKENS_D, self.tokens_day, DAY),
            (TOKENS_MO, self.tokens_month, MONTH),
            (NANO_MO, int(self.budget_usd * NANO) if self.budget_usd is not None else None, MONTH),
        )
        return tuple(
            (counter, limit, window) for counter, limit, window in steps if limit is not None
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        budget = data.get("budget_usd")
        return cls(
            rpm=data.get("rpm"),
            tpm=data.get("tpm"),
            tokens_day=data.get("tokens_day"),
            tokens_month=data.get("tokens_month"),
            budget_usd=Decimal(str(budget)) if budget is not None else None,
        )


@dataclass(slots=True)
class Usage:
    """What the upstream reported for one answer (Anthropic's ``usage`` object)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_1h_tokens: int = 0  # the part of cache_creation written with the 1 h TTL

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_creation_tokens + self.cache_read_tokens

    @property
    def total_tokens(self) -> int:
        """What token limits count: everything read and written, cache included."""
        return self.prompt_tokens + self.output_tokens

    @classmethod
    def from_anthropic(cls, usage: Any) -> Usage:
        """From a Messages ``usage`` dict; missing or malformed fields count as zero."""
        if not isinstance(usage, dict):
            return cls()
        # Inline, not a helper per field: this runs for every answer. ``type(v) is int``
        # keeps bools (and int subclasses) out; anything else counts as zero.
        get = usage.get
        a = get("input_tokens")
        b = get("output_tokens")
        c = get("cache_creation_input_tokens")
        d = get("cache_read_input_tokens")
        creation = get("cache_creation")
        e = creation.get("ephemeral_1h_input_tokens") if type(creation) is dict else 0
        return cls(
            a if type(a) is int and a > 0 else 0,
            b if type(b) is int and b > 0 else 0,
            c if type(c) is int and c > 0 else 0,
            d if type(d) is int and d > 0 else 0,
            e if type(e) is int and e > 0 else 0,
        )


@dataclass(slots=True)
class UsageRecord:
    """One answered request. Times are epoch seconds; durations milliseconds."""

    request_id: str
    ts: float
    key_id: str = ""
    key_name: str = ""
    client_model: str = ""
    provider: str = ""
    upstream_model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano: int = 0
    status: int = 200
    latency_ms: float = 0.0
    ttfb_ms: float | None = None
    streamed: bool = False
    cache_hit: bool = False
    tool_rounds: int = 0
    route: str = ""  # a free scenario label (issue 15's routing uses it)
    guard_findings: dict[str, int] = field(default_factory=dict)  # counts by kind
    error: str = ""

    @property
    def cost_usd(self) -> Decimal:
        return Decimal(self.cost_nano) / NANO

    def set_usage(self, usage: Usage) -> None:
        self.input_tokens = usage.input_tokens
        self.output_tokens = usage.output_tokens
        self.cache_creation_tokens = usage.cache_creation_tokens
        self.cache_read_tokens = usage.cache_read_tokens


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An issued key as stored: never the key itself, only its SHA-256 (hex)."""

    id: str
    name: str
    prefix: str
    secret_hash: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    models: tuple[str, ...] = ()
    tools: ToolsMode = "never"
    limits: Limits = field(default_factory=Limits)
    note: str = ""
    guard: str | None = None  # issue 15: a per-key guard mode
    previous_hash: str | None = None  # the secret before the last rotation …
    previous_until: float | None = None  # … accepted until then
    last_used_at: float | None = None

    def state(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def public(self) -> dict[str, Any]:
        """JSON-ready, without the hash."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "models": list(self.models),
            "tools": self.tools,
            "limits": self.limits.as_dict(),
            "note": self.note,
            "guard": self.guard,
        }


@dataclass(frozen=True, slots=True, eq=False)
class Principal:
    """Who is calling: an issued key, or the unnamed admin (``LYNKR_API_KEY``)."""

    key_id: str
    name: str
    prefix: str
    models: tuple[str, ...] = ()  # globs; empty means every model
    tools: ToolsMode | None = "never"  # None: the gateway's own setting (the admin key)
    limits: Limits = field(default_factory=Limits)
    guard: str | None = None
    admin: bool = False
    plan: Plan = ()  # limits.plan(), computed once per key snapshot
    _model_re: re.Pattern[str] | None = field(default=None, repr=False)

    @classmethod
    def issued(cls, key: KeyRecord) -> Principal:
        pattern = re.compile("|".join(translate(g) for g in key.models)) if key.models else None
        return cls(
            key.id,
            key.name,
            key.prefix,
            key.models,
            key.tools,
            key.limits,
            key.guard,
            False,
            key.limits.plan(),
            pattern,
        )

    def allows_model(self, model: str) -> bool:
        return self._model_re is None or self._model_re.match(model) is not None

    def check_model(self, model: str) -> None:
        """Raise :class:`ModelRefused` (403) when this key may not use ``model``."""
        if not self.allows_model(model):
            raise ModelRefused(
                f"this API key ('{self.name}') may not use model '{model}'; it may use: "
                f"{', '.join(self.models)}. Pick one of those (in Claude Code: /model or "
                "ANTHROPIC_MODEL), or ask your gateway admin to allow it "
                f"(lynkr keys update {self.name} --models ...)."
            )


ADMIN = Principal("admin", "", "", tools=None, admin=True)
