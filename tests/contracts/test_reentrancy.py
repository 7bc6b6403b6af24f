"""A malicious payment token re-enters the creator token during its transfer.

The token records what its re-entrant call returned. Outside a buy/sell the same call
succeeds (control), so a failure inside one is the non-reentrancy lock (Vyper's lock
reverts with empty data).
"""

from __future__ import annotations

from typing import Any

import boa
import pytest
from support.contracts import FAR_DEADLINE, ONE, System, SystemFactory

BUY, SELL, QUOTE = 1, 2, 3
SWALLOW = 10


@pytest.fixture
def attacked(deployers: dict[str, Any], make_system: SystemFactory) -> tuple[System, Any, str]:
    evil = deployers["MaliciousToken"].deploy()
    system = make_system(payment_token=evil)
    trader = boa.env.generate_address("trader")
    evil.mint(trader, 10**30)
    evil.mint(evil.address, 10**30)  # pays for the attacker's own re-entrant buys
    with boa.env.prank(trader):
        evil.approve(system.token.address, 2**256 - 1)
        system.token.buy(3 * ONE, 2**256 - 1, FAR_DEADLINE)
    # The attacker holds creator tokens too, so a re-entrant sell could pay out.
    evil.arm(system.token.address, BUY + SWALLOW)
    evil.transfer(trader, 0)
    assert evil.reentry_succeeded(), "control: re-entry outside a trade must work"
    assert system.token.balanceOf(evil.address) == ONE
    return system, evil, trader


@pytest.mark.parametrize("inner", [BUY, SELL, QUOTE])
def test_reentry_outside_a_trade_succeeds(attacked: tuple[System, Any, str], inner: int) -> None:
    system, evil, trader = attacked
    evil.arm(system.token.address, inner + SWALLOW)
    evil.transfer(trader, 0)
    assert evil.reentry_succeeded()


@pytest.mark.parametrize("outer", ["buy", "sell"])
@pytest.mark.parametrize("inner", [BUY, SELL, QUOTE])
def test_reentry_during_a_trade_hits_the_lock(
    attacked: tuple[System, Any, str], outer: str, inner: int
) -> None:
    system, evil, trader = attacked
    supply_before = system.token.totalSupply()
    attacker_before = system.token.balanceOf(evil.address)
    evil.arm(system.token.address, inner + SWALLOW)
    with boa.env.prank(trader):
        if outer == "buy":
            system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
        else:
            system.token.sell(ONE, 0, FAR_DEADLINE)
    assert evil.attempts() == 2  # the control call in the fixture + this one
    assert not evil.reentry_succeeded()
    assert evil.revert_data() == b""  # the lock's bare revert
    expected_supply = supply_before + (ONE if outer == "buy" else -ONE)
    assert system.token.totalSupply() == expected_supply
    assert system.token.balanceOf(evil.address) == attacker_before


@pytest.mark.parametrize("outer", ["buy", "sell"])
def test_propagated_reentry_reverts_the_whole_trade(
    attacked: tuple[System, Any, str], outer: str
) -> None:
    system, evil, trader = attacked
    supply_before = system.token.totalSupply()
    reserve_before = system.token.reserve()
    evil.arm(system.token.address, BUY)
    with boa.env.prank(trader), boa.reverts("malicious: re-entry failed"):
        if outer == "buy":
            system.token.buy(ONE, 2**256 - 1, FAR_DEADLINE)
        else:
            system.token.sell(ONE, 0, FAR_DEADLINE)
    assert (system.token.totalSupply(), system.token.reserve()) == (supply_before, reserve_before)
