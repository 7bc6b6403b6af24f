"""The JSON shapes the API answers with (docs/API.md; schemas in :mod:`peer.api.schemas`).

Domain objects come in, plain JSON-ready dicts go out. Big numbers (token amounts, balances)
are decimal strings; ids are 0x-hex. Handlers and nothing below ``peer/api`` use these.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from peer.daemon.publish import Job
from peer.feed.comment_queries import CommentItem, CommentPage
from peer.feed.queries import FeedItem, Page
from peer.feed.records import ZERO_ID
from peer.feed.text import escape_controls
from tokens.client import TokenInfo, Trade
from tokens.curve import Quote


def item_json(item: FeedItem, unavailable: Container[str] = frozenset()) -> dict[str, Any]:
    """A feed item (a post with its creator's name and likes); ``available`` is false while
    its manifest is in ``unavailable``."""
    return {
        "id": "0x" + item.id.hex(),
        "creator": item.creator,
        "creator_name": escape_controls(item.creator_name),
        "creator_forked": item.creator_forked,
        "seq": item.seq,
        "token": item.token,
        "manifest": item.manifest,
        "title": escape_controls(item.title),
        "tags": [escape_controls(tag) for tag in item.tags],
        "duration_ms": item.duration_ms,
        "created_at": item.created_at,
        "premium": item.premium,
        "min_balance": str(item.min_balance),
        "key_servers": list(item.key_servers),
        "likes": item.likes,
        "available": item.manifest not in unavailable,
    }


def page_json(page: Page, unavailable: Container[str] = frozenset()) -> dict[str, Any]:
    """A page of feed items and the cursor of the next one."""
    items = [item_json(i, unavailable) for i in page.items]
    return {"items": items, "next": page.next_cursor}


def comment_json(item: CommentItem) -> dict[str, Any]:
    """A comment with its author's name; ``parent`` is null for a comment on the post."""
    return {
        "id": "0x" + item.id.hex(),
        "post": "0x" + item.post.hex(),
        "parent": None if item.parent == ZERO_ID else "0x" + item.parent.hex(),
        "author": item.author,
        "author_name": escape_controls(item.author_name),
        "text": escape_controls(item.text),
        "created_at": item.created_at,
        "hidden": item.hidden,
    }


def comment_page_json(page: CommentPage) -> dict[str, Any]:
    """A page of comments, the next cursor and the post's holders-only minimum."""
    return {
        "items": [comment_json(i) for i in page.items],
        "next": page.next_cursor,
        "min_balance": str(page.min_balance),
    }


def token_json(info: TokenInfo) -> dict[str, Any]:
    """A creator token's facts."""
    return {
        "address": info.address,
        "creator": info.creator,
        "name": info.name,
        "symbol": info.symbol,
        "total_supply": str(info.total_supply),
        "reserve": str(info.reserve),
        "spot_price": str(info.spot_price),
    }


def quote_json(quote: Quote, side: str) -> dict[str, Any]:
    """The price of a buy (``cost``) or a sell (``refund``)."""
    return {
        "amount": str(quote.amount),
        "cost" if side == "buy" else "refund": str(quote.total),
        "creator_fee": str(quote.creator_fee),
        "protocol_fee": str(quote.protocol_fee),
        "price_after": str(quote.price_after),
    }


def trade_json(trade: Trade) -> dict[str, Any]:
    """A mined buy (``cost``) or sell (``refund``)."""
    return {
        "tx": trade.tx_hash,
        "amount": str(trade.amount),
        "cost" if trade.kind == "buy" else "refund": str(trade.total),
        "price": str(trade.price),
        "block": trade.block,
    }


def job_json(job: Job) -> dict[str, Any]:
    """A publish job's state, for polling."""
    return {
        "id": job.id,
        "state": job.state,
        "stage": job.stage,
        "fraction": round(job.fraction, 3),
        "post_id": job.post_id,
        "manifest": job.manifest,
        "error": job.error,
    }
