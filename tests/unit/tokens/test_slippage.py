"""Default slippage bound and the large-trade warning (pure helpers of tokens.client)."""

from __future__ import annotations

from tokens.client import (
    DEFAULT_LARGE_TRADE_TOK,
    DEFAULT_SLIPPAGE_BPS,
    ClientOptions,
    large_trade_warning,
    slippage_bound,
)
from tokens.deployment import Deployment

ONE = 10**18
ADDR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_the_default_bound_is_half_a_percent() -> None:
    assert DEFAULT_SLIPPAGE_BPS == 50
    options = ClientOptions(rpc_url="http://127.0.0.1:1", deployment=Deployment(1, ADDR, ADDR, 0))
    assert options.slippage_bps == 50


def test_bounds_widen_a_buy_and_narrow_a_sale() -> None:
    assert slippage_bound(10_000, 50, "buy") == 10_050
    assert slippage_bound(10_000, 50, "sell") == 9_950
    assert slippage_bound(10_000, 0, "buy") == 10_000


def test_small_trades_get_no_warning() -> None:
    total = DEFAULT_LARGE_TRADE_TOK * ONE - 1
    assert large_trade_warning(total, slippage_bound(total, 50, "buy")) is None


def test_a_large_trade_is_warned_with_what_a_sandwich_can_take() -> None:
    total = 400 * ONE
    warning = large_trade_warning(total, slippage_bound(total, 50, "buy"))
    assert warning is not None
    assert "400 TOK" in warning
    assert "up to 2 TOK worse" in warning
    sale = large_trade_warning(total, slippage_bound(total, 100, "sell"), large_trade_tok=300)
    assert sale is not None
    assert "up to 4 TOK worse" in sale


def test_the_warning_can_be_turned_off() -> None:
    assert large_trade_warning(10**30, 2 * 10**30, large_trade_tok=0) is None
