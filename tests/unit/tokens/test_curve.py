"""Pure curve math: rounding direction, reserve coverage, fees, amount parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokens import curve

UNIT = curve.UNIT
params_st = st.builds(
    curve.CurveParams,
    base_price=st.integers(0, 10**24),
    slope=st.integers(1, 10**22),
    creator_fee_bps=st.integers(0, 500),
    protocol_fee_bps=st.integers(0, 500),
)
supply_st = st.integers(0, 10**9 * UNIT)


def test_first_whole_token_costs_base_plus_half_slope() -> None:
    p = curve.CurveParams(10**16, 10**15, 0, 0)
    assert curve.buy_curve_cost(p, 0, UNIT) == 10**16 + 10**15 // 2
    assert curve.spot_price(p, UNIT) == 10**16 + 10**15


def test_fees_are_floored_basis_points() -> None:
    p = curve.CurveParams(10**16, 10**15, 500, 200)
    q = curve.quote_buy(p, 0, UNIT)
    assert q.curve_amount == 10_500_000_000_000_000
    assert (q.creator_fee, q.protocol_fee) == (525_000_000_000_000, 210_000_000_000_000)
    assert q.total == q.curve_amount + q.creator_fee + q.protocol_fee
    assert curve.fees(p, 19_999) == (999, 399)


@settings(max_examples=300)
@given(params=params_st, supply=supply_st, amount=st.integers(1, 10**6 * UNIT))
def test_buy_rounds_up_and_sell_rounds_down(
    params: curve.CurveParams, supply: int, amount: int
) -> None:
    if amount > curve.MAX_SUPPLY - supply:
        with pytest.raises(curve.CurveError):
            curve.buy_curve_cost(params, supply, amount)
        return
    num_hi, den = curve.integral(params, supply + amount)
    num_lo, _ = curve.integral(params, supply)
    exact_num = num_hi - num_lo
    cost = curve.buy_curve_cost(params, supply, amount)
    assert cost * den >= exact_num > (cost - 1) * den
    refund = curve.sell_curve_refund(params, supply + amount, amount)
    assert refund * den <= exact_num < (refund + 1) * den


@settings(max_examples=200)
@given(
    params=params_st,
    trades=st.lists(st.tuples(st.booleans(), st.integers(1, 10**4 * UNIT)), max_size=30),
)
def test_reserve_always_covers_the_whole_supply(
    params: curve.CurveParams, trades: list[tuple[bool, int]]
) -> None:
    supply = reserve = 0
    for is_buy, amount in trades:
        if is_buy:
            reserve += curve.buy_curve_cost(params, supply, amount)
            supply += amount
        elif supply:
            part = min(amount, supply)
            reserve -= curve.sell_curve_refund(params, supply, part)
            supply -= part
        num, den = curve.integral(params, supply)
        assert reserve * den >= num
        if supply:
            assert reserve >= curve.sell_curve_refund(params, supply, supply)


def test_out_of_range_amounts_are_refused() -> None:
    p = curve.CurveParams(1, 1, 0, 0)
    with pytest.raises(curve.CurveError):
        curve.buy_curve_cost(p, 0, 0)
    with pytest.raises(curve.CurveError):
        curve.sell_curve_refund(p, 5, 6)
    with pytest.raises(curve.CurveError):
        curve.CurveParams(1, 1, 600, 401)


@pytest.mark.parametrize(
    ("text", "base"),
    [("1", UNIT), ("1.5", 3 * UNIT // 2), (".25", UNIT // 4), ("0.000000000000000001", 1)],
)
def test_whole_token_amounts_parse_exactly(text: str, base: int) -> None:
    assert curve.to_base_units(text) == base
    assert curve.to_base_units(curve.to_whole(base)) == base


@pytest.mark.parametrize(
    "text", ["", "-1", "+1", "1.2.3", "abc", "1e3", "0.0000000000000000001", "."]
)
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(curve.CurveError):
        curve.to_base_units(text)


def test_whole_formatting() -> None:
    assert curve.to_whole(10 * UNIT) == "10"
    assert curve.to_whole(UNIT + 1) == "1.000000000000000001"
    assert curve.to_whole(-UNIT // 2) == "-0.5"
