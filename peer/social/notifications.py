"""Notifications: what happened to the user's posts, profile and token, grouped, with read state.

Grouping keeps floods short: a new event joins the newest **unread** notification of the same
``type`` and ``subject`` (the post liked, the user followed, the token traded, the creator who
posted) if that one is less than :data:`GROUP_WINDOW_S` old; otherwise it starts a new one. A
notification keeps its count, its first and last time and the last :data:`SHOWN_ACTORS` actors;
follows, likes, comments and replies count distinct actors (500 likes from fresh addresses are one
entry saying "and 497 others"), trades and new clips count events. Reading a notification closes
its group: the next event of that kind starts a new one. At most :data:`MAX_ROWS` notifications
are kept (the oldest go first).

The store is ``<data>/social/notifications.sqlite`` (WAL), written from one worker thread at a
time; it holds only what this peer saw and is never sent anywhere.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from peer.events import NOTIFICATION_TYPES
from peer.social.errors import NotificationStoreError

GROUP_WINDOW_S: Final = 24 * 3600
SHOWN_ACTORS: Final = 3
MAX_ROWS: Final = 500
MAX_ACTORS_PER_GROUP: Final = 1000
"""Distinct actors remembered per group; beyond it the count goes on growing by events."""
DISTINCT_ACTORS: Final = frozenset({"follow", "like", "comment", "reply"})

T = TypeVar("T")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    count INTEGER NOT NULL,
    actors TEXT NOT NULL,
    detail TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS notifications_open ON notifications(type, subject, read);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_actors (
    notification INTEGER NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (notification, actor)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Notification:
    """One (possibly grouped) notification."""

    id: int
    type: str
    subject: str
    count: int
    actors: tuple[str, ...]
    detail: dict[str, Any]
    first_at: int
    last_at: int
    read: bool


class NotificationStore:
    """The notification table of one data dir; ``open()`` before use, ``close()`` after."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise NotificationStoreError(f"cannot open {self._path}: {exc}") from exc
        self._db = db

    def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with self._lock:
                db.close()

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            raise NotificationStoreError("the notification store is not open")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                result = work(self._db)
                self._db.execute("COMMIT")
                return result
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in a worker thread inside one transaction."""
        return await asyncio.to_thread(self._run, work)

    # ---- the rules, on a connection -------------------------------------------------------

    @staticmethod
    def add_sync(
        db: sqlite3.Connection,
        type_: str,
        subject: str,
        actor: str,
        at: int,
        detail: dict[str, Any] | None = None,
    ) -> tuple[int, bool]:
        """Record one event; returns (notification id, whether it changed anything)."""
        if type_ not in NOTIFICATION_TYPES:
            raise ValueError(f"unknown notification type {type_!r}")
        row = db.execute(
            "SELECT id, count, actors FROM notifications WHERE type = ? AND subject = ?"
            " AND read = 0 AND first_at > ? ORDER BY id DESC LIMIT 1",
            (type_, subject, at - GROUP_WINDOW_S),
        ).fetchone()
        distinct = type_ in DISTINCT_ACTORS
        if row is None:
            cursor = db.execute(
                "INSERT INTO notifications(type, subject, count, actors, detail, first_at,"
                " last_at) VALUES (?, ?, 1, ?, ?, ?, ?)",
                (type_, subject, json.dumps([actor]), json.dumps(detail or {}), at, at),
            )
            nid = int(cursor.lastrowid or 0)
            if distinct:
                db.execute("INSERT INTO group_actors VALUES (?, ?)", (nid, actor))
            _trim(db)
            return nid, True
        nid, count, actors_text = int(row[0]), int(row[1]), str(row[2])
        if distinct:
            known = db.execute(
                "SELECT 1 FROM group_actors WHERE notification = ? AND actor = ?", (nid, actor)
            ).fetchone()
            if known is not None:
                return nid, False
            remembered = db.execute(
                "SELECT COUNT(*) FROM group_actors WHERE notification = ?", (nid,)
            ).fetchone()[0]
            if remembered < MAX_ACTORS_PER_GROUP:
                db.execute("INSERT INTO group_actors VALUES (?, ?)", (nid, actor))
        actors = [actor, *(a for a in json.loads(actors_text) if a != actor)][:SHOWN_ACTORS]
        db.execute(
            "UPDATE notifications SET count = ?, actors = ?, last_at = MAX(last_at, ?),"
            " detail = CASE WHEN ? = '{}' THEN detail ELSE ? END WHERE id = ?",
            (
                count + 1,
                json.dumps(actors),
                at,
                json.dumps(detail or {}),
                json.dumps(detail or {}),
                nid,
            ),
        )
        return nid, True

    @staticmethod
    def unread_sync(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT COUNT(*) FROM notifications WHERE read = 0").fetchone()[0])

    @staticmethod
    def page_sync(
        db: sqlite3.Connection, limit: int, before: int | None = None
    ) -> list[Notification]:
        rows = db.execute(
            "SELECT id, type, subject, count, actors, detail, first_at, last_at, read"
            " FROM notifications WHERE id < ? ORDER BY last_at DESC, id DESC LIMIT ?",
            (before if before is not None else 2**62, limit),
        ).fetchall()
        return [
            Notification(
                int(r[0]),
                str(r[1]),
                str(r[2]),
                int(r[3]),
                tuple(json.loads(r[4])),
                dict(json.loads(r[5])),
                int(r[6]),
                int(r[7]),
                bool(r[8]),
            )
            for r in rows
        ]

    @staticmethod
    def mark_read_sync(db: sqlite3.Connection, ids: list[int] | None) -> int:
        """Mark ``ids`` (all when None) read; returns how many changed."""
        if ids is None:
            return db.execute("UPDATE notifications SET read = 1 WHERE read = 0").rowcount
        marks = ",".join("?" * len(ids))
        sql = f"UPDATE notifications SET read = 1 WHERE read = 0 AND id IN ({marks})"  # noqa: S608
        return db.execute(sql, ids).rowcount

    @staticmethod
    def get_meta_sync(db: sqlite3.Connection, key: str) -> int | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def set_meta_sync(db: sqlite3.Connection, key: str, value: int) -> None:
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # ---- async API ------------------------------------------------------------------------

    async def get_meta(self, key: str) -> int | None:
        return await self.run(lambda db: self.get_meta_sync(db, key))

    async def set_meta(self, key: str, value: int) -> None:
        await self.run(lambda db: self.set_meta_sync(db, key, value))

    async def add(
        self, type_: str, subject: str, actor: str, at: int, detail: dict[str, Any] | None = None
    ) -> tuple[int, bool]:
        return await self.run(lambda db: self.add_sync(db, type_, subject, actor, at, detail))

    async def unread(self) -> int:
        return await self.run(self.unread_sync)

    async def page(self, limit: int, before: int | None = None) -> list[Notification]:
        return await self.run(lambda db: self.page_sync(db, limit, before))

    async def mark_read(self, ids: list[int] | None) -> int:
        return await self.run(lambda db: self.mark_read_sync(db, ids))


def _trim(db: sqlite3.Connection) -> None:
    """Keep the newest :data:`MAX_ROWS` notifications."""
    cutoff = db.execute(
        "SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?", (MAX_ROWS,)
    ).fetchone()
    if cutoff is not None:
        db.execute("DELETE FROM group_actors WHERE notification <= ?", (cutoff[0],))
        db.execute("DELETE FROM notifications WHERE id <= ?", (cutoff[0],))
