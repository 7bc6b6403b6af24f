"""Creator-token handlers: info, quotes, history, holders, buy/sell, own token, wallet."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api.context import chain, context, json_body
from peer.api.errors import ApiError
from peer.api.params import optional_base_units, token_amount
from peer.api.views import quote_json, token_json, trade_json
from peer.events import WalletTx
from tokens.client import ChainClient, large_trade_warning, slippage_bound
from tokens.curve import to_whole


def token_address(request: web.Request) -> str:
    raw = request.match_info["token"]
    if not is_address(raw):
        raise ApiError(400, "bad_address", "not a token address")
    token = str(to_checksum_address(raw))
    if int(token, 16) == 0:
        raise ApiError(400, "bad_address", "the zero address is not a token")
    return token


async def creator_token(request: web.Request) -> tuple[str, ChainClient]:
    """The path's token, checked to be a creator token of the factory (404 if it is not)."""
    token, client = token_address(request), chain(request).client
    if await client.creator_of(token) is None:
        raise ApiError(404, "unknown_token", f"{token} is not a creator token of this chain")
    return token, client


def amount_of(value: Any, name: str = "amount") -> int:
    """Whole tokens as an ASCII decimal string (or integer) -> base units, 1 to the cap."""
    return token_amount(value, name)


async def info(request: web.Request) -> web.Response:
    token, client = await creator_token(request)
    return web.json_response(token_json(await client.token_info(token)))


async def quote(request: web.Request) -> web.Response:
    side = request.query.get("side", "buy")
    if side not in ("buy", "sell"):
        raise ApiError(400, "bad_side", "side must be 'buy' or 'sell'")
    amount = amount_of(request.query.get("amount", ""))
    token, client = await creator_token(request)
    if side == "buy":
        result = await client.quote_buy(token, amount)
    else:
        result = await client.quote_sell(token, amount)
    return web.json_response(quote_json(result, side))


async def holders(request: web.Request) -> web.Response:
    token, client = await creator_token(request)
    balances = await client.holders(token)
    ranked = sorted(balances.items(), key=lambda kv: kv[1], reverse=True)
    return web.json_response({"holders": [{"address": a, "balance": str(b)} for a, b in ranked]})


def _require_confirmation(body: dict[str, Any], summary: str) -> None:
    if body.get("confirm") is not True:
        raise ApiError(409, "confirmation_required", summary)


async def _trade(request: web.Request, side: str) -> web.Response:
    """A confirmed buy or sell: quote, refuse without ``confirm``, trade, announce."""
    service = chain(request)
    body = await json_body(request)
    amount = amount_of(body.get("amount"))
    bound = optional_base_units(body, "max_cost" if side == "buy" else "min_refund")
    token, client = await creator_token(request)
    if side == "buy":
        quoted = await client.quote_buy(token, amount)
        summary = f"buying {to_whole(amount)} tokens costs {to_whole(quoted.total)} TOK"
    else:
        quoted = await client.quote_sell(token, amount)
        summary = f"selling {to_whole(amount)} tokens refunds {to_whole(quoted.total)} TOK"
    warning = large_trade_warning(
        quoted.total,
        bound if bound is not None else slippage_bound(quoted.total, client.slippage_bps, side),
        service.large_trade_tok,
    )
    if warning:
        summary = f"{summary}; {warning}"
    _require_confirmation(body, f"{summary}; confirm")
    if side == "buy":
        trade = await client.buy(token, amount, max_cost=bound)
    else:
        trade = await client.sell(token, amount, min_refund=bound)
    context(request).bus.publish(WalletTx(side, trade.tx_hash, token, str(amount)))
    return web.json_response(trade_json(trade))


async def buy(request: web.Request) -> web.Response:
    return await _trade(request, "buy")


async def sell(request: web.Request) -> web.Response:
    return await _trade(request, "sell")


async def create_token(request: web.Request) -> web.Response:
    body = await json_body(request)
    name, symbol = body.get("name"), body.get("symbol")
    if not isinstance(name, str) or not 1 <= len(name) <= 25:
        raise ApiError(400, "bad_request", "'name' must be 1 to 25 characters")
    if not isinstance(symbol, str) or not 1 <= len(symbol) <= 5:
        raise ApiError(400, "bad_request", "'symbol' must be 1 to 5 characters")
    client = chain(request).client
    token = await client.create_token(name, symbol)
    ctx = context(request)
    ctx.bus.publish(WalletTx("create_token", "", token, "0"))
    if ctx.feed is not None and await ctx.feed.current_profile() is not None:
        # a profile names the creator's token: sign the next version, which carries it
        await ctx.feed.update_profile()
    return web.json_response(token_json(await client.token_info(token)))


async def wallet(request: web.Request) -> web.Response:
    ctx = context(request)
    if ctx.wallet is None:
        raise ApiError(503, "wallet_unavailable", "the wallet service is not running")
    status = ctx.wallet.status()
    address = status["address"]
    balance = None
    if address and ctx.chain is not None:
        balance = str(await ctx.chain.client.tok_balance(address))
    return web.json_response({**status, "tok_balance": balance})
