"""The rest of the ERC-20 surface: EIP-2612 permits on both tokens."""

from __future__ import annotations

from typing import Any

import boa
import pytest
from eth_account import Account
from support.contracts import FAR_DEADLINE, ONE, System

PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def _permit(token: Any, name: str, owner: Any, spender: str, value: int, deadline: int) -> Any:
    domain = {
        "name": name,
        "version": "1",
        "chainId": boa.env.evm.patch.chain_id,
        "verifyingContract": token.address,
    }
    message = {
        "owner": owner.address, "spender": spender, "value": value,
        "nonce": token.nonces(owner.address), "deadline": deadline,
    }  # fmt: skip
    sig = bytes(owner.sign_typed_data(domain, PERMIT_TYPES, message).signature)
    return int.from_bytes(sig[64:], "big"), sig[:32], sig[32:64]


@pytest.mark.parametrize("which", ["tok", "creator"])
def test_permit_sets_allowance_once(system: System, which: str) -> None:
    token, name = (system.tok, "Toktok TOK") if which == "tok" else (system.token, "Alice Clips")
    owner, spender = Account.create(), boa.env.generate_address()
    v, r, s = _permit(token, name, owner, spender, 5 * ONE, FAR_DEADLINE)
    token.permit(owner.address, spender, 5 * ONE, FAR_DEADLINE, v, r, s)
    assert token.allowance(owner.address, spender) == 5 * ONE
    assert token.nonces(owner.address) == 1
    with boa.reverts("erc20: invalid signature"):  # the nonce moved on: no replay
        token.permit(owner.address, spender, 5 * ONE, FAR_DEADLINE, v, r, s)


def test_permit_refuses_expired_and_foreign_signatures(system: System) -> None:
    owner, spender = Account.create(), boa.env.generate_address()
    now = boa.env.evm.patch.timestamp
    v, r, s = _permit(system.token, "Alice Clips", owner, spender, ONE, now - 1)
    with boa.reverts("erc20: expired deadline"):
        system.token.permit(owner.address, spender, ONE, now - 1, v, r, s)
    mallory = Account.create()
    v, r, s = _permit(system.token, "Alice Clips", mallory, spender, ONE, FAR_DEADLINE)
    with boa.reverts("erc20: invalid signature"):
        system.token.permit(owner.address, spender, ONE, FAR_DEADLINE, v, r, s)
