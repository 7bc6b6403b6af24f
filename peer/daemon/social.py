"""The social layer as a service: notifications, live counts, trades seen on the chain.

It listens to the bus (``like.new``, ``like.removed``, ``follow.new``, ``post.new``,
``comment.new``) and watches the chain for
creator-token trades, and turns what concerns the user into grouped notifications
(:mod:`peer.social.notifications`), announced as ``notification.new``. It also sends
``post.counts`` (a post's like count, at most once a second per post) and keeps, for trending
and for creators to follow, the trades of the last 48 hours and the buyers of each token it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from peer.bus import EventBus
from peer.daemon.chain import ChainService
from peer.daemon.feed import FeedService
from peer.events import (
    CommentStored,
    FollowStored,
    LikeRemoved,
    LikeStored,
    NotificationNew,
    PostCounts,
    PostStored,
)
from peer.social.notifications import NotificationStore
from peer.social.trending import SIGNAL_WINDOW_S
from tokens.errors import ChainError

logger = logging.getLogger(__name__)

TRADE_POLL_S: Final = 3.0
TRADE_LOOKBACK_BLOCKS: Final = 5_000
"""How far back the first scan for trades looks (later scans continue from there)."""
COUNTS_EVERY_S: Final = 1.0
NEW_CLIP_MAX_AGE_S: Final = 86_400
"""Only clips made in the last day notify (a sync that catches up an old log stays quiet)."""


class SocialService:
    """Owns the notification store and the watchers; needs the feed and the chain."""

    name = "social"

    def __init__(
        self,
        folder: Path,
        feed: FeedService,
        chain: ChainService,
        bus: EventBus,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._feed, self._chain, self._bus, self._clock = feed, chain, bus, clock
        self.store = NotificationStore(folder / "notifications.sqlite")
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty_counts: set[str] = set()
        self._trades: deque[tuple[float, str]] = deque()  # (time seen, token)
        self._buyers: dict[str, set[str]] = {}
        self._registered: dict[str, str | None] = {}  # token -> creator (None: not ours)
        self._next_block: int | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self.store.open)
        sub = self._bus.subscribe(LikeStored, LikeRemoved, FollowStored, PostStored, CommentStored)
        self._tasks = [
            asyncio.create_task(self._consume(sub), name="social-events"),
            asyncio.create_task(self._counts_loop(), name="social-counts"),
            asyncio.create_task(self._trades_loop(), name="social-trades"),
        ]
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
        if isinstance(event, LikeRemoved):  # the count drops; taking a like back is no news
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

    def trades_by_token(self) -> dict[str, int]:
        """Trades seen per token in the trending window."""
        horizon = self._clock() - SIGNAL_WINDOW_S
        while self._trades and self._trades[0][0] < horizon:
            self._trades.popleft()
        counts: dict[str, int] = {}
        for _at, token in self._trades:
            counts[token] = counts.get(token, 0) + 1
        return counts

    def holders_by_token(self) -> dict[str, int]:
        """Distinct buyers seen per token."""
        return {token: len(buyers) for token, buyers in self._buyers.items()}

    async def _trades_loop(self) -> None:
        while True:
            try:
                await self.scan_trades()
            except ChainError as exc:
                logger.info("social: trade scan failed (%s); retrying", exc)
            except Exception:
                logger.exception("social: trade scan failed; retrying")
            await asyncio.sleep(TRADE_POLL_S)

    async def _creator_of(self, token: str) -> str | None:
        if token not in self._registered:
            creator = await self._chain.client.creator_of(token)
            self._registered[token] = creator
        return self._registered[token]

    async def scan_trades(self) -> None:
        """Read the trades mined since the last scan (the first looks back a few thousand
        blocks); trades of the user's token by others become notifications."""
        client = self._chain.client
        head = await client.block_number()
        first = self._next_block
        if first is None:
            first = max(client.deployment.start_block, head - TRADE_LOOKBACK_BLOCKS)
        if head < first:
            return
        notify_from = await self.store.get_meta("trades_notified_from")
        if notify_from is None:  # the first start: trades made before it are not news
            notify_from = head + 1
            await self.store.set_meta("trades_notified_from", notify_from)
        trades = await client.trades_between(first, head)
        self._next_block = head + 1
        await self.store.set_meta("trades_notified_from", max(notify_from, head + 1))
        me = self._me()
        now = self._clock()
        for token, trade in trades:
            creator = await self._creator_of(token)
            if creator is None:
                continue  # a contract that only looks like a creator token
            self._trades.append((now, token))
            if trade.kind == "buy":
                self._buyers.setdefault(token, set()).add(trade.trader)
            if trade.block < notify_from:
                continue
            if me is not None and creator.lower() == me.lower() and trade.trader != me:
                detail = {
                    "side": trade.kind,
                    "amount": str(trade.amount),
                    "tx": trade.tx_hash,
                    "creator": creator,
                }
                await self.notify("trade", token, trade.trader, detail)
