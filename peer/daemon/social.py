"""The social layer as a service: notifications, live counts, trades from the trade index.

It listens to the bus (``like.new``, ``like.removed``, ``follow.new``, ``post.new``,
``comment.new``, and ``token.trade``, which the trade index sends for each trade it stored) and
turns what concerns the user into grouped notifications (:mod:`peer.social.notifications`),
announced as ``notification.new``. It also sends ``post.counts`` (a post's like count, at most
once a second per post). Trending and creators to follow count trades of the last 48 hours and
the buyers of each token from the trade index (``peer.daemon.economy``): the chain's trade
events have one reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from peer.bus import EventBus
from peer.daemon.economy import EconomyService
from peer.daemon.feed import FeedService
from peer.events import (
    CommentStored,
    FollowStored,
    LikeRemoved,
    LikeStored,
    NotificationNew,
    PostCounts,
    PostStored,
    TokenTrade,
)
from peer.social.notifications import NotificationStore
from peer.social.trending import SIGNAL_WINDOW_S

logger = logging.getLogger(__name__)

COUNTS_EVERY_S: Final = 1.0
NEW_CLIP_MAX_AGE_S: Final = 86_400
"""Only clips made in the last day notify (a sync that catches up an old log stays quiet)."""


class SocialService:
    """Owns the notification store and the watchers; needs the feed and the trade index."""

    name = "social"

    def __init__(
        self,
        folder: Path,
        feed: FeedService,
        economy: EconomyService,
        bus: EventBus,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._feed, self._economy, self._bus, self._clock = feed, economy, bus, clock
        self.store = NotificationStore(folder / "notifications.sqlite")
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty_counts: set[str] = set()
        self._notifying = asyncio.Lock()

    async def start(self) -> None:
        await asyncio.to_thread(self.store.open)
        sub = self._bus.subscribe(
            LikeStored, LikeRemoved, FollowStored, PostStored, CommentStored, TokenTrade
        )
        self._tasks = [
            asyncio.create_task(self._consume(sub), name="social-events"),
            asyncio.create_task(self._counts_loop(), name="social-counts"),
        ]
        await self.notify_trades()  # what was indexed while the peer was stopped
        self._sub = sub

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if hasattr(self, "_sub"):
            self._sub.close()
        await asyncio.to_thread(self.store.close)

    # ---- notifications --------------------------------------------------------------------

    def _me(self) -> str | None:
        return self._feed.me if self._feed.has_wallet else None

    async def notify(
        self, type_: str, subject: str, actor: str, detail: dict[str, Any] | None = None
    ) -> None:
        nid, changed = await self.store.add(type_, subject, actor, int(self._clock()), detail)
        if changed:
            self._bus.publish(NotificationNew(nid, type_, await self.store.unread()))

    async def _consume(self, sub: Any) -> None:
        async for event in sub:
            try:
                await self._handle(event)
            except Exception:
                logger.exception("social: handling %s failed", event.kind)

    async def _handle(self, event: Any) -> None:
        me = self._me()
        if isinstance(event, TokenTrade):
            await self.notify_trades()
        elif isinstance(event, LikeRemoved):  # the count drops; taking a like back is no news
            self._dirty_counts.add(event.post_id)
        elif isinstance(event, LikeStored):
            self._dirty_counts.add(event.post_id)
            if me is None or event.actor == me:
                return
            item = await self._feed.index.queries.post(bytes.fromhex(event.post_id[2:]))
            if item is not None and item.creator == me:
                await self.notify("like", event.post_id, event.actor, {"title": item.title})
        elif isinstance(event, CommentStored):
            await self._comment(event, me)
        elif isinstance(event, FollowStored):
            if me is not None and event.on and event.creator == me and event.actor != me:
                await self.notify("follow", me, event.actor)
        elif isinstance(event, PostStored):
            if me is None or event.creator == me:
                return
            if event.creator not in await self._feed.index.queries.followed(me):
                return
            item = await self._feed.index.queries.post(bytes.fromhex(event.post_id[2:]))
            if item is None or item.created_at < self._clock() - NEW_CLIP_MAX_AGE_S:
                return
            detail = {"post_id": event.post_id, "title": item.title}
            await self.notify("post", event.creator, event.creator, detail)

    async def _comment(self, event: CommentStored, me: str | None) -> None:
        """A comment on an own post, or a reply to an own comment (one notification: the
        reply, when both hold)."""
        if me is None or event.author == me:
            return
        parent = bytes.fromhex(event.parent[2:])
        if any(parent):
            answered = await self._feed.index.queries.comment(parent)
            if answered is not None and answered.author == me:
                item = await self._feed.index.queries.post(bytes.fromhex(event.post_id[2:]))
                title = item.title if item is not None else ""
                await self.notify("reply", event.post_id, event.author, {"title": title})
                return
        item = await self._feed.index.queries.post(bytes.fromhex(event.post_id[2:]))
        if item is not None and item.creator == me:
            await self.notify("comment", event.post_id, event.author, {"title": item.title})

    async def _counts_loop(self) -> None:
        while True:
            await asyncio.sleep(COUNTS_EVERY_S)
            dirty, self._dirty_counts = self._dirty_counts, set()
            for post_id in dirty:
                item = await self._feed.index.queries.post(bytes.fromhex(post_id[2:]))
                if item is not None:
                    self._bus.publish(PostCounts(post_id, item.likes))

    # ---- trades ---------------------------------------------------------------------------
    # The trade index (peer.daemon.economy) is the one reader of the chain's trade events:
    # trending, creators to follow and trade notifications read it, never the chain.

    async def trades_by_token(self) -> dict[str, int]:
        """Trades per token in the trending window (by block time)."""
        since = int(self._clock()) - SIGNAL_WINDOW_S
        return await asyncio.to_thread(self._economy.index.trade_counts, since)

    async def holders_by_token(self) -> dict[str, int]:
        """Distinct buyers per token."""
        return await asyncio.to_thread(self._economy.index.buyer_counts)

    async def notify_trades(self) -> None:
        """Trades of the user's token by others, indexed since the last call, become
        notifications (trades indexed before the first start are not news)."""
        async with self._notifying:
            index = self._economy.index
            upto = await asyncio.to_thread(index.next_block)
            if upto is None:
                return  # nothing indexed yet
            notify_from = await self.store.get_meta("trades_notified_from")
            if notify_from is None:  # the first start: what is indexed already is not news
                await self.store.set_meta("trades_notified_from", upto)
                return
            if notify_from >= upto:
                return
            trades = await asyncio.to_thread(index.trades_from, notify_from, upto)
            me = self._me()
            for t in trades:
                creator = await asyncio.to_thread(index.known_creator, t.token)
                trade = t.trade
                if me is None or not creator or creator.lower() != me.lower():
                    continue
                if trade.trader.lower() == me.lower():
                    continue
                detail = {
                    "side": trade.kind,
                    "amount": str(trade.amount),
                    "tx": trade.tx_hash,
                    "creator": creator,
                }
                await self.notify("trade", t.token, trade.trader, detail)
            await self.store.set_meta("trades_notified_from", upto)
