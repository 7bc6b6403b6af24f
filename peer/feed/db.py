"""SQLite plumbing of the index: one writer thread, a pool of reader threads, WAL.

The event loop never touches SQLite. Writes are functions queued to the single writer thread;
it takes up to ``batch_max`` queued writes at once and runs them in one transaction, each inside
its own savepoint (one failing write is rolled back alone and fails only its own caller).
Reads run on a small thread pool, each thread with its own ``query_only`` connection.
``sqlite3.Error`` becomes ``FeedIndexError`` here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from peer.feed.errors import FeedIndexError
from peer.feed.schema import migrate

logger = logging.getLogger(__name__)
T = TypeVar("T")
WriteFn = Callable[[sqlite_utils.Database], Any]
_Job = tuple[WriteFn, "concurrent.futures.Future[Any]"]


def connect(path: Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """A sqlite-utils database on ``path`` in manual transaction mode."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn, execute_plugins=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        if readonly:
            conn.execute("PRAGMA query_only = 1")
        else:
            db.enable_wal()
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise FeedIndexError(f"cannot open the feed index at {path}: {exc}") from exc
    return db


class Writer:
    """The single writer thread of one database file."""

    def __init__(self, path: Path, batch_max: int = 512) -> None:
        self._path = path
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="feed-writer", daemon=True)
        self._closed = False
        self.transactions = 0
        """Transactions committed so far (written by the writer thread only)."""

    async def start(self) -> None:
        """Start the thread, open the database and migrate it; raises if that fails."""
        self._thread.start()
        await asyncio.wrap_future(self._ready)

    async def submit(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn`` in the writer thread inside a transaction; returns its result."""
        if self._closed:
            raise FeedIndexError("the feed index is closed")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, future))
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        """Finish queued writes and stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        try:
            db = connect(self._path)
            migrate(db)
        except BaseException as exc:
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    break
                batch = [job]
                stop = False
                while len(batch) < self._batch_max:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._execute(db, batch)
                if stop:
                    break
        finally:
            self._fail_pending()
            db.conn.close()

    def _fail_pending(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[1].set_exception(FeedIndexError("the feed index is closed"))

    def _execute(self, db: sqlite_utils.Database, batch: list[_Job]) -> None:
        conn = db.conn
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, future in batch:
                conn.execute("SAVEPOINT job")
                try:
                    result = fn(db)
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((future, None, _translate(exc)))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((future, result, None))
            conn.execute("COMMIT")
            self.transactions += 1
        except sqlite3.Error as exc:
            logger.exception("feed index transaction failed")
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            error = FeedIndexError(f"feed index write failed: {exc}; check disk space")
            for _fn, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for future, result, error_ in outcomes:
            if error_ is not None:
                future.set_exception(error_)
            else:
                future.set_result(result)


def _translate(exc: Exception) -> BaseException:
    if isinstance(exc, sqlite3.Error):
        return FeedIndexError(f"feed index write failed: {exc}")
    return exc


class Readers:
    """A pool of reader threads, one ``query_only`` connection each."""

    def __init__(self, path: Path, workers: int = 2) -> None:
        self._path = path
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "feed-read")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite_utils.Database] = []
        self._closed = False

    def _db(self) -> sqlite_utils.Database:
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self._path, readonly=True)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def _call(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        try:
            return fn(self._db())
        except sqlite3.Error as exc:
            raise FeedIndexError(f"feed index read failed: {exc}") from exc

    async def run(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run the read ``fn`` on a reader thread."""
        if self._closed:
            raise FeedIndexError("the feed index is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, fn)

    async def one(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        """The first row of the read-only statement ``sql`` (None: no row)."""

        def read(db: sqlite_utils.Database) -> tuple[Any, ...] | None:
            row = db.execute(sql, params).fetchone()
            return None if row is None else tuple(row)

        return await self.run(read)

    async def all(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Every row of the read-only statement ``sql``."""

        def read(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in db.execute(sql, params).fetchall()]

        return await self.run(read)

    async def close(self) -> None:
        """Wait for running reads, then close every reader connection."""
        self._closed = True
        await asyncio.to_thread(self._pool.shutdown, True)
        with self._lock:
            for db in self._connections:
                db.conn.close()
            self._connections.clear()
