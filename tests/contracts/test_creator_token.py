"""CreatorToken: every entry point and revert, quotes equal the pure curve, fees and events."""

from __future__ import annotations

import boa
import pytest
from support.contracts import FAR_DEADLINE, ONE, System

from tokens import curve
from tokens.artifacts import load_artifact


def _events(contract: object, name: str) -> list[object]:
    return [log for log in contract.get_logs() if type(log).__name__ == name]  # type: ignore[attr-defined]


def test_supply_changes_only_through_the_curve(system: System) -> None:
    names = {entry.get("name") for entry in load_artifact("CreatorToken").abi}
    assert {"buy", "sell", "transfer", "transferFrom", "approve", "permit"} <= names
    assert not names & {"mint", "burn", "burn_from", "set_minter", "transfer_ownership"}


def test_spot_price_starts_at_base_price_and_rises_linearly(system: System) -> None:
    assert system.token.spot_price() == system.params.base_price
    buyer = boa.env.generate_address()
    system.fund(buyer)
    with boa.env.prank(buyer):
        system.token.buy(10 * ONE, 2**256 - 1, FAR_DEADLINE)
    assert system.token.spot_price() == system.params.base_price + 10 * system.params.slope


def test_buy_mints_pulls_cost_and_pays_fees(system: System) -> None:
    buyer = boa.env.generate_address()
    system.fund(buyer, 100 * ONE)
    expected = curve.quote_buy(system.params, 0, 3 * ONE)
    assert system.token.quote_buy(3 * ONE) == expected.total
    with boa.env.prank(buyer):
        paid = system.token.buy(3 * ONE, expected.total, FAR_DEADLINE)
    (event,) = _events(system.token, "Buy")
    assert paid == expected.total
    assert system.token.balanceOf(buyer) == 3 * ONE
    assert system.token.totalSupply() == 3 * ONE
    assert system.token.reserve() == expected.curve_amount
    assert system.tok.balanceOf(system.token.address) == expected.curve_amount
    assert system.tok.balanceOf(system.creator) == expected.creator_fee
    assert system.tok.balanceOf(system.treasury) == expected.protocol_fee
    assert system.tok.balanceOf(buyer) == 100 * ONE - expected.total
    assert (event.buyer, event.amount, event.cost) == (buyer, 3 * ONE, expected.total)  # type: ignore[attr-defined]
    assert (event.curve_cost, event.creator_fee, event.protocol_fee) == (  # type: ignore[attr-defined]
        expected.curve_amount,
        expected.creator_fee,
        expected.protocol_fee,
    )
    assert (event.supply, event.price) == (3 * ONE, expected.price_after)  # type: ignore[attr-defined]


def test_sell_burns_and_pays_refund_minus_fees(system: System) -> None:
    seller = boa.env.generate_address()
    system.fund(seller, 100 * ONE)
    with boa.env.prank(seller):
        system.token.buy(5 * ONE, 2**256 - 1, FAR_DEADLINE)
    before = system.tok.balanceOf(seller)
    creator_before = system.tok.balanceOf(system.creator)
    reserve_before = system.token.reserve()
    expected = curve.quote_sell(system.params, 5 * ONE, 2 * ONE)
    assert system.token.quote_sell(2 * ONE) == expected.total
    with boa.env.prank(seller):
        got = system.token.sell(2 * ONE, expected.total, FAR_DEADLINE)
    (event,) = _events(system.token, "Sell")
    assert got == expected.total
    assert system.tok.balanceOf(seller) - before == expected.total
    assert system.tok.balanceOf(system.creator) - creator_before == expected.creator_fee
    assert system.token.reserve() == reserve_before - expected.curve_amount
    assert system.token.balanceOf(seller) == 3 * ONE
    assert (event.seller, event.amount, event.refund) == (seller, 2 * ONE, expected.total)  # type: ignore[attr-defined]
    assert (event.supply, event.price) == (3 * ONE, expected.price_after)  # type: ignore[attr-defined]


def test_buy_above_max_cost_reverts(system: System) -> None:
    buyer = boa.env.generate_address()
    system.fund(buyer)
    quote = system.token.quote_buy(ONE)
    with boa.env.prank(buyer), boa.reverts("creator token: cost above max_cost"):
        system.token.buy(ONE, quote - 1, FAR_DEADLINE)


def test_sell_below_min_refund_reverts(system: System) -> None:
    seller = boa.env.generate_address()
    system.fund(seller)
    with boa.env.prank(seller):
        system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
        quote = system.token.quote_sell(ONE)
        with boa.reverts("creator token: refund below min_refund"):
            system.token.sell(ONE, quote + 1, FAR_DEADLINE)


def test_expired_deadline_reverts_both_ways(system: System) -> None:
    trader = boa.env.generate_address()
    system.fund(trader)
    now = boa.env.evm.patch.timestamp
    with boa.env.prank(trader):
        system.token.buy(ONE, 2**256 - 1, now)  # deadline == now is still valid
        with boa.reverts("creator token: deadline passed"):
            system.token.buy(ONE, 2**256 - 1, now - 1)
        with boa.reverts("creator token: deadline passed"):
            system.token.sell(ONE, 0, now - 1)


