"""The validator's view of the feed index (``ports.FeedView``).

Point lookups the feed rules make for every arriving record. The two asked most under gossip
load (is this id stored, which posts sit at this seq) are coalesced: concurrent callers share one
batched query and one reader-thread hop.
"""

from __future__ import annotations

import sqlite_utils

from peer.feed import comment_queries
from peer.feed.coalesce import Coalescer
from peer.feed.db import Readers


class ValidatorView:
    """What the validator reads from the index (part of ``FeedIndex``)."""

    def __init__(self, readers: Readers) -> None:
        self._readers = readers
        self._stored: Coalescer[bytes, bool] = Coalescer(self._stored_batch, False)
        self._slots: Coalescer[tuple[str, int], tuple[bytes, ...]] = Coalescer(
            self._slots_batch, ()
        )

    async def has_record(self, record_id: bytes) -> bool:
        return await self._stored.get(record_id)

    async def post_ids_at(self, creator: str, seq: int) -> tuple[bytes, ...]:
        return await self._slots.get((creator, min(seq, 2**63 - 1)))

    async def _stored_batch(self, ids: list[bytes]) -> dict[bytes, bool]:
        def read(db: sqlite_utils.Database) -> dict[bytes, bool]:
            marks = ",".join("?" * len(ids))
            sql = f"SELECT id FROM records WHERE id IN ({marks})"  # noqa: S608
            return {bytes(row[0]): True for row in db.execute(sql, ids)}

        return await self._readers.run(read)

    async def _slots_batch(
        self, slots: list[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[bytes, ...]]:
        def read(db: sqlite_utils.Database) -> dict[tuple[str, int], tuple[bytes, ...]]:
            # one statement for the whole batch, each slot looked up in posts_by_creator_seq
            marks = ",".join(["(?, ?)"] * len(slots))
            sql = (
                f"WITH k(creator, seq) AS (VALUES {marks})"  # noqa: S608 - only placeholders
                " SELECT p.creator, p.seq, p.id FROM k CROSS JOIN posts p"
                " ON p.creator = k.creator AND p.seq = k.seq ORDER BY p.rowid"
            )
            params = [value for slot in slots for value in slot]
            found: dict[tuple[str, int], list[bytes]] = {}
            for creator, seq, post_id in db.execute(sql, params):
                found.setdefault((creator, seq), []).append(bytes(post_id))
            return {slot: tuple(ids) for slot, ids in found.items()}

        return await self._readers.run(read)

    async def post_creator(self, post_id: bytes) -> str | None:
        row = await self._readers.one("SELECT creator FROM posts WHERE id = ?", (post_id,))
        return None if row is None else str(row[0])

    async def profile_version(self, creator: str) -> int | None:
        row = await self._readers.one("SELECT version FROM profiles WHERE creator = ?", (creator,))
        return None if row is None else int(row[0])

    async def withdrawn(self, post_id: bytes) -> bool:
        """True if the post's creator withdrew it (a matching tombstone is stored)."""
        row = await self._readers.one(
            "SELECT 1 FROM tombstones t WHERE t.post = ? AND (t.creator ="
            " (SELECT creator FROM posts WHERE id = t.post) OR NOT EXISTS"
            " (SELECT 1 FROM posts WHERE id = t.post))",
            (post_id,),
        )
        return row is not None

    async def comment_info(self, comment_id: bytes) -> tuple[bytes, str] | None:
        row = await self._readers.one(
            "SELECT post, author FROM comments WHERE id = ?", (comment_id,)
        )
        return None if row is None else (bytes(row[0]), str(row[1]))

    async def comment_policy(self, post_id: bytes) -> int:
        return await self._readers.run(lambda db: comment_queries.policy_of(db, post_id))

    async def comment_count(self, post_id: bytes) -> int:
        row = await self._readers.one("SELECT COUNT(*) FROM comments WHERE post = ?", (post_id,))
        return 0 if row is None else int(row[0])

    async def comment_bytes(self) -> int:
        row = await self._readers.one("SELECT bytes FROM comment_usage WHERE k = 0", ())
        return 0 if row is None else int(row[0])
