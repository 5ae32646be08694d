"""Time for the team gateway: UTC windows, RFC 3339 text, and the ``30d``/``2027-01-31`` forms.

Every limit window is a fixed UTC calendar window (a minute, a day, a month), so the
same counter means the same thing in memory, in SQLite and in Redis, and a reset time
is an exact instant that every instance agrees on.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, date, datetime, timedelta

from lynkr_cli.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def rfc3339(ts: float) -> str:
    """``2026-12-06T10:31:47Z``: the reset format of Anthropic's rate-limit headers."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_minutes: dict[int, str] = {}


def rfc3339_micro(ts: float) -> str:
    """``2026-12-06T10:31:47.123456Z``: the audit log's time, exact and sortable as text."""
    frac, whole = math.modf(ts)  # datetime's own rounding: the fraction, half to even
    micros = int(whole) * 1_000_000 + round(frac * 1e6)
    minute, rest = divmod(micros, 60_000_000)
    prefix = _minutes.get(minute)
    if prefix is None:  # formatting a date is slow; one per minute is plenty
        if len(_minutes) > 16:
            _minutes.clear()
        prefix = _minutes[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime(
            "%Y-%m-%dT%H:%M:"
        )
    seconds, micro = divmod(rest, 1_000_000)
    return f"{prefix}{seconds:02d}.{micro:06d}Z"


def minute_window(now: float) -> tuple[float, float]:
    start = now - now % 60
    return start, start + 60


def day_window(now: float) -> tuple[float, float]:
    start = now - now % 86400
    return start, start + 86400


def month_window(now: float) -> tuple[float, float]:
    day = datetime.fromtimestamp(now, UTC)
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)
    return start.timestamp(), end.timestamp()


def parse_duration(text: str) -> float:
    """Seconds in ``90s``, ``15m``, ``12h``, ``30d`` or ``2w``."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"invalid duration {text!r}",
            hint="Write a number and a unit: 90s, 15m, 12h, 30d or 2w.",
        )
    return float(match[1]) * _UNIT_SECONDS[match[2].lower()]


def parse_instant(text: str, *, now: float | None = None, future: bool = True) -> float:
    """A time given as a duration from now (``30d``) or a date/time (``2027-01-31``, ISO 8601).

    With ``future`` a duration counts forward (an expiry); otherwise back (``--since 7d``).
    A bare date means its start, 00:00 UTC. Times without a zone are UTC.
    """
    now = time.time() if now is None else now
    if _DURATION.match(text):
        delta = parse_duration(text)
        return now + delta if future else now - delta
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            parsed = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid time {text!r}",
            hint="Use a duration (30d, 12h) or a date (2027-01-31, 2027-01-31T09:00:00Z).",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def day_label(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def days(n: float) -> timedelta:
    return timedelta(days=n)
