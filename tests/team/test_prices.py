"""The price table: shipped prices, cache prices, long-prompt tiers, overrides, bad config."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from lynkr_cli.errors import ConfigError
from lynkr_cli.team import prices
from lynkr_cli.team.types import Usage

M = 1_000_000


@pytest.fixture(scope="module")
def table() -> prices.PriceTable:
    return prices.build()


@pytest.mark.parametrize(
    ("model", "input_usd", "output_usd"),
    [
        ("claude-sonnet-4-5", "3", "15"),
        ("claude-sonnet-4-5-20250929", "3", "15"),
        ("databricks-claude-sonnet-4-5", "3", "15"),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "1", "5"),
        ("claude-opus-4-1-20250805", "15", "75"),
        ("claude-opus-4-5-20251101", "5", "25"),
        ("claude-opus-5-5", "4", "20"),
        ("claude-sonnet-5", "2", "10"),
        ("claude-3-5-haiku-20241022", "0.8", "4"),
    ],
)
def test_shipped_list_prices(
    table: prices.PriceTable, model: str, input_usd: str, output_usd: str
) -> None:
    assert table.cost(model, Usage(input_tokens=M)) == Decimal(input_usd)
    assert table.cost(model, Usage(output_tokens=M)) == Decimal(output_usd)


def test_cache_writes_and_reads_have_their_own_prices(table: prices.PriceTable) -> None:
    sonnet = "claude-sonnet-4-5"
    assert table.cost(sonnet, Usage(cache_creation_tokens=M)) == Decimal("3.75")
    assert table.cost(sonnet, Usage(cache_read_tokens=M)) == Decimal("0.3")
    one_hour = Usage(cache_creation_tokens=M, cache_creation_1h_tokens=M)
    assert table.cost(sonnet, one_hour) == Decimal(6)


def test_a_long_prompt_tier_prices_the_whole_request(table: prices.PriceTable) -> None:
    haiku = "claude-haiku-5-5"
    short = Usage(input_tokens=100_000, output_tokens=M)
    long = Usage(input_tokens=60_000, cache_read_tokens=40_001, output_tokens=M)
    assert table.cost(haiku, short) == Decimal("0.01") + Decimal("0.5")
    assert table.cost(haiku, long) == Decimal("0.03") + Decimal("0.00200005") + Decimal("2.5")


def test_tiny_requests_are_exact_in_nano_usd(table: prices.PriceTable) -> None:
    # One cache-read token of Haiku 5.5 costs $0.00000001: 10 nano-USD, not rounded to 0.
    assert table.cost_nano(Usage(cache_read_tokens=1), "claude-haiku-5-5") == 10


def test_unknown_models_cost_nothing_and_say_so(table: prices.PriceTable) -> None:
    assert table.cost("llama3:8b", Usage(input_tokens=M, output_tokens=M)) == 0
    assert not table.known("llama3:8b") and table.known("claude-sonnet-4-5")


def test_lookup_prefers_the_first_model_with_a_price(table: prices.PriceTable) -> None:
    usage = Usage(input_tokens=M)
    assert table.cost_nano(usage, "my-endpoint", "claude-opus-4-1") == 15 * 10**9
    assert table.cost_nano(usage, "claude-haiku-4-5", "claude-opus-4-1") == 10**9


def test_inline_overrides_and_a_price_file_come_before_the_shipped_table(tmp_path: Path) -> None:
    file = tmp_path / "prices.toml"
    file.write_text('[[model]]\nmatch = "claude-haiku-*"\ninput = "0.5"\noutput = "2"\n')
    table = prices.build({"claude-sonnet-4*": {"input": 1, "output": "2.5"}}, file)
    assert table.cost("claude-sonnet-4-5", Usage(input_tokens=M)) == 1
    assert table.cost("claude-sonnet-4-5", Usage(output_tokens=M)) == Decimal("2.5")
    # Unspecified cache prices follow Anthropic's multipliers: 1.25x, 2x and 0.1x input.
    assert table.cost("claude-sonnet-4-5", Usage(cache_creation_tokens=M)) == Decimal("1.25")
    assert table.cost("claude-haiku-4-5", Usage(cache_read_tokens=M)) == Decimal("0.05")
    assert table.cost("claude-opus-4-5", Usage(input_tokens=M)) == 5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"x*": {"input": 1}}, "missing output"),
        ({"x*": {"input": "lots", "output": 1}}, "not a price"),
        ({"x*": {"input": -1, "output": 1}}, "non-negative"),
        ({"x*": {"input": 1, "output": 1, "cache_wrte": 1}}, "unknown field"),
        ({"x*": 5}, "expected a table"),
    ],
)
def test_bad_price_overrides_are_config_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        prices.build(overrides)


def test_an_unreadable_or_invalid_price_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        prices.build(None, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[model]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        prices.build(None, bad)


def test_every_shipped_entry_names_its_source() -> None:
    text = (Path(prices.__file__).parent / "prices.toml").read_text()
    assert "https://platform.claude.com/docs/en/about-claude/pricing" in text
    assert len(prices.shipped()) >= 10
