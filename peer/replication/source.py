"""Which posts this peer wants replicated, read from the feed index (read-only).

Wanted: visible posts (not withdrawn by a tombstone, creator neither muted nor blocked) of
creators the user follows, and posts the user liked; never the user's own posts. The newest
``limit`` of them (bounded work however prolific a followed creator is).

The feed index has no query for "posts liked by the user", so this adapter opens its own
read-only connection to ``<data>/index/feed.sqlite`` (WAL allows it beside the index's writer)
and relies on the documented layout of ``peer/feed/schema.py`` (version 4 or later).
``PRAGMA data_version`` tells cheaply whether anyone wrote to the index since the last look.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final

from peer.replication.errors import StateError
from peer.replication.state import WantedPost

MIN_SCHEMA: Final = 4
_WANTED: Final = (
    "SELECT p.id, p.creator, p.manifest, p.created_at FROM posts p"
    " WHERE p.hidden = 0 AND p.creator NOT IN (SELECT address FROM muted)"
    " AND p.creator NOT IN (SELECT address FROM blocked) AND p.creator != :me AND ("
    ' p.creator IN (SELECT creator FROM follows WHERE actor = :me AND "on" = 1)'
    " OR p.id IN (SELECT post FROM likes WHERE actor = :me))"
    " ORDER BY p.created_at DESC, p.rowid DESC LIMIT :limit"
)


class FeedWants:
    """Read-only view of the feed index for replication; ``close()`` when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise StateError(f"cannot read the feed index {path}: {exc}") from exc
        if version < MIN_SCHEMA:
            self._db.close()
            raise StateError(
                f"the feed index {path} has schema version {version}; replication needs"
                f" {MIN_SCHEMA} or later (start the feed first)"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def data_version(self) -> int:
        """Changes whenever another connection committed to the index."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def wanted(self, me: str, limit: int) -> list[WantedPost]:
        """The newest ``limit`` posts ``me`` wants replicated, newest first."""
        with self._lock:
            rows = self._db.execute(_WANTED, {"me": me, "limit": max(0, limit)}).fetchall()
        return [WantedPost("0x" + bytes(r[0]).hex(), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    def own_manifests(self, me: str) -> list[str]:
        """Manifest CIDs of every post ``me`` published (their content is never evicted)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT manifest FROM posts WHERE creator = ?", (me,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    def withdrawn(self, post_id: str) -> bool:
        """True if the post's creator withdrew it."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM tombstones WHERE post = ?", (bytes.fromhex(post_id[2:]),)
            ).fetchone()
        return row is not None
