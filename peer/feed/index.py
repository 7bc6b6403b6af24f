"""The local feed index: an asyncio API over SQLite (WAL, one writer thread, reader threads).

``FeedIndex`` stores validated records (``store``), answers the validator's questions (it
implements ``ports.FeedView``), serves the feed queries with cursor pagination, keeps the local
mute/block lists, and gives sync what it needs (``heads``, ``log_range``). Nothing here blocks
the event loop. The composition root passes ``IndexOptions(path=<data>/index/feed.sqlite)``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import sqlite_utils

from peer.feed import comment_queries, queries
from peer.feed.coalesce import Coalescer
from peer.feed.comment_queries import CommentItem, CommentPage
from peer.feed.db import Readers, Writer
from peer.feed.errors import FeedIndexError
from peer.feed.ingest import StoreItem, StoreResult, set_listed, store_batch
from peer.feed.queries import FeedItem, Page
from peer.feed.synckinds import SYNCED_KINDS, group_heads
from peer.feed.wire import Envelope, encode

DEFAULT_PAGE: Final = 20
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """Settings of the feed index."""

    path: Path
    """The SQLite file (``<data>/index/feed.sqlite``); its folder is created if missing."""
    read_workers: int = 2
    """Reader threads (each with its own connection)."""
    batch_max: int = 512
    """Most queued writes committed in one transaction."""
    for_you_window_s: int = 7 * 86400
    """How recent a followed creator's post must be to come first in "for you"."""
    page_max: int = 100
    """Largest page a query returns, whatever the caller asks."""


@dataclass(frozen=True, slots=True)
class CreatorInfo:
    """What the index knows about a creator."""

    address: str
    name: str
    head_seq: int
    head_id: bytes | None
    forked: bool
    posts: int