def test_zero_amounts_revert(system: System) -> None:
    trader = boa.env.generate_address()
    system.fund(trader)
    with boa.env.prank(trader):
        with boa.reverts("creator token: zero amount"):
            system.token.buy(0, 2**256 - 1, FAR_DEADLINE)
        system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
        with boa.reverts("creator token: zero amount"):
            system.token.sell(0, 0, FAR_DEADLINE)
    with boa.reverts("creator token: zero amount"):
        system.token.quote_buy(0)


def test_selling_more_than_supply_or_balance_reverts(system: System) -> None:
    alice, bob = boa.env.generate_address(), boa.env.generate_address()
    system.fund(alice)
    system.fund(bob)
    with boa.reverts("creator token: amount exceeds supply"):
        system.token.quote_sell(1)
    with boa.env.prank(alice):
        system.token.buy(2 * ONE, 2**256 - 1, FAR_DEADLINE)
    with boa.env.prank(bob):
        system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
        with boa.reverts("erc20: burn amount exceeds balance"):
            system.token.sell(2 * ONE, 0, FAR_DEADLINE)
        with boa.reverts("creator token: amount exceeds supply"):
            system.token.sell(4 * ONE, 0, FAR_DEADLINE)


def test_buy_without_allowance_or_funds_reverts(system: System) -> None:
    poor = boa.env.generate_address()
    with boa.env.prank(poor), boa.reverts():
        system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
    assert system.token.totalSupply() == 0
    system.tok.mint(poor, 10 * ONE)
    with boa.env.prank(poor), boa.reverts("erc20: insufficient allowance"):
        system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)


def test_supply_cap_reverts(system: System) -> None:
    whale = boa.env.generate_address()
    system.fund(whale, 2**200)
    with boa.env.prank(whale), boa.reverts("creator token: supply cap reached"):
        system.token.buy(curve.MAX_SUPPLY + 1, 2**256 - 1, FAR_DEADLINE)
    with boa.reverts("creator token: supply cap reached"):
        system.token.quote_buy(2**256 - 1)


def test_whole_supply_at_the_cap_is_bought_and_sold_back(system: System) -> None:
    whale = boa.env.generate_address()
    system.fund(whale, 2**200)
    with boa.env.prank(whale):
        system.token.buy(curve.MAX_SUPPLY, 2**256 - 1, FAR_DEADLINE)
        system.token.sell(curve.MAX_SUPPLY, 0, FAR_DEADLINE)
    assert system.token.totalSupply() == 0
    assert system.token.reserve() == 0


def test_holders_transfer_creator_tokens(system: System) -> None:
    alice, bob = boa.env.generate_address(), boa.env.generate_address()
    system.fund(alice)
    with boa.env.prank(alice):
        system.token.buy(2 * ONE, 2**256 - 1, FAR_DEADLINE)
        system.token.transfer(bob, ONE)
        system.token.approve(bob, ONE)
    with boa.env.prank(bob):
        system.token.transferFrom(alice, bob, ONE)
    assert system.token.balanceOf(bob) == 2 * ONE
    assert system.token.balanceOf(alice) == 0


@pytest.mark.parametrize("amount", [1, 7, ONE // 3, ONE, 12345 * ONE + 17])
def test_quotes_round_in_the_curves_favour(system: System, amount: int) -> None:
    buyer = boa.env.generate_address()
    system.fund(buyer, 2**200)
    with boa.env.prank(buyer):
        paid = system.token.buy(amount, 2**256 - 1, FAR_DEADLINE)
        got = system.token.sell(amount, 0, FAR_DEADLINE)
    buy = curve.quote_buy(system.params, 0, amount)
    sell = curve.quote_sell(system.params, amount, amount)
    assert (paid, got) == (buy.total, sell.total)
    assert got <= paid
    # The rounding dust stays in the reserve: curve cost (up) - curve refund (down).
    assert system.token.totalSupply() == 0
    assert system.token.reserve() == buy.curve_amount - sell.curve_amount >= 0


def test_fee_free_tokens_pay_no_fees(make_system: object) -> None:
    sys_ = make_system(creator_fee_bps=0, protocol_fee_bps=0)  # type: ignore[operator]
    buyer = boa.env.generate_address()
    sys_.fund(buyer)
    with boa.env.prank(buyer):
        sys_.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
    assert sys_.tok.balanceOf(sys_.creator) == 0
    assert sys_.tok.balanceOf(sys_.treasury) == 0
    assert sys_.token.reserve() == sys_.tok.balanceOf(sys_.token.address)


def test_worst_case_parameters_do_not_overflow_at_the_cap(make_system: object) -> None:
    sys_ = make_system(base_price=10**24, slope=10**22)  # type: ignore[operator]
    whale = boa.env.generate_address()
    sys_.fund(whale, 2**250)
    expected = curve.quote_buy(sys_.params, 0, curve.MAX_SUPPLY)
    assert sys_.token.quote_buy(curve.MAX_SUPPLY) == expected.total
    with boa.env.prank(whale):
        sys_.token.buy(curve.MAX_SUPPLY, 2**256 - 1, FAR_DEADLINE)
        assert sys_.token.spot_price() == 10**24 + 10**22 * 10**9
        sys_.token.sell(curve.MAX_SUPPLY, 0, FAR_DEADLINE)
    assert sys_.token.totalSupply() == 0
