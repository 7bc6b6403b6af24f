"""Creator-token handlers: info, quotes, history, holders, buy/sell, own token, wallet."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api.context import chain, context, json_body
from peer.api.errors import ApiError
from peer.api.views import quote_json, token_json, trade_json
from peer.events import WalletTx
from tokens.client import large_trade_warning, slippage_bound
from tokens.curve import to_base_units, to_whole
from tokens.errors import TokensError


def token_address(request: web.Request) -> str:
    raw = request.match_info["token"]
    if not is_address(raw):
        raise ApiError(400, "bad_address", "not a token address")
    return str(to_checksum_address(raw))


def amount_of(value: Any, name: str = "amount") -> int:
    """Whole tokens as a decimal string (or integer) -> base units, > 0."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ApiError(400, "bad_amount", f"'{name}' must be a decimal string of whole tokens")
    try:
        amount = to_base_units(value)
    except (TokensError, ValueError) as exc:
        raise ApiError(400, "bad_amount", f"'{name}': {exc}") from exc
    if amount <= 0:
        raise ApiError(400, "bad_amount", f"'{name}' must be more than zero")
    return amount


def _optional_units(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isdigit():
        raise ApiError(400, "bad_amount", f"'{name}' must be a decimal string of base units")
    return int(value)


async def info(request: web.Request) -> web.Response:
    token = token_address(request)
    return web.json_response(token_json(await chain(request).client.token_info(token)))


async def quote(request: web.Request) -> web.Response:
    service = chain(request)
    token, client = token_address(request), service.client
    side = request.query.get("side", "buy")
    amount = amount_of(request.query.get("amount", ""))
    if side == "buy":
        result = await client.quote_buy(token, amount)
    elif side == "sell":
        result = await client.quote_sell(token, amount)
    else:
        raise ApiError(400, "bad_side", "side must be 'buy' or 'sell'")
    return web.json_response(quote_json(result, side))


async def history(request: web.Request) -> web.Response:
    points = await chain(request).client.price_history(token_address(request))
    return web.json_response(
        {
            "points": [
                {
                    "block": p.block,
                    "timestamp": p.timestamp,
                    "price": str(p.price),
                    "supply": str(p.supply),
                }
                for p in points
            ]
        }
    )


async def holders(request: web.Request) -> web.Response:
    balances = await chain(request).client.holders(token_address(request))
    ranked = sorted(balances.items(), key=lambda kv: kv[1], reverse=True)
    return web.json_response({"holders": [{"address": a, "balance": str(b)} for a, b in ranked]})


def _require_confirmation(body: dict[str, Any], summary: str) -> None:
    if body.get("confirm") is not True:
        raise ApiError(409, "confirmation_required", summary)


async def _trade(request: web.Request, side: str) -> web.Response:
    """A confirmed buy or sell: quote, refuse without ``confirm``, trade, announce."""
    service = chain(request)
    token, client = token_address(request), service.client
    body = await json_body(request)
    amount = amount_of(body.get("amount"))
    if side == "buy":
        bound = _optional_units(body, "max_cost")
        quoted = await client.quote_buy(token, amount)
        summary = f"buying {to_whole(amount)} tokens costs {to_whole(quoted.total)} TOK"
    else:
        bound = _optional_units(body, "min_refund")
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
    context(request).bus.publish(WalletTx("create_token", "", token, "0"))
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
