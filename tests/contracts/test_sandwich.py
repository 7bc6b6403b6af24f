"""Sandwich: attacker buys before and sells after a victim's bounded buy."""

from __future__ import annotations

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.contracts import FAR_DEADLINE, ONE, System

from tokens import curve
from tokens.client import DEFAULT_SLIPPAGE_BPS, slippage_bound


def _sandwich(system: System, front_run: int, victim_amount: int, tolerance_bps: int) -> None:
    attacker, victim = boa.env.generate_address(), boa.env.generate_address()
    system.fund(attacker)
    system.fund(victim)
    token = system.token
    quoted = token.quote_buy(victim_amount)
    bound = quoted * (10_000 + tolerance_bps) // 10_000  # the victim's max_cost
    victim_before = system.tok.balanceOf(victim)
    with boa.env.anchor():
        with boa.env.prank(attacker):
            token.buy(front_run, 2**256 - 1, FAR_DEADLINE)
        moved = token.quote_buy(victim_amount)
        with boa.env.prank(victim):
            if moved > bound:
                with boa.reverts("creator token: cost above max_cost"):
                    token.buy(victim_amount, bound, FAR_DEADLINE)
                assert token.balanceOf(victim) == 0
            else:
                paid = token.buy(victim_amount, bound, FAR_DEADLINE)
                assert paid <= bound
                assert victim_before - system.tok.balanceOf(victim) == paid
                assert token.balanceOf(victim) == victim_amount
        with boa.env.prank(attacker):
            token.sell(front_run, 0, FAR_DEADLINE)


def test_tight_bound_makes_the_victim_revert(system: System) -> None:
    _sandwich(system, front_run=50 * ONE, victim_amount=ONE, tolerance_bps=50)


def test_loose_bound_caps_what_the_victim_pays(system: System) -> None:
    _sandwich(system, front_run=ONE // 10, victim_amount=ONE, tolerance_bps=5_000)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    front_run=st.integers(1, 10_000 * ONE),
    victim_amount=st.integers(1, 1_000 * ONE),
    tolerance_bps=st.integers(0, 10_000),
)
def test_victim_never_pays_above_its_bound(
    system: System, front_run: int, victim_amount: int, tolerance_bps: int
) -> None:
    _sandwich(system, front_run, victim_amount, tolerance_bps)


@pytest.mark.parametrize("fees", [(0, 0), (500, 200)])
def test_sandwich_cannot_profit_without_victim_slippage_room(
    make_system: object, fees: tuple[int, int]
) -> None:
    system = make_system(creator_fee_bps=fees[0], protocol_fee_bps=fees[1])  # type: ignore[operator]
    attacker, victim = boa.env.generate_address(), boa.env.generate_address()
    system.fund(attacker, 10**30)
    system.fund(victim)
    start = system.tok.balanceOf(attacker)
    bound = system.token.quote_buy(ONE)  # zero tolerance
    with boa.env.prank(attacker):
        system.token.buy(10 * ONE, 2**256 - 1, FAR_DEADLINE)
    with boa.env.prank(victim), boa.reverts("creator token: cost above max_cost"):
        system.token.buy(ONE, bound, FAR_DEADLINE)
    with boa.env.prank(attacker):
        system.token.sell(10 * ONE, 0, FAR_DEADLINE)
    assert system.tok.balanceOf(attacker) <= start


@pytest.mark.parametrize("bps", [100, DEFAULT_SLIPPAGE_BPS])
def test_the_worst_sandwich_takes_about_the_whole_bound(system: System, bps: int) -> None:
    # The largest front run that keeps the victim's buy within its bound, found on the pure
    # curve, then played on the contracts: the victim loses nearly the whole bound, so the
    # default bound is what a sandwich can take (0.5 % now, 1 % before).
    attacker, victim = boa.env.generate_address(), boa.env.generate_address()
    system.fund(attacker)
    system.fund(victim)
    amount = 100 * ONE
    quoted = system.token.quote_buy(amount)
    bound = slippage_bound(quoted, bps, "buy")
    lo, hi = 0, 10**6 * ONE
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if curve.quote_buy(system.params, mid, amount).total <= bound:
            lo = mid
        else:
            hi = mid
    with boa.env.prank(attacker):
        system.token.buy(lo, 2**256 - 1, FAR_DEADLINE)
    with boa.env.prank(victim):
        paid = system.token.buy(amount, bound, FAR_DEADLINE)
    with boa.env.prank(attacker):
        system.token.sell(lo, 0, FAR_DEADLINE)
    loss_bps = (paid - quoted) * 10_000 / quoted
    assert 0.9 * bps <= loss_bps <= bps
