"""The pin set: SQLite on disk (``<store>/pins.sqlite``) and an in-memory fake.

A pin is ``(cid string, kind)``; each change is one SQLite transaction (WAL), so a crash leaves
the pin either fully recorded or absent. Methods are blocking and thread-safe (one connection
per call: readers never wait for the writer in WAL mode).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from storage.cid import CID
from storage.errors import InvalidCIDError, StoreIOError
from storage.ports import Pin, PinKind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pins (
    cid TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('recursive', 'direct'))
) WITHOUT ROWID;
"""


class PinStore(Protocol):
    """Where pins are recorded."""

    def set(self, cid: CID, kind: PinKind) -> None:
        """Record (or change the kind of) a pin."""
        ...

    def remove(self, cid: CID) -> bool:
        """Remove a pin; False if there was none."""
        ...

    def get(self, cid: CID) -> PinKind | None:
        """The kind of pin on ``cid``, or None."""
        ...

    def all(self) -> list[Pin]:
        """Every pin, sorted by CID string."""
        ...


class SqlitePinStore:
    """Pins in a SQLite database file."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._write_lock = threading.Lock()
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreIOError(f"cannot open pin database {self._path}: {exc}") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreIOError(f"cannot open pin database {self._path}: {exc}") from exc
        try:
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        except sqlite3.Error as exc:
            raise StoreIOError(f"pin database error in {self._path}: {exc}") from exc
        finally:
            conn.close()

    def set(self, cid: CID, kind: PinKind) -> None:
        """Insert or update a pin in one transaction."""
        with self._write_lock, self._connect() as conn:
            conn.execute(
                "INSERT INTO pins (cid, kind) VALUES (?, ?) "
                "ON CONFLICT(cid) DO UPDATE SET kind = excluded.kind",
                (str(cid), kind.value),
            )

    def remove(self, cid: CID) -> bool:
        """Delete a pin in one transaction."""
        with self._write_lock, self._connect() as conn:
            return conn.execute("DELETE FROM pins WHERE cid = ?", (str(cid),)).rowcount > 0

    def get(self, cid: CID) -> PinKind | None:
        """Look one pin up."""
        with self._connect() as conn:
            row = conn.execute("SELECT kind FROM pins WHERE cid = ?", (str(cid),)).fetchone()
        return None if row is None else PinKind(row[0])

    def all(self) -> list[Pin]:
        """Every pin."""
        with self._connect() as conn:
            rows = conn.execute("SELECT cid, kind FROM pins ORDER BY cid").fetchall()
        try:
            return [Pin(CID.parse(cid), PinKind(kind)) for cid, kind in rows]
        except (InvalidCIDError, ValueError) as exc:
            raise StoreIOError(f"pin database {self._path} holds a bad row: {exc}") from exc


class MemoryPinStore:
    """In-memory :class:`PinStore` (public fake)."""

    def __init__(self) -> None:
        self._pins: dict[str, Pin] = {}
        self._lock = threading.Lock()

    def set(self, cid: CID, kind: PinKind) -> None:
        """Record a pin."""
        with self._lock:
            self._pins[str(cid)] = Pin(cid, kind)

    def remove(self, cid: CID) -> bool:
        """Remove a pin."""
        with self._lock:
            return self._pins.pop(str(cid), None) is not None

    def get(self, cid: CID) -> PinKind | None:
        """Look one pin up."""
        pin = self._pins.get(str(cid))
        return None if pin is None else pin.kind

    def all(self) -> list[Pin]:
        """Every pin, sorted."""
        with self._lock:
            return [self._pins[key] for key in sorted(self._pins)]
