"""The persisted replication state: ``<data>/store/replication.sqlite``.

One row per post replication knows about (wanted now, or still pinned)::

    items(post_id, creator, manifest, created_at,   -- from the signed post
          wanted,                                   -- 1 while followed/liked and visible
          state,                                    -- new | sized | pinned | rejected
          size, cids, sizes,                        -- from the manifest (declared bytes)
          pinned_cids,                              -- pins this peer made for the item
          attempts, next_try, error, pinned_at)
    counters(name, value)                           -- e.g. evicted (total)

``cids`` lists the manifest, the poster and the renditions; ``sizes`` their declared bytes.
``pinned_cids`` holds only pins replication created: a CID that was already pinned (the user's
own clip, a manual pin) is never recorded, so eviction never removes a pin it did not make.
After a restart nothing is fetched again (pinned rows stay pinned) and rejected manifests are
not read again. Synchronous (sqlite3) and thread-safe: the service calls it from worker threads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from peer.replication.errors import StateError

STATES: Final = ("new", "sized", "pinned", "rejected")
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS items (
    post_id TEXT PRIMARY KEY,
    creator TEXT NOT NULL,
    manifest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    wanted INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'new',
    size INTEGER,
    cids TEXT NOT NULL DEFAULT '[]',
    sizes TEXT NOT NULL DEFAULT '[]',
    pinned_cids TEXT NOT NULL DEFAULT '[]',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL DEFAULT 0,
    error TEXT,
    pinned_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)
    WITHOUT ROWID
"""
_COLUMNS: Final = (
    "post_id, creator, manifest, created_at, wanted, state, size, cids, sizes, pinned_cids,"
    " attempts, next_try, error, pinned_at"
)


@dataclass(frozen=True, slots=True)
class WantedPost:
    """A post this peer wants replicated (followed creator or liked)."""

    post_id: str
    creator: str
    manifest: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Record:
    """One row of the state."""

    post_id: str
    creator: str
    manifest: str
    created_at: int
    wanted: bool
    state: str
    size: int | None
    cids: tuple[str, ...]
    sizes: tuple[int, ...]
    pinned_cids: tuple[str, ...]
    attempts: int
    next_try: float
    error: str | None
    pinned_at: int | None


def _record(row: tuple[Any, ...]) -> Record:
    return Record(
        post_id=row[0],
        creator=row[1],
        manifest=row[2],
        created_at=row[3],
        wanted=bool(row[4]),
        state=row[5],
        size=row[6],
        cids=tuple(json.loads(row[7])),
        sizes=tuple(json.loads(row[8])),
        pinned_cids=tuple(json.loads(row[9])),
        attempts=row[10],
        next_try=row[11],
        error=row[12],
        pinned_at=row[13],
    )


class ReplicationState:
    """The state file; ``close()`` when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the replication state {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StateError(
                    f"writing the replication state {self.path} failed: {exc}"
                ) from exc

    # ---- reads --------------------------------------------------------------------------

    def all(self) -> list[Record]:
        """Every row, newest post first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM items ORDER BY created_at DESC, post_id"  # noqa: S608
            ).fetchall()
        return [_record(tuple(r)) for r in rows]

    def get(self, post_id: str) -> Record | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM items WHERE post_id = ?",  # noqa: S608
                (post_id,),
            ).fetchone()
        return None if row is None else _record(tuple(row))

    def counter(self, name: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    # ---- writes -------------------------------------------------------------------------

    def sync_wanted(self, wanted: Iterable[WantedPost]) -> None:
        """Add new wanted posts; mark exactly ``wanted`` as wanted, every other row not."""
        posts = list(wanted)
        with self._tx() as db:
            db.execute("UPDATE items SET wanted = 0")
            db.executemany(
                "INSERT INTO items (post_id, creator, manifest, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (post_id) DO UPDATE SET wanted = 1",
                [(p.post_id, p.creator, p.manifest, p.created_at) for p in posts],
            )

    def forget_unwanted(self) -> int:
        """Drop rows neither wanted nor pinned; returns how many."""
        with self._tx() as db:
            return db.execute("DELETE FROM items WHERE wanted = 0 AND state != 'pinned'").rowcount

    def set_sized(self, post_id: str, cids: tuple[str, ...], sizes: tuple[int, ...]) -> None:
        """The manifest was read: the item's CIDs and declared sizes."""
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state = 'sized', size = ?, cids = ?, sizes = ?, attempts = 0,"
                " next_try = 0, error = NULL WHERE post_id = ?",
                (sum(sizes), json.dumps(list(cids)), json.dumps(list(sizes)), post_id),
            )

    def set_failed(self, post_id: str, error: str, next_try: float, *, permanent: bool) -> None:
        """An attempt failed: retry at ``next_try``, or never (``permanent``)."""
        with self._tx() as db:
            db.execute(
                "UPDATE items SET attempts = attempts + 1, next_try = ?, error = ?,"
                " state = CASE WHEN ? THEN 'rejected' ELSE state END WHERE post_id = ?",
                (next_try, error[:500], permanent, post_id),
            )

    def note(self, post_id: str, error: str) -> None:
        """Record why a wanted item is not replicated without counting an attempt."""
        with self._tx() as db:
            db.execute("UPDATE items SET error = ? WHERE post_id = ?", (error[:500], post_id))

    def set_pinned(self, post_id: str, pinned_cids: tuple[str, ...], at: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state = 'pinned', pinned_cids = ?, pinned_at = ?, attempts = 0,"
                " next_try = 0, error = NULL WHERE post_id = ?",
                (json.dumps(list(pinned_cids)), at, post_id),
            )

    def set_evicted(self, post_id: str) -> None:
        """The item's pins are gone: back to 'sized' if still wanted, else forgotten."""
        with self._tx() as db:
            db.execute("DELETE FROM items WHERE post_id = ? AND wanted = 0", (post_id,))
            db.execute(
                "UPDATE items SET state = 'sized', pinned_cids = '[]', pinned_at = NULL"
                " WHERE post_id = ?",
                (post_id,),
            )
            db.execute(
                "INSERT INTO counters (name, value) VALUES ('evicted', 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value + 1"
            )
