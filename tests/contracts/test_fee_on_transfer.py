"""Why TOK must be a plain ERC-20: with a fee-on-transfer payment token the reserve the curve
counts is more than the contract holds, and the last seller cannot sell."""

from __future__ import annotations

from typing import Any

import boa
from support.contracts import FAR_DEADLINE, ONE, SystemFactory


def test_a_fee_on_transfer_payment_token_strands_the_last_seller(
    deployers: dict[str, Any], make_system: SystemFactory
) -> None:
    fee_token = deployers["FeeOnTransferToken"].deploy(boa.env.eoa, 10**30)
    system = make_system(payment_token=fee_token)
    token = system.token
    buyers = [boa.env.generate_address() for _ in range(2)]
    for buyer in buyers:
        fee_token.transfer(buyer, 10**27)
        with boa.env.prank(buyer):
            fee_token.approve(token.address, 2**256 - 1)
            token.buy(10 * ONE, 2**256 - 1, FAR_DEADLINE)
    assert fee_token.balanceOf(token.address) < token.reserve()  # 1 % skimmed on the way in
    with boa.env.prank(buyers[0]):
        token.sell(10 * ONE, 0, FAR_DEADLINE)  # the first seller is paid from the others' TOK
    with boa.env.prank(buyers[1]), boa.reverts():
        token.sell(10 * ONE, 0, FAR_DEADLINE)
    assert token.balanceOf(buyers[1]) == 10 * ONE
