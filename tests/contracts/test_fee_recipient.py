"""A creator rotates its token's fee recipient through the factory; nobody else can."""

from __future__ import annotations

import boa
import pytest
from support.contracts import FAR_DEADLINE, ONE, System

ZERO = "0x0000000000000000000000000000000000000000"


def _events(contract: object, name: str) -> list[object]:
    return [log for log in contract.get_logs() if type(log).__name__ == name]  # type: ignore[attr-defined]


def test_creator_rotates_the_fee_recipient_and_fees_follow(system: System) -> None:
    new = boa.env.generate_address("cold wallet")
    assert system.token.fee_recipient() == system.creator
    with boa.env.prank(system.creator):
        system.factory.set_fee_recipient(new)
    changed = _events(system.factory, "FeeRecipientChanged")  # logged by the token
    assert [(e.previous, e.current) for e in changed] == [(system.creator, new)]  # type: ignore[attr-defined]
    assert system.token.fee_recipient() == new
    assert system.token.creator() == system.creator  # identity and registry unchanged
    assert system.factory.token_of(system.creator) == system.token.address

    trader = boa.env.generate_address()
    system.fund(trader)
    creator_before = system.tok.balanceOf(system.creator)
    with boa.env.prank(trader):
        system.token.buy(5 * ONE, 2**256 - 1, FAR_DEADLINE)
    bought = _events(system.token, "Buy")[-1]
    with boa.env.prank(trader):
        system.token.sell(2 * ONE, 0, FAR_DEADLINE)
    sold = _events(system.token, "Sell")[-1]
    fees = bought.creator_fee + sold.creator_fee  # type: ignore[attr-defined]
    assert fees > 0
    assert system.tok.balanceOf(new) == fees
    assert system.tok.balanceOf(system.creator) == creator_before


def test_only_the_creator_can_rotate(system: System) -> None:
    mallory = boa.env.generate_address("mallory")
    with boa.env.prank(mallory), boa.reverts("factory: caller has no token"):
        system.factory.set_fee_recipient(mallory)
    # The token itself accepts the change from its factory only.
    for caller in (mallory, system.creator):
        with boa.env.prank(caller), boa.reverts("creator token: caller is not the factory"):
            system.token.set_fee_recipient(mallory)
    assert system.token.fee_recipient() == system.creator


def test_another_creator_cannot_rotate_a_foreign_token(system: System) -> None:
    bob = boa.env.generate_address("bob")
    with boa.env.prank(bob):
        bobs = system.token_deployer.at(system.factory.create_token("Bob", "BOB"))
        system.factory.set_fee_recipient(bob)  # rotates Bob's own token only
    assert bobs.fee_recipient() == bob
    assert system.token.fee_recipient() == system.creator


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("zero", "creator token: fee recipient is the zero address"),
        ("token", "creator token: fee recipient is the token"),
    ],
)
def test_a_recipient_that_would_lose_fees_is_refused(
    system: System, which: str, reason: str
) -> None:
    target = ZERO if which == "zero" else system.token.address
    with boa.env.prank(system.creator), boa.reverts(reason):
        system.factory.set_fee_recipient(target)
    assert system.token.fee_recipient() == system.creator
