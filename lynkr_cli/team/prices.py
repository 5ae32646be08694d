"""The price table: USD per million tokens by model glob, kept as data (``prices.toml``).

Overrides come first: ``[team] prices`` in ``lynkr.toml`` (glob → prices) and
``[team] prices_file`` (a file shaped like ``prices.toml``), then the shipped table.
A model no entry matches costs nothing (a local model, say) and is reported by
:meth:`PriceTable.known`.

Prices are held as integer pico-USD per token, so a cost is integer arithmetic and
comes out as exact integer nano-USD (:data:`lynkr_cli.team.types.NANO`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

from lynkr_cli.errors import ConfigError
from lynkr_cli.team.types import NANO, Usage

PICO_PER_MTOK = Decimal(1_000_000)  # $1 per MTok = 1e-6 $/token = 1e6 pico-$/token
_FIELDS = ("input", "output", "cache_write", "cache_read")
_CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Rates:
    """Pico-USD per token."""

    input: int
    output: int
    cache_write: int
    cache_write_1h: int
    cache_read: int

    def pico(self, usage: Usage) -> int:
        five_min = max(usage.cache_creation_tokens - usage.cache_creation_1h_tokens, 0)
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + five_min * self.cache_write
            + usage.cache_creation_1h_tokens * self.cache_write_1h
            + usage.cache_read_tokens * self.cache_read
        )

    def per_mtok(self) -> dict[str, str]:
        return {
            name: str(Decimal(getattr(self, name)) / PICO_PER_MTOK)
            for name in ("input", "output", "cache_write", "cache_write_1h", "cache_read")
        }


@dataclass(frozen=True, slots=True)
class Price:
    globs: tuple[str, ...]
    rates: Rates
    long_threshold: int | None = None
    long: Rates | None = None

    def matches(self, model: str) -> bool:
        return any(fnmatchcase(model, glob) for glob in self.globs)

    def input_nano(self, tokens: int) -> int:
        """The cost of ``tokens`` plain input tokens (an estimate before the answer)."""
        rates = self.rates
        if (
            self.long is not None
            and self.long_threshold is not None
            and tokens > self.long_threshold
        ):
            rates = self.long
        return (tokens * rates.input + 500) // 1000

    def nano(self, usage: Usage) -> int:
        rates = self.rates
        long, threshold = self.long, self.long_threshold
        if long is not None and threshold is not None and usage.prompt_tokens > threshold:
            rates = long
        return (rates.pico(usage) + 500) // 1000


class PriceTable:
    """Looks prices up by model name; results are cached per name."""

    def __init__(self, prices: Iterable[Price]) -> None:
        self.prices = tuple(prices)
        self._cache: dict[str, Price | None] = {}
        self._by_models: dict[tuple[str, ...], Price | None] = {}

    def lookup(self, *models: str) -> Price | None:
        """The first model name with a price wins (the upstream's, then the client's)."""
        return self.lookup_models(models)

    def lookup_models(self, models: tuple[str, ...]) -> Price | None:
        """:meth:`lookup` for a tuple of names, cached per tuple (one dict read a request)."""
        try:
            return self._by_models[models]
        except KeyError:
            pass
        found = next((p for m in models if m and (p := self._find(m)) is not None), None)
        if len(self._by_models) >= _CACHE_SIZE:
            self._by_models.clear()
        self._by_models[models] = found
        return found

    def _find(self, model: str) -> Price | None:
        try:
            return self._cache[model]
        except KeyError:
            pass
        found = next((p for p in self.prices if p.matches(model)), None)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[model] = found
        return found

    def known(self, model: str) -> bool:
        return self._find(model) is not None

    def cost_nano(self, usage: Usage, *models: str) -> int:
        price = self.lookup(*models)
        return price.nano(usage) if price is not None else 0

    def cost(self, model: str, usage: Usage) -> Decimal:
        """USD for ``usage`` on ``model`` (0 when the table has no price for it)."""
        return Decimal(self.cost_nano(usage, model)) / NANO


def _rate(value: Any, where: str) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: {value!r} is not a price in USD per million tokens") from None
    if amount < 0 or not amount.is_finite():
        raise ConfigError(f"{where}: a price must be a non-negative number, not {value!r}")
    return int((amount * PICO_PER_MTOK).to_integral_value())


def _rates(data: Mapping[str, Any], where: str) -> Rates:
    missing = [name for name in ("input", "output") if name not in data]
    if missing:
        raise ConfigError(f"{where}: missing {' and '.join(missing)} (USD per million tokens)")
    unknown = set(data) - {*_FIELDS, "cache_write_1h", "match", "long", "long_threshold"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    base = _rate(data["input"], f"{where}.input")
    return Rates(
        input=base,
        output=_rate(data["output"], f"{where}.output"),
        cache_write=_rate(
            data.get("cache_write", Decimal(base) * Decimal("1.25") / PICO_PER_MTOK),
            f"{where}.cache_write",
        ),
        cache_write_1h=_rate(
            data.get("cache_write_1h", Decimal(base) * 2 / PICO_PER_MTOK), f"{where}.cache_write_1h"
        ),
        cache_read=_rate(
            data.get("cache_read", Decimal(base) / 10 / PICO_PER_MTOK), f"{where}.cache_read"
        ),
    )


def price_from(globs: Iterable[str], data: Mapping[str, Any], where: str) -> Price:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table of prices, got {data!r}")
    long = data.get("long")
    threshold = data.get("long_threshold")
    if (long is None) != (threshold is None):
        raise ConfigError(f"{where}: long and long_threshold go together")
    return Price(
        tuple(globs),
        _rates(data, where),
        int(threshold) if threshold is not None else None,
        _rates(long, f"{where}.long") if long is not None else None,
    )


def parse_table(text: str, where: str) -> list[Price]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from exc
    prices = []
    for i, entry in enumerate(data.get("model", [])):
        globs = entry.get("match")
        if isinstance(globs, str):
            globs = [globs]
        if not globs:
            raise ConfigError(f"{where}: model entry {i + 1} has no match globs")
        prices.append(price_from(globs, entry, f"{where} model {i + 1}"))
    return prices


def shipped() -> list[Price]:
    text = resources.files("lynkr_cli.team").joinpath("prices.toml").read_text("utf-8")
    return parse_table(text, "prices.toml")


def build(overrides: Mapping[str, Any] | None = None, file: Path | None = None) -> PriceTable:
    """The effective table: inline overrides, then ``file``, then the shipped prices."""
    prices = [
        price_from([glob], data, f"team.prices[{glob!r}]")
        for glob, data in (overrides or {}).items()
    ]
    if file is not None:
        try:
            text = Path(file).expanduser().read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the price file {file}: {exc.strerror}") from exc
        prices.extend(parse_table(text, str(file)))
    prices.extend(shipped())
    return PriceTable(prices)
