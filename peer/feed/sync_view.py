"""The sync view of the feed index (``peer.sync.ports.SyncIndex``): heads and ranges to serve,
and the few writes and lookups a sync round makes (taken from the other parts of the index).

Group heads of the synced kinds are cached until a record of that kind is stored (every
peer's round asks for them); ``FeedWrites`` counts the generations this cache checks.
"""

from __future__ import annotations

from collections import Counter

from peer.feed.db import Readers
from peer.feed.feed_queries import CreatorInfo, FeedQueries
from peer.feed.ingest import StoreResult
from peer.feed.synckinds import SYNCED_KINDS, group_heads
from peer.feed.wire import Envelope
from peer.feed.writes import FeedWrites


class SyncView:
    """What sync reads and writes (part of ``FeedIndex``)."""

    def __init__(
        self,
        readers: Readers,
        writes: FeedWrites,
        queries: FeedQueries,
        generations: Counter[str],
    ) -> None:
        self._readers = readers
        self._writes = writes
        self._queries = queries
        self._generations = generations
        self._kind_heads: dict[str, tuple[int, dict[str, tuple[int, bytes]]]] = {}

    async def heads(self) -> dict[str, tuple[int, bytes]]:
        """``{creator: (highest stored seq, its post id)}`` for every creator with posts."""
        rows = await self._readers.all(
            "SELECT address, head_seq, head_id FROM creators WHERE head_seq > 0", ()
        )
        return {str(r[0]): (int(r[1]), bytes(r[2])) for r in rows}

    async def fork_heads(self) -> dict[str, int]:
        """``{creator: lowest seq holding a fork}`` for every forked creator."""
        rows = await self._readers.all("SELECT creator, MIN(seq) FROM forks GROUP BY creator", ())
        return {str(r[0]): int(r[1]) for r in rows}

    async def forks(self, creator: str) -> list[tuple[int, bytes]]:
        """(seq, post id) of every post of ``creator`` involved in a fork."""
        rows = await self._readers.all(
            "SELECT seq, id FROM forks WHERE creator = ? ORDER BY seq, id", (creator,)
        )
        return [(int(r[0]), bytes(r[1])) for r in rows]

    async def profile_heads(self) -> dict[str, int]:
        """``{creator: stored profile version}`` (the profile half of sync's heads)."""
        rows = await self._readers.all("SELECT creator, version FROM profiles", ())
        return {str(r[0]): int(r[1]) for r in rows}

    async def log_range(self, creator: str, from_seq: int, limit: int = 100) -> list[bytes]:
        """Wire records of ``creator``'s posts with ``seq >= from_seq`` (both sides of forks)."""
        rows = await self._readers.all(
            "SELECT wire FROM posts WHERE creator = ? AND seq >= ? ORDER BY seq, rowid LIMIT ?",
            (creator, min(from_seq, 2**63 - 1), max(1, min(limit, 1000))),
        )
        return [bytes(r[0]) for r in rows]

    async def kind_heads(self, kind: str) -> dict[str, tuple[int, bytes]]:
        """``{author: (count, digest)}`` of every group of a synced ``kind`` (empty for a kind
        sync does not carry); ``digest`` = ``synckinds.group_digest`` of the group's ids.
        Cached until a record of that kind is stored (every peer's round asks for it)."""
        source = SYNCED_KINDS.get(kind)
        if source is None:
            return {}
        generation = self._generations[kind]
        cached = self._kind_heads.get(kind)
        if cached is not None and cached[0] == generation:
            return cached[1]
        sql = f"SELECT {source.author}, id FROM {source.table} ORDER BY {source.author}, id"  # noqa: S608
        heads = await self._readers.run(lambda db: group_heads(db.execute(sql)))
        self._kind_heads[kind] = (generation, heads)
        return heads

    async def kind_range(self, kind: str, author: str, after: bytes, limit: int) -> list[bytes]:
        """Wire records of group (``kind``, ``author``) with id > ``after``, ascending id."""
        source = SYNCED_KINDS.get(kind)
        if source is None:
            return []
        rows = await self._readers.all(
            f"SELECT wire FROM {source.table} WHERE {source.author} = ? AND id > ?"  # noqa: S608
            " ORDER BY id LIMIT ?",
            (author, after, max(1, min(limit, 1000))),
        )
        return [bytes(r[0]) for r in rows]

    async def comment_records_since(
        self, after: int = 0, limit: int = 100
    ) -> tuple[list[bytes], int]:
        """Wire records of the stored comments, moderations and policies in arrival order after
        the cursor ``after`` (0: from the start), and the cursor to pass next. A record always
        comes after what it depends on (a reply after its parent, a moderation after its
        comment); a replaced moderation or policy is gone, its successor is at the end."""
        rows = await self._readers.all(
            "SELECT seq, wire FROM comment_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (max(0, min(after, 2**63 - 1)), max(1, min(limit, 1000))),
        )
        return [bytes(r[1]) for r in rows], (int(rows[-1][0]) if rows else after)

    async def comment_records_for_post(self, post_id: bytes, limit: int = 1000) -> list[bytes]:
        """Wire records of one post's comments, their moderations and its policy, in arrival
        order (dependencies first)."""
        rows = await self._readers.all(
            "SELECT wire FROM comment_log WHERE post = ? ORDER BY seq LIMIT ?",
            (post_id, max(1, min(limit, 10_000))),
        )
        return [bytes(r[0]) for r in rows]

    # ---- from the other parts of the index ------------------------------------------------

    async def store(self, envelope: Envelope, record_id: bytes) -> StoreResult:
        """``FeedWrites.store``: a record a sync page brought."""
        return await self._writes.store(envelope, record_id)

    async def is_blocked(self, address: str) -> bool:
        """``FeedWrites.is_blocked``."""
        return await self._writes.is_blocked(address)

    async def creator_info(self, address: str) -> CreatorInfo | None:
        """``FeedQueries.creator_info``."""
        return await self._queries.creator_info(address)

    async def profile_wire(self, creator: str) -> bytes | None:
        """``FeedQueries.profile_wire``."""
        return await self._queries.profile_wire(creator)
