"""Trades a browser wallet signs (EIP-1193 ``eth_sendTransaction``): the peer builds the
unsigned transactions with the same bounds as its own trades (``max_cost``/``min_refund`` and a
deadline) and reads back what was mined; the wallet signs and sends, and its key never reaches
the peer.

A buy is at most two transactions, sent in order: TOK ``approve`` of ``max_cost`` to the token
(only when the allowance is short) and the token's ``buy``; the second is estimated by the
wallet only once the first is mined. A buy's ``max_cost`` counts against the session's spend
limit before anything is built (:meth:`ChainClient.check_spend`), and the TOK it really cost
is added when the mined buy is read back (:func:`mined`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tokens.client import ChainClient, Trade, checksum
from tokens.errors import ChainError


@dataclass(frozen=True, slots=True)
class UnsignedTx:
    """One transaction for the wallet to sign: ``from``, ``to`` and ``data``, no value."""

    sender: str
    to: str
    data: str
    what: str  # shown to the user: "approve TOK", "buy ANA"

    def to_json(self, chain_id: int) -> dict[str, str]:
        return {
            "from": self.sender, "to": self.to, "data": self.data, "value": "0x0",
            "chainId": hex(chain_id), "what": self.what,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mined:
    """A mined transaction: whether it succeeded, and the creator-token trade it made."""

    tx_hash: str
    ok: bool
    block: int
    token: str | None
    trade: Trade | None


async def buy_transactions(
    client: ChainClient, token: str, holder: str, amount: int, max_cost: int,
    deadline: int | None = None,
) -> list[UnsignedTx]:  # fmt: skip
    """Approve (if needed) and buy ``amount`` base units for at most ``max_cost``."""
    client.check_spend(max_cost)
    c = client.token(token)
    holder = checksum(holder)
    symbol = str(await c.functions.symbol().call())
    txs: list[UnsignedTx] = []
    if await client.tok_allowance(holder, str(c.address)) < max_cost:
        tok = client.tok_contract
        approve = tok.encode_abi("approve", args=[c.address, max_cost])
        txs.append(UnsignedTx(holder, str(tok.address), approve, "approve TOK"))
    data = c.encode_abi("buy", args=[amount, max_cost, await client.deadline(deadline)])
    txs.append(UnsignedTx(holder, str(c.address), data, f"buy {symbol}"))
    return txs


async def sell_transactions(
    client: ChainClient, token: str, holder: str, amount: int, min_refund: int,
    deadline: int | None = None,
) -> list[UnsignedTx]:  # fmt: skip
    """Sell ``amount`` base units for at least ``min_refund``."""
    c = client.token(token)
    symbol = str(await c.functions.symbol().call())
    data = c.encode_abi("sell", args=[amount, min_refund, await client.deadline(deadline)])
    return [UnsignedTx(checksum(holder), str(c.address), data, f"sell {symbol}")]


async def mined(client: ChainClient, tx_hash: str, timeout: float) -> Mined:  # noqa: ASYNC109
    """Wait for ``tx_hash`` and read its trade; a buy counts against the spend limit."""
    receipt = await client.receipt(tx_hash, timeout)
    trades = await client.trades_in_receipt(receipt)
    if len(trades) > 1:
        raise ChainError(f"{tx_hash} made {len(trades)} creator-token trades; expected one")
    token, trade = trades[0] if trades else (None, None)
    if trade is not None and trade.kind == "buy":
        client.count_spent(tx_hash, trade.total)
    return Mined(tx_hash, receipt["status"] == 1, int(receipt["blockNumber"]), token, trade)
