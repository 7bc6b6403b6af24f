"""Adapter from the feed index to the gating ports (``PostSource``, ``ProfileKeyServers``)
and the listing a batch unlock needs (a creator's premium posts)."""

from __future__ import annotations

from peer.feed.errors import FeedError
from peer.feed.queries import FeedItem
from peer.feed.records import Profile
from peer.feed.wire import decode

from .ports import FeedReader, GatedPost


def gated(item: FeedItem) -> GatedPost:
    return GatedPost(
        post_id=item.id,
        creator=item.creator,
        token=item.token,
        manifest=item.manifest,
        premium=item.premium,
        min_balance=item.min_balance,
        key_servers=tuple(item.key_servers),
    )


class FeedPosts:
    """Posts and profile key servers from the local feed index."""

    def __init__(self, index: FeedReader) -> None:
        self._index = index

    async def gated_post(self, post_id: bytes) -> GatedPost | None:
        item = await self._index.post(post_id)
        return None if item is None else gated(item)

    async def profile_key_servers(self, creator: str) -> tuple[str, ...]:
        wire = await self._index.profile_wire(creator)
        if wire is None:
            return ()
        try:
            record = decode(wire).record
        except FeedError:
            return ()
        return tuple(record.key_servers) if isinstance(record, Profile) else ()

    async def premium_posts(self, creator: str, max_posts: int = 1000) -> list[GatedPost]:
        """The creator's premium posts, newest first (for a batch unlock)."""
        out: list[GatedPost] = []
        cursor: str | None = None
        while len(out) < max_posts:
            page = await self._index.creator(creator, cursor, 100)
            out += [gated(i) for i in page.items if i.premium]
            cursor = page.next_cursor
            if cursor is None:
                break
        return out[:max_posts]
