"""Plain-text pieces of the team commands' output (the Rich tables live in ``command*.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lynkr_cli.team.types import Limits

BAR_WIDTH = 24


def when(ts: float | None, empty: str = "-") -> str:
    if ts is None:
        return empty
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def day(ts: float | None, empty: str = "-") -> str:
    return empty if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def count(n: int) -> str:
    """``950``, ``12.3k``, ``4.5M``: short token counts for tables."""
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return str(n)


def usd_nano(nano: int) -> str:
    return usd(Decimal(nano) / Decimal(10**9))


def usd(amount: Decimal) -> str:
    if 0 < amount < Decimal("0.01"):
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def limits(lim: Limits) -> str:
    parts = []
    if lim.rpm is not None:
        parts.append(f"{count(lim.rpm)} rpm")
    if lim.tpm is not None:
        parts.append(f"{count(lim.tpm)} tpm")
    if lim.tokens_day is not None:
        parts.append(f"{count(lim.tokens_day)}/day")
    if lim.tokens_month is not None:
        parts.append(f"{count(lim.tokens_month)}/month")
    if lim.budget_usd is not None:
        parts.append(f"{usd(lim.budget_usd)}/month")
    return ", ".join(parts) or "none"


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A proportional bar of block characters (at least one block for any non-zero value)."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[rest]