class FeedIndex:
    """The feed index of one data dir. ``start()`` before use, ``close()`` after."""

    def __init__(self, options: IndexOptions) -> None:
        self._options = options
        self._writer = Writer(options.path, options.batch_max)
        self._readers = Readers(options.path, options.read_workers)
        self._started = False
        self._stored: Coalescer[bytes, bool] = Coalescer(self._stored_batch, False)
        self._slots: Coalescer[tuple[str, int], tuple[bytes, ...]] = Coalescer(
            self._slots_batch, ()
        )
        self._to_store: list[tuple[StoreItem, asyncio.Future[StoreResult]]] = []
        self._kind_generation: Counter[str] = Counter()
        self._kind_heads: dict[str, tuple[int, dict[str, tuple[int, bytes]]]] = {}

    async def start(self) -> None:
        """Create the folder, open the database and apply migrations."""
        try:
            self._options.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedIndexError(f"cannot create {self._options.path.parent}: {exc}") from exc
        await self._writer.start()
        self._started = True

    async def close(self) -> None:
        """Finish queued writes and close every connection."""
        await self._writer.close()
        await self._readers.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ---- writes ---------------------------------------------------------------------------

    async def store(
        self, envelope: Envelope, record_id: bytes, *, received_at: int | None = None
    ) -> StoreResult:
        """Store a validated record (idempotent); tells whether it was new, a fork or known.

        Stores issued in the same event-loop iteration (a sync page, a burst of gossip) go to
        the writer as one job, so they share one transaction and one thread hop; each still
        fails alone (its own savepoint) and only its own caller sees the error.
        """
        wire = encode(envelope)
        at = int(time.time()) if received_at is None else received_at
        future: asyncio.Future[StoreResult] = asyncio.get_running_loop().create_future()
        if not self._to_store:
            asyncio.get_running_loop().call_soon(self._flush_stores)
        self._to_store.append(((envelope, record_id, wire, at), future))
        try:
            return await future
        finally:
            # even on failure: cheap and safe; a tombstone also removes the post's comments
            for kind in SYNCED_KINDS if envelope.kind == "tombstone" else (envelope.kind,):
                self._kind_generation[kind] += 1

    def _flush_stores(self) -> None:
        pending, self._to_store = self._to_store, []
        live = [(item, future) for item, future in pending if not future.cancelled()]
        if live:
            task = asyncio.ensure_future(self._store_pending(live))
            task.add_done_callback(_retrieve)

    async def _store_pending(
        self, pending: list[tuple[StoreItem, asyncio.Future[StoreResult]]]
    ) -> None:
        items = [item for item, _future in pending]
        try:
            outcomes = await self._writer.submit(lambda db: store_batch(db, items))
        except BaseException as exc:
            for _item, future in pending:
                if not future.done():
                    future.set_exception(exc)
            raise
        for (_item, future), outcome in zip(pending, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def store_many(
        self, items: Sequence[tuple[Envelope, bytes]]
    ) -> list[StoreResult | Exception]:
        """Store validated ``(envelope, record id)`` pairs (a sync page) in one transaction,
        each in its own savepoint; a failure is returned in its item's place."""
        results = await asyncio.gather(
            *(self.store(envelope, record_id) for envelope, record_id in items),
            return_exceptions=True,
        )
        out: list[StoreResult | Exception] = []
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            out.append(result)
        return out

    async def mute(self, address: str, on: bool = True) -> bool:
        """Hide (``on``) or show again a creator's posts; True if the list changed."""
        now = int(time.time())
        return await self._writer.submit(lambda db: set_listed(db, "muted", address, on, now))

    async def block(self, address: str, on: bool = True) -> bool:
        """Block or unblock an address: hidden everywhere, and gossip drops its records."""
        now = int(time.time())
        return await self._writer.submit(lambda db: set_listed(db, "blocked", address, on, now))

    @property
    def transactions(self) -> int:
        """Write transactions committed since ``start`` (one per writer batch)."""
        return self._writer.transactions

    # ---- FeedView (validator) -------------------------------------------------------------

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
        row = await self._one("SELECT creator FROM posts WHERE id = ?", (post_id,))
        return None if row is None else str(row[0])

    async def profile_version(self, creator: str) -> int | None:
        row = await self._one("SELECT version FROM profiles WHERE creator = ?", (creator,))
        return None if row is None else int(row[0])

    async def comment_info(self, comment_id: bytes) -> tuple[bytes, str] | None:
        row = await self._one("SELECT post, author FROM comments WHERE id = ?", (comment_id,))
        return None if row is None else (bytes(row[0]), str(row[1]))

    async def comment_policy(self, post_id: bytes) -> int:
        return await self._readers.run(lambda db: comment_queries.policy_of(db, post_id))

    async def comment_count(self, post_id: bytes) -> int:
        row = await self._one("SELECT COUNT(*) FROM comments WHERE post = ?", (post_id,))
        return 0 if row is None else int(row[0])

    async def comment_bytes(self) -> int:
        row = await self._one("SELECT bytes FROM comment_usage WHERE k = 0", ())
        return 0 if row is None else int(row[0])

    # ---- local lists ----------------------------------------------------------------------

    async def is_blocked(self, address: str) -> bool:
        """True if ``address`` is on the local block list."""
        return await self._one("SELECT 1 FROM blocked WHERE address = ?", (address,)) is not None

    async def followed(self, viewer: str) -> list[str]:
        """Creators ``viewer`` currently follows (to subscribe their creator topics)."""
        rows = await self._all(
            'SELECT creator FROM follows WHERE actor = ? AND "on" = 1 ORDER BY creator', (viewer,)
        )
        return [str(r[0]) for r in rows]

    async def listed(self, which: str) -> list[str]:
        """The addresses on the ``muted`` or ``blocked`` list."""
        if which not in ("muted", "blocked"):
            raise ValueError(f"unknown list {which!r}")
        sql = f"SELECT address FROM {which} ORDER BY since, address"  # noqa: S608
        return [str(row[0]) for row in await self._all(sql, ())]

    # ---- queries --------------------------------------------------------------------------

    def _limit(self, limit: int) -> int:
        return max(1, min(limit, self._options.page_max))

    async def for_you(
        self, viewer: str | None, now: int, cursor: str | None = None, limit: int = DEFAULT_PAGE
    ) -> Page:
        """Recent posts of creators ``viewer`` follows first, then all others; newest first."""
        window, size = self._options.for_you_window_s, self._limit(limit)
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
        row = await self._one(
            "SELECT address, name, head_seq, head_id, forked,"
            " (SELECT COUNT(*) FROM posts WHERE creator = address)"
            " FROM creators WHERE address = ?",
            (address,),
        )
        if row is None:
            return None
        return CreatorInfo(row[0], row[1], row[2], row[3], bool(row[4]), row[5])

    async def audience(self, creator: str) -> tuple[int, int, int]:
        """(followers other than the creator, likes on the creator's posts, comments on them
        that the creator has not hidden)."""
        row = await self._one(
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
        return {bytes(r[0]): str(r[1]) for r in await self._all(sql, tuple(post_ids))}

    async def forks(self, creator: str) -> list[tuple[int, bytes]]:
        """(seq, post id) of every post of ``creator`` involved in a fork."""
        rows = await self._all(
            "SELECT seq, id FROM forks WHERE creator = ? ORDER BY seq, id", (creator,)
        )
        return [(int(r[0]), bytes(r[1])) for r in rows]

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

    # ---- sync -----------------------------------------------------------------------------

    async def comment_records_since(
        self, after: int = 0, limit: int = 100
    ) -> tuple[list[bytes], int]:
        """Wire records of the stored comments, moderations and policies in arrival order after
        the cursor ``after`` (0: from the start), and the cursor to pass next. A record always
        comes after what it depends on (a reply after its parent, a moderation after its
        comment); a replaced moderation or policy is gone, its successor is at the end."""
        rows = await self._all(
            "SELECT seq, wire FROM comment_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (max(0, min(after, 2**63 - 1)), max(1, min(limit, 1000))),
        )
        return [bytes(r[1]) for r in rows], (int(rows[-1][0]) if rows else after)

    async def comment_records_for_post(self, post_id: bytes, limit: int = 1000) -> list[bytes]:
        """Wire records of one post's comments, their moderations and its policy, in arrival
        order (dependencies first)."""
        rows = await self._all(
            "SELECT wire FROM comment_log WHERE post = ? ORDER BY seq LIMIT ?",
            (post_id, max(1, min(limit, 10_000))),
        )
        return [bytes(r[0]) for r in rows]

    async def comment_counts(self, post_ids: Sequence[bytes]) -> dict[bytes, int]:
        """Stored comments per post (posts without comments are left out)."""
        wanted = list(dict.fromkeys(post_ids))[:1000]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = await self._all(
            f"SELECT post, COUNT(*) FROM comments WHERE post IN ({marks}) GROUP BY post",  # noqa: S608
            tuple(wanted),
        )
        return {bytes(r[0]): int(r[1]) for r in rows}

    async def heads(self) -> dict[str, tuple[int, bytes]]:
        """``{creator: (highest stored seq, its post id)}`` for every creator with posts."""
        rows = await self._all(
            "SELECT address, head_seq, head_id FROM creators WHERE head_seq > 0", ()
        )
        return {str(r[0]): (int(r[1]), bytes(r[2])) for r in rows}

    async def fork_heads(self) -> dict[str, int]:
        """``{creator: lowest seq holding a fork}`` for every forked creator."""
        rows = await self._all("SELECT creator, MIN(seq) FROM forks GROUP BY creator", ())
        return {str(r[0]): int(r[1]) for r in rows}

    async def log_range(self, creator: str, from_seq: int, limit: int = 100) -> list[bytes]:
        """Wire records of ``creator``'s posts with ``seq >= from_seq`` (both sides of forks)."""
        rows = await self._all(
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
        generation = self._kind_generation[kind]
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
        rows = await self._all(
            f"SELECT wire FROM {source.table} WHERE {source.author} = ? AND id > ?"  # noqa: S608
            " ORDER BY id LIMIT ?",
            (author, after, max(1, min(limit, 1000))),
        )
        return [bytes(r[0]) for r in rows]

    async def like_state(self, actor: str, post: bytes) -> tuple[bool, int] | None:
        """``(on, createdAt)`` of ``actor``'s winning like record for ``post`` (None: none)."""
        row = await self._one(
            'SELECT "on", created_at FROM like_state WHERE post = ? AND actor = ?', (post, actor)
        )
        return None if row is None else (bool(row[0]), int(row[1]))

    async def profile_heads(self) -> dict[str, int]:
        """``{creator: stored profile version}`` (the profile half of sync's heads)."""
        rows = await self._all("SELECT creator, version FROM profiles", ())
        return {str(r[0]): int(r[1]) for r in rows}

    async def withdrawn(self, post_id: bytes) -> bool:
        """True if the post's creator withdrew it (a matching tombstone is stored)."""
        row = await self._one(
            "SELECT 1 FROM tombstones t WHERE t.post = ? AND (t.creator ="
            " (SELECT creator FROM posts WHERE id = t.post) OR NOT EXISTS"
            " (SELECT 1 FROM posts WHERE id = t.post))",
            (post_id,),
        )
        return row is not None

    async def profile_wire(self, creator: str) -> bytes | None:
        """The stored (highest version) profile record of ``creator``, as wire bytes."""
        row = await self._one("SELECT wire FROM profiles WHERE creator = ?", (creator,))
        return None if row is None else bytes(row[0])

    async def has_manifest(self, manifest: str) -> bool:
        """True when a stored post names ``manifest`` (a publish that got as far as its post)."""
        row = await self._one("SELECT 1 FROM posts WHERE manifest = ? LIMIT 1", (manifest,))
        return row is not None

    async def read(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """Run the read-only query ``work`` on a reader thread (the social layer's queries)."""
        return await self._readers.run(work)

    # ---- helpers --------------------------------------------------------------------------

    async def _one(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        def read(db: sqlite_utils.Database) -> tuple[Any, ...] | None:
            row = db.execute(sql, params).fetchone()
            return None if row is None else tuple(row)

        return await self._readers.run(read)

    async def _all(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        def read(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]

        return await self._readers.run(read)


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
