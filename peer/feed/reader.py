"""A read-only view of the feed index for work that runs beside the index's writer.

Replication asks the feed which posts the local user wants kept (followed creators' and liked
posts) from worker threads. The SQL over the feed's tables stays here, in the package that owns
the layout; other packages see only :class:`WantedRow` values. The view opens its own read-only
SQLite connection (WAL lets it read beside the writer), and ``PRAGMA data_version`` tells cheaply
whether anyone committed to the index since the last look. Blocking calls, thread-safe.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from peer.feed.errors import FeedIndexError, SchemaError
from peer.feed.schema import LATEST

# The first schema version whose layout the queries below read (visible-post indexes, muted and
# blocked lists). Later versions only add tables and indexes.
READABLE_FROM: Final = 4

_WANTED: Final = (
    "SELECT p.id, p.creator, p.manifest, p.created_at FROM posts p"
    " WHERE p.hidden = 0 AND p.creator NOT IN (SELECT address FROM muted)"
    " AND p.creator NOT IN (SELECT address FROM blocked) AND p.creator != :me AND ("
    ' p.creator IN (SELECT creator FROM follows WHERE actor = :me AND "on" = 1)'
    " OR p.id IN ({liked}))"
    " ORDER BY p.created_at DESC, p.rowid DESC LIMIT :limit"
)
_LIKED: Final = 'SELECT post FROM like_state WHERE actor = :me AND "on" = 1'
"""Posts ``me`` likes now (a later ``likeV2`` may have taken a like back)."""
_LIKED_BEFORE_UNLIKE: Final = "SELECT post FROM likes WHERE actor = :me"
"""The same on an index the feed has not migrated to ``like_state`` yet."""
_MANIFESTS_OF: Final = "SELECT DISTINCT manifest FROM posts WHERE creator = ?"
_WITHDRAWN: Final = "SELECT 1 FROM tombstones WHERE post = ?"


@dataclass(frozen=True, slots=True)
class WantedRow:
    """A post the local user wants replicated (``post_id`` as 0x-hex)."""

    post_id: str
    creator: str
    manifest: str
    created_at: int


class IndexReader:
    """Read-only queries on ``<data>/index/feed.sqlite``; ``close()`` when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise FeedIndexError(f"cannot read the feed index {path}: {exc}") from exc
        if not READABLE_FROM <= version <= LATEST:
            self._db.close()
            if version > LATEST:
                raise SchemaError(
                    f"the feed index {path} has schema version {version}, newer than this"
                    f" Toktok knows ({LATEST})"
                )
            raise FeedIndexError(
                f"the feed index {path} has schema version {version}; reading it needs"
                f" {READABLE_FROM} or later (start the feed first)"
            )
        # Whether likes can be taken back is fixed for this connection: the feed migrates the
        # index before anyone opens a reader on it.
        has_state = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'like_state'"
        ).fetchone()
        self._wanted = _WANTED.format(liked=_LIKED if has_state else _LIKED_BEFORE_UNLIKE)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise FeedIndexError(f"reading the feed index {self.path} failed: {exc}") from exc

    def data_version(self) -> int:
        """Changes whenever another connection committed to the index."""
        rows = self._rows("PRAGMA data_version", ())
        return int(rows[0][0])

    def wanted_by(self, me: str, limit: int) -> list[WantedRow]:
        """The newest ``limit`` visible posts ``me`` follows or likes (not ``me``'s own)."""
        rows = self._rows(self._wanted, {"me": me, "limit": max(0, limit)})
        return [WantedRow("0x" + bytes(r[0]).hex(), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def manifests_of(self, creator: str) -> list[str]:
        """Manifest CIDs of every post ``creator`` published."""
        return [str(r[0]) for r in self._rows(_MANIFESTS_OF, (creator,))]

    def withdrawn(self, post_id: str) -> bool:
        """True if the post's creator withdrew it (a tombstone is stored, post known or not)."""
        return bool(self._rows(_WITHDRAWN, (bytes.fromhex(post_id.removeprefix("0x")),)))
