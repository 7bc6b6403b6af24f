"""The creator economy a user can see: the creator's dashboard, the holder's portfolio and the
price chart's data, read from the peer's trade index (``peer.daemon.economy``).

Dashboard and portfolio reveal the user's holdings and earnings: like every route but
``/healthz`` they need the CLI credential or the browser session.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from aiohttp import web

from peer.api.context import chain, context
from peer.api.errors import ApiError
from peer.api.tokens import creator_token
from peer.api.views import token_json
from peer.daemon.economy import EconomyService
from peer.daemon.feed import FeedService
from tokens.client import ChainClient
from tokens.curve import CurveError
from tokens.economy import Position, clip_drivers, earnings, positions
from tokens.errors import TokensError
from tokens.tradeindex import IndexedTrade

TOP_HOLDERS = 20


def economy(request: web.Request) -> EconomyService:
    service = context(request).extra.get("economy")
    if not isinstance(service, EconomyService):
        raise ApiError(503, "chain_unavailable", "the trade index needs the chain")
    return service


def _feed(request: web.Request) -> FeedService:
    feed = context(request).feed
    if feed is None:
        raise ApiError(503, "feed_unavailable", "the feed is not running")
    return feed


def trade_json(t: IndexedTrade) -> dict[str, Any]:
    return {
        "block": t.trade.block,
        "timestamp": t.timestamp,
        "side": t.trade.kind,
        "trader": t.trade.trader,
        "amount": str(t.trade.amount),
        "total": str(t.trade.total),
        "price": str(t.trade.price),
        "supply": str(t.trade.supply),
        "tx": t.trade.tx_hash,
    }


async def history(request: web.Request) -> web.Response:
    """Every trade of a token with the price after it, and the curve's start price."""
    token, client = await creator_token(request)
    service = economy(request)
    await service.refresh()
    trades = await asyncio.to_thread(service.index.trades, token=token)
    params = await client.curve_params(token)
    return web.json_response(
        {"start_price": str(params.base_price), "points": [trade_json(t) for t in trades]}
    )


async def dashboard(request: web.Request) -> web.Response:
    """The user's own creator dashboard."""
    feed = _feed(request)
    client = chain(request).client
    service = economy(request)
    me = feed.me
    followers, likes, comments = await feed.index.queries.audience(me)
    body: dict[str, Any] = {
        "creator": me,
        "followers": followers,
        "likes": likes,
        "comments": comments,
        "token": None,
        "holders": [],
        "holder_count": 0,
        "earnings": {"total": "0", "per_day": [], "trades": 0, "own_trades": 0},
        "clips": [],
    }
    token = await client.token_of(me)
    if token is None:
        return web.json_response(body)
    await service.refresh()
    trades = await asyncio.to_thread(service.index.trades, token=token)
    earned = earnings(trades, me)
    balances = await client.holders(token)
    ranked = sorted(balances.items(), key=lambda kv: kv[1], reverse=True)
    body.update(
        token=token_json(await client.token_info(token)),
        holders=[{"address": a, "balance": str(b)} for a, b in ranked[:TOP_HOLDERS]],
        holder_count=len(ranked),
        earnings={
            "total": str(earned.total),
            "per_day": [{"day": d, "fees": str(f)} for d, f in earned.per_day],
            "trades": earned.trades,
            "own_trades": earned.own_trades,
        },
        clips=await _drivers(request, feed, trades),
    )
    return web.json_response(body)


async def _drivers(
    request: web.Request, feed: FeedService, trades: list[IndexedTrade]
) -> list[dict[str, Any]]:
    data_dir = context(request).data_dir
    if data_dir is None:
        return []
    unlocks = await asyncio.to_thread(_read_unlocks, data_dir.keys / "unlocks.sqlite")
    driven = clip_drivers(trades, unlocks)
    titles = await feed.index.queries.titles([bytes.fromhex(p[2:]) for p in driven])
    ranked = sorted(driven.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [
        {
            "post_id": post,
            "title": titles.get(bytes.fromhex(post[2:]), ""),
            "buys": buys,
            "paid": str(paid),
        }
        for post, (buys, paid) in ranked
    ]


def _read_unlocks(path: Path) -> list[tuple[str, str, float]]:
    """The key server's release records (holder, post, time); none when it never served."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT holder, post, at FROM unlocks").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()
    return [(str(h), str(p), float(a)) for h, p, a in rows]


async def portfolio(request: web.Request) -> web.Response:
    """Every creator token the user traded or received by a transfer: balance, a real sell
    quote, cost basis and gain of what was bought (``unpriced``: what came by transfer)."""
    feed = _feed(request)
    client = chain(request).client
    service = economy(request)
    me = feed.me
    await service.refresh()
    await service.refresh_received(me)
    mine = positions(await asyncio.to_thread(service.index.trades, trader=me))
    for token in sorted(await asyncio.to_thread(service.index.received_tokens, me)):
        mine.setdefault(token, Position(token))  # came by transfer only: no trade, no cost
    found = [await _position_json(client, me, p.token, p) for p in mine.values()]
    items = [i for i in found if i is not None]
    value = sum(int(i["value"]) for i in items if i["value"] is not None)
    cost = sum(int(i["cost_basis"]) for i in items)
    return web.json_response(
        {
            "address": me,
            "tok_balance": str(await client.tok_balance(me)),
            "positions": items,
            "total_value": str(value),
            "total_cost_basis": str(cost),
        }
    )


async def _position_json(
    client: ChainClient, me: str, token: str, p: Position
) -> dict[str, Any] | None:
    info = await client.token_info(token)
    balance = await client.balance_of(token, me)
    if balance == 0 and p.amount == 0 and p.realized == 0:
        return None
    value: int | None = None
    if balance:
        try:
            value = (await client.quote_sell(token, balance)).total
        except (CurveError, TokensError):
            value = None
    priced = min(balance, p.amount)
    basis = p.cost_basis * priced // p.amount if p.amount else 0
    priced_value = value * priced // balance if value is not None and balance else 0
    return {
        "token": token,
        "creator": info.creator,
        "name": info.name,
        "symbol": info.symbol,
        "price": str(info.spot_price),
        "balance": str(balance),
        "value": None if value is None else str(value),
        "cost_basis": str(basis),
        "gain": str(priced_value - basis),
        "realized": str(p.realized),
        "unpriced": str(max(balance - p.amount, 0)),
        "trades": len(p.trades),
    }
