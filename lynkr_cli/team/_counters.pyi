"""The C accelerator of :mod:`lynkr_cli.team.limits` (``native/team_counters.c``)."""

from collections.abc import Callable, Sequence
from typing import Any

from lynkr_cli.team.store import Check, Decision

def configure(
    check: type[tuple[Any, ...]],
    decision: type[tuple[Any, ...]],
    kinds: dict[str, int],
    when_empty: str,
    requests: str,
    tokens: frozenset[str],
    names: tuple[tuple[str, str, str], tuple[str, str, str]],
    resets: dict[float, str],
    fmt: Callable[[float], str],
) -> None: ...
def admit(
    keys: dict[str, dict[str, list[float]]],
    key_id: str,
    plan: tuple[tuple[str, int, int], ...],
    windows: tuple[tuple[float, float], ...],
    amounts: tuple[int, int, int],
) -> tuple[list[Check], Decision, bytes | None]: ...
def settle(
    keys: dict[str, dict[str, list[float]]],
    key_id: str,
    checks: Sequence[Check],
    amounts: tuple[int, int, int],
) -> None: ...
def headers(checks: Sequence[Check], values: Sequence[int]) -> dict[str, str]: ...
def lines(checks: Sequence[Check], values: Sequence[int]) -> bytes | None: ...
