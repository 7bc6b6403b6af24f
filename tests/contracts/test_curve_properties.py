"""Stateful property tests: buys, sells and transfers by many accounts, fees off and on.

Invariants after every step:
* the reserve covers refunding the whole supply (reserve >= F(totalSupply), exactly);
* the reserve equals the TOK the token holds (nothing leaks in or out);
* totalSupply equals the sum of balances, and every balance matches the model;
* creator and treasury received exactly the fees the spec gives for each trade.
A solo rule runs one account's own buys and sells back to where it started: it never
gets back more TOK than it paid (rounding is in the curve's favour).
"""

from __future__ import annotations

import os
from typing import Any

import boa
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from support.contracts import FAR_DEADLINE, ONE, System, SystemFactory

from tokens import curve

N_ACCOUNTS = 5
amounts = st.one_of(st.integers(1, 1000), st.integers(1, 50 * ONE), st.integers(1, 20_000 * ONE))
fractions = st.fractions(0, 1)
accounts = st.integers(0, N_ACCOUNTS - 1)


class CurveMachine(RuleBasedStateMachine):
    def __init__(self, system: System) -> None:
        super().__init__()
        self.s = system
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        self.accounts = [boa.env.generate_address(f"acct{i}") for i in range(N_ACCOUNTS)]
        for account in self.accounts:
            system.fund(account, 10**40)
        self.balances = dict.fromkeys(self.accounts, 0)
        self.supply = 0
        self.creator_fees = 0
        self.protocol_fees = 0
        self.creator_tok0 = system.tok.balanceOf(system.creator)
        self.treasury_tok0 = system.tok.balanceOf(system.treasury)

    def teardown(self) -> None:
        self.anchor.__exit__(None, None, None)

    def _buy(self, account: str, amount: int) -> int:
        expected = curve.quote_buy(self.s.params, self.supply, amount)
        assert self.s.token.quote_buy(amount) == expected.total
        with boa.env.prank(account):
            paid: int = self.s.token.buy(amount, expected.total, FAR_DEADLINE)
        assert paid == expected.total
        self.supply += amount
        self.balances[account] += amount
        self.creator_fees += expected.creator_fee
        self.protocol_fees += expected.protocol_fee
        return paid

    def _sell(self, account: str, amount: int) -> int:
        expected = curve.quote_sell(self.s.params, self.supply, amount)
        assert self.s.token.quote_sell(amount) == expected.total
        with boa.env.prank(account):
            got: int = self.s.token.sell(amount, expected.total, FAR_DEADLINE)
        assert got == expected.total
        self.supply -= amount
        self.balances[account] -= amount
        self.creator_fees += expected.creator_fee
        self.protocol_fees += expected.protocol_fee
        return got

    @rule(who=accounts, amount=amounts)
    def buy(self, who: int, amount: int) -> None:
        self._buy(self.accounts[who], amount)

    @rule(who=accounts, fraction=fractions)
    def sell(self, who: int, fraction: Any) -> None:
        account = self.accounts[who]
        amount = int(self.balances[account] * fraction)
        if amount > 0:
            self._sell(account, amount)

    @rule(src=accounts, dst=accounts, fraction=fractions)
    def transfer(self, src: int, dst: int, fraction: Any) -> None:
        a, b = self.accounts[src], self.accounts[dst]
        amount = int(self.balances[a] * fraction)
        with boa.env.prank(a):
            self.s.token.transfer(b, amount)
        self.balances[a] -= amount
        self.balances[b] += amount

    @rule(who=accounts, ops=st.lists(st.tuples(st.booleans(), amounts), min_size=1, max_size=4))
    def solo_round_trip(self, who: int, ops: list[tuple[bool, int]]) -> None:
        account = self.accounts[who]
        paid = received = held = 0
        for is_buy, amount in ops:
            if is_buy:
                paid += self._buy(account, amount)
                held += amount
            elif held > 0:
                part = min(amount, held)
                received += self._sell(account, part)
                held -= part
        if held:
            received += self._sell(account, held)
        assert received <= paid

    @invariant()
    def reserve_covers_the_whole_supply(self) -> None:
        reserve = self.s.token.reserve()
        num, den = curve.integral(self.s.params, self.supply)
        assert reserve * den >= num
        if self.supply:
            assert reserve >= self.s.token.quote_sell(self.supply)
            assert reserve >= curve.sell_curve_refund(self.s.params, self.supply, self.supply)
        assert reserve == self.s.tok.balanceOf(self.s.token.address)

    @invariant()
    def supply_equals_sum_of_balances(self) -> None:
        assert self.s.token.totalSupply() == self.supply == sum(self.balances.values())
        for account, balance in self.balances.items():
            assert self.s.token.balanceOf(account) == balance

    @invariant()
    def fees_are_exactly_as_specified(self) -> None:
        creator_got = self.s.tok.balanceOf(self.s.creator) - self.creator_tok0
        treasury_got = self.s.tok.balanceOf(self.s.treasury) - self.treasury_tok0
        assert (creator_got, treasury_got) == (self.creator_fees, self.protocol_fees)
        if self.s.params.creator_fee_bps == self.s.params.protocol_fee_bps == 0:
            assert creator_got == treasury_got == 0


# Deeper runs: TOKTOK_CURVE_EXAMPLES=500 pytest tests/contracts/test_curve_properties.py
EXAMPLES = int(os.environ.get("TOKTOK_CURVE_EXAMPLES", "30"))


@pytest.mark.parametrize(("creator_fee", "protocol_fee"), [(0, 0), (333, 667)])
def test_curve_invariants_hold_for_any_trade_sequence(
    make_system: SystemFactory, creator_fee: int, protocol_fee: int
) -> None:
    system = make_system(creator_fee_bps=creator_fee, protocol_fee_bps=protocol_fee)
    run_state_machine_as_test(
        lambda: CurveMachine(system),  # type: ignore[arg-type]  # factories are supported
        settings=settings(max_examples=EXAMPLES, stateful_step_count=10, deadline=None),
    )
