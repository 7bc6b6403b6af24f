"""Is a payment token a plain ERC-20? A probe transfer, compared balance by balance.

Every creator token's reserve is the sum of the TOK it received, counted by the curve. A
payment token that takes a fee on transfer (or rebases, or burns on transfer) makes the
contract hold less than it counted: the last sellers cannot sell. TOK must therefore be a
plain ERC-20: a transfer of `n` takes exactly `n` from the sender, gives exactly `n` to the
recipient and leaves the total supply alone. ``contracts/TOK.vy`` is one; this check is for a
network that would name another token (``toktok network create`` can run it before writing a
profile).

The probe costs one transaction of the sender (which must hold at least `amount`); the
amount goes to `recipient` (by default the sender itself, so nothing leaves the account).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from tokens.artifacts import load_artifact
from tokens.errors import DeploymentError, NotPlainTokenError
from tokens.rpc import TxSender, Web3, call


@dataclass(frozen=True)
class ProbeResult:
    """Balances and supply around the probe transfer (base units)."""

    amount: int
    sender_delta: int  # change of the sender's balance
    recipient_delta: int  # change of the recipient's balance (== sender_delta for a self-transfer)
    supply_delta: int


async def check_plain_erc20(
    w3: Web3, sender: TxSender, token: str, amount: int = 1, recipient: str | None = None
) -> ProbeResult:
    """Transfer `amount` of `token` from `sender` to `recipient` and check nothing was skimmed.

    Raises :class:`NotPlainTokenError` when the sender lost other than `amount`, the recipient
    got other than `amount`, or the total supply moved.
    """
    if amount <= 0:
        raise DeploymentError("the probe amount must be positive")
    address = to_checksum_address(token)
    me = to_checksum_address(sender.address)
    to = to_checksum_address(recipient) if recipient else me
    contract = w3.eth.contract(address=address, abi=load_artifact("TOK").abi)
    f = contract.functions

    async def state() -> tuple[int, int, int]:
        block = await call("read block number", w3.eth.block_number)
        return (
            int(await call("read balance", f.balanceOf(me).call(block_identifier=block))),
            int(await call("read balance", f.balanceOf(to).call(block_identifier=block))),
            int(await call("read supply", f.totalSupply().call(block_identifier=block))),
        )

    mine, theirs, supply = await state()
    if mine < amount:
        raise DeploymentError(
            f"the probe needs {amount} base units of {address}; {me} holds {mine}"
        )
    data = contract.encode_abi("transfer", args=[to, amount])
    await sender.transact(address, data, "probe transfer of the payment token")
    mine2, theirs2, supply2 = await state()
    result = ProbeResult(amount, mine2 - mine, theirs2 - theirs, supply2 - supply)
    expected_sender = 0 if to == me else -amount
    expected_recipient = 0 if to == me else amount
    if (
        result.sender_delta != expected_sender
        or result.recipient_delta != expected_recipient
        or result.supply_delta != 0
    ):
        raise NotPlainTokenError(
            f"{address} is not a plain ERC-20: a transfer of {amount} changed the sender's "
            f"balance by {result.sender_delta} (expected {expected_sender}), the recipient's "
            f"by {result.recipient_delta} (expected {expected_recipient}) and the supply by "
            f"{result.supply_delta}; a fee-on-transfer or rebasing token cannot back the "
            "creator tokens' reserves (the last sellers could not sell)"
        )
    return result
