"""A browser wallet (EIP-1193) as the holder: unsigned trade transactions for it to send, what
they mined, and key requests it signs. The peer builds and checks; the wallet signs; its key
never reaches the peer (docs/ARCHITECTURE.md, "External wallet").
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api.context import chain, context, gating, json_body
from peer.api.errors import ApiError
from peer.api.feed import post_id
from peer.api.params import base_units, token_amount
from peer.api.tokens import creator_token
from peer.api.views import trade_json
from peer.events import WalletTx
from tokens import external

_TX = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}\Z")


def holder_of(value: Any) -> str:
    """The browser wallet's address (checksummed), or 400 ``bad_address``."""
    if not isinstance(value, str) or not is_address(value):
        raise ApiError(400, "bad_address", "'holder' must be the wallet's 0x address")
    return str(to_checksum_address(value))


async def transactions(request: web.Request, side: str) -> web.Response:
    """The transactions of a buy (approve if needed, then buy) or a sale, bounded by the
    ``max_cost`` / ``min_refund`` the user confirmed."""
    body = await json_body(request)
    amount = token_amount(body.get("amount"))
    holder = holder_of(body.get("holder"))
    name = "max_cost" if side == "buy" else "min_refund"
    if body.get(name) is None:
        raise ApiError(400, "bad_request", f"'{name}' (the confirmed bound) is required")
    bound = base_units(body[name], name)
    token, client = await creator_token(request)
    if side == "buy":
        txs = await external.buy_transactions(client, token, holder, amount, bound)
    else:
        txs = await external.sell_transactions(client, token, holder, amount, bound)
    chain_id = client.deployment.chain_id
    return web.json_response(
        {"chain_id": chain_id, "transactions": [tx.to_json(chain_id) for tx in txs]}
    )


async def buy_transactions(request: web.Request) -> web.Response:
    return await transactions(request, "buy")


async def sell_transactions(request: web.Request) -> web.Response:
    return await transactions(request, "sell")


async def mined(request: web.Request) -> web.Response:
    """Wait until a transaction is mined (up to the receipt timeout) and say what it did."""
    tx = request.match_info["tx"]
    if not _TX.match(tx):
        raise ApiError(400, "bad_request", "a transaction hash is 0x followed by 64 hex digits")
    client = chain(request).client
    result = await external.mined(client, tx, timeout=60.0)
    trade = result.trade
    if trade is not None and result.token is not None:
        event = WalletTx(trade.kind, result.tx_hash, result.token, str(trade.amount))
        context(request).bus.publish(event)
    return web.json_response(
        {
            "tx": result.tx_hash,
            "ok": result.ok,
            "block": result.block,
            "token": result.token,
            "trader": None if trade is None else trade.trader,
            "trade": None if trade is None else trade_json(trade),
        }
    )


async def challenge(request: web.Request) -> web.Response:
    """The EIP-4361 message the wallet signs to unlock a premium clip; its domain is the
    page's host (``127.0.0.1:<port>``), the origin the wallet shows."""
    body = await json_body(request)
    holder = holder_of(body.get("holder"))
    wait = body.get("wait", False)
    if not isinstance(wait, bool):
        raise ApiError(400, "bad_request", "'wait' must be true or false")
    result = await gating(request).service.challenge(
        post_id(request), holder, request.host, wait=wait
    )
    return web.json_response(result)


async def signature(request: web.Request) -> web.Response:
    """The wallet's signature of a challenge: the key is fetched, checked and kept."""
    body = await json_body(request)
    ident, sig = body.get("challenge"), body.get("signature")
    if not isinstance(ident, str) or not 1 <= len(ident) <= 64:
        raise ApiError(400, "bad_request", "'challenge' is the id the challenge gave")
    if not isinstance(sig, str) or not _SIGNATURE.match(sig):
        raise ApiError(400, "bad_request", "'signature' is 0x followed by 65 bytes in hex")
    result = await gating(request).service.redeem(post_id(request), ident, bytes.fromhex(sig[2:]))
    return web.json_response(result)
