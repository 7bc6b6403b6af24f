"""The feed index's queries for the API and the daemon: pages, posts, creators, comments.

Pages use cursor pagination (``queries`` and ``comment_queries`` hold the SQL); a page is never
larger than the index's ``page_max``. ``read`` runs any read-only query on a reader thread (the
social layer's own queries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import sqlite_utils

from peer.feed import comment_queries, queries
from peer.feed.comment_queries import CommentItem, CommentPage
from peer.feed.db import Readers
from peer.feed.queries import FeedItem, Page

DEFAULT_PAGE: Final = 20
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CreatorInfo:
    """What the index knows about a creator."""

    address: str
    name: str
    head_seq: int
    head_id: bytes | None
    forked: bool
    posts: int


class FeedQueries:
    """What the API and the daemon's services read from the index (part of ``FeedIndex``)."""

    def __init__(self, readers: Readers, *, page_max: int, for_you_window_s: int) -> None:
        self._readers = readers
        self._page_max = page_max
        self._for_you_window_s = for_you_window_s

    def _limit(self, limit: int) -> int:
        return max(1, min(limit, self._page_max))

    async def for_you(
        self, viewer: str | None, now: int, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> Page:
        """Recent posts of creators ``viewer`` follows first, then all others; newest first."""
        window, size = self._for_you_window_s, self._limit(limit)
        return await self._readers.run(
            lambda db: queries.for_you(db, viewer, now, window, cursor, size)
        )

    async def following(
        self, viewer: str, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> Page:
        """Posts of creators ``viewer`` follows, newest first."""
        size = self._limit(limit)
        return await self._readers.run(lambda db: queries.following(db, viewer, cursor, size))

    async def creator(
        self, creator: str, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> Page:
        """A creator's posts, highest seq first."""
        size = self._limit(limit)
        return await self._readers.run(lambda db: queries.creator_page(db, creator, cursor, size))

    async def search(
        self,
        text: str,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
        *,
        prefix: bool = False,
    ) -> Page:
        """Posts matching every word of ``text`` in title, tags or creator name.

        With ``prefix`` the last word also matches longer words (search as you type).
        """
        size = self._limit(limit)
        return await self._readers.run(lambda db: queries.search(db, text, cursor, size, prefix))

    async def post(self, post_id: bytes) -> FeedItem | None:
        """One visible post (None if unknown, withdrawn, muted or blocked)."""

        def read(db: sqlite_utils.Database) -> FeedItem | None:
            items = queries.select_page(db, "p.id = ?", "p.rowid", (post_id,), 1)
            return items[0] if items else None

        return await self._readers.run(read)

    async def creator_info(self, address: str) -> CreatorInfo | None:
        """Head, fork flag, name and post count of a creator (None if never seen)."""
        row = await self._readers.one(
            "SELECT address, name, head_seq, head_id, forked,"
            " (SELECT COUNT(*) FROM posts WHERE creator = address)"
            " FROM creators WHERE address = ?",
            (address,),
        )
        if row is None:
            return None
        return CreatorInfo(row[0], row[1], row[2], row[3], bool(row[4]), row[5])

    async def profile_wire(self, creator: str) -> bytes | None:
        """The stored (highest version) profile record of ``creator``, as wire bytes."""
        row = await self._readers.one("SELECT wire FROM profiles WHERE creator = ?", (creator,))
        return None if row is None else bytes(row[0])

    async def followed(self, viewer: str) -> list[str]:
        """Creators ``viewer`` currently follows (to subscribe their creator topics)."""
        rows = await self._readers.all(
            'SELECT creator FROM follows WHERE actor = ? AND "on" = 1 ORDER BY creator', (viewer,)
        )
        return [str(r[0]) for r in rows]

    async def audience(self, creator: str) -> tuple[int, int, int]:
        """(followers other than the creator, likes on the creator's posts, comments on them
        that the creator has not hidden)."""
        row = await self._readers.one(
            'SELECT (SELECT COUNT(*) FROM follows WHERE creator = ? AND "on" = 1 AND actor != ?),'
            " (SELECT COUNT(*) FROM likes l JOIN posts p ON p.id = l.post WHERE p.creator = ?),"
            " (SELECT COUNT(*) FROM comments c JOIN posts p ON p.id = c.post"
            "  LEFT JOIN moderations m ON m.target = c.id"
            "  WHERE p.creator = ? AND COALESCE(m.hidden, 0) = 0)",
            (creator, creator, creator, creator),
        )
        return (0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]))

    async def titles(self, post_ids: list[bytes]) -> dict[bytes, str]:
        """Titles of the given posts that are stored."""
        if not post_ids:
            return {}
        marks = ",".join("?" for _ in post_ids)
        sql = f"SELECT id, title FROM posts WHERE id IN ({marks})"  # noqa: S608 - marks only
        return {bytes(r[0]): str(r[1]) for r in await self._readers.all(sql, tuple(post_ids))}

    async def like_state(self, actor: str, post: bytes) -> tuple[bool, int] | None:
        """``(on, createdAt)`` of ``actor``'s winning like record for ``post`` (None: none)."""
        row = await self._readers.one(
            'SELECT "on", created_at FROM like_state WHERE post = ? AND actor = ?', (post, actor)
        )
        return None if row is None else (bool(row[0]), int(row[1]))

    async def follow_state(self, actor: str, creator: str) -> tuple[bool, int] | None:
        """``(on, createdAt)`` of ``actor``'s latest follow record for ``creator`` (None: none)."""
        row = await self._readers.one(
            'SELECT "on", created_at FROM follows WHERE actor = ? AND creator = ?', (actor, creator)
        )
        return None if row is None else (bool(row[0]), int(row[1]))

    async def has_manifest(self, manifest: str) -> bool:
        """True when a stored post names ``manifest`` (a publish that got as far as its post)."""
        row = await self._readers.one("SELECT 1 FROM posts WHERE manifest = ? LIMIT 1", (manifest,))
        return row is not None

    async def comments(
        self,
        post_id: bytes,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
        *,
        include_hidden: bool = False,
    ) -> CommentPage:
        """A post's comments, oldest first (hidden ones only with ``include_hidden``)."""
        size = self._limit(limit)
        return await self._readers.run(
            lambda db: comment_queries.comments_page(db, post_id, cursor, size, include_hidden)
        )

    async def comment(self, comment_id: bytes) -> CommentItem | None:
        """One stored comment (hidden or not), or None."""
        return await self._readers.run(lambda db: comment_queries.one(db, comment_id))

    async def comment_counts(self, post_ids: Sequence[bytes]) -> dict[bytes, int]:
        """Stored comments per post (posts without comments are left out)."""
        wanted = list(dict.fromkeys(post_ids))[:1000]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self._readers.all(
            f"SELECT post, COUNT(*) FROM comments WHERE post IN ({marks}) GROUP BY post",  # noqa: S608
            tuple(wanted),
        )
        return {bytes(r[0]): int(r[1]) for r in rows}

    async def read(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """Run the read-only query ``work`` on a reader thread (the social layer's queries)."""
        return await self._readers.run(work)
