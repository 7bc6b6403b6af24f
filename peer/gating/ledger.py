"""The unlock ledger of a key server: which holder address unlocked which post for which peer.

A holding proves that an *address* holds tokens, not that one person asks. A contract wallet
(EIP-1271) that accepts any signature, or a holder handing out signed messages, could
otherwise unlock a clip for any number of peers with one holding. The ledger records every
release as ``(holder, post, peer, time)`` and caps the **distinct peers** one holder address
may unlock one post for within a rolling day (``peers_per_day``); a peer that was already
served for that holder and post is always served again. Kept in SQLite (``path``; in memory
when None), so the cap survives a restart of the key server. The cap is per key server: a
creator's delegates keep their own ledgers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DAY_S = 86_400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS unlocks (
    holder TEXT NOT NULL,
    post TEXT NOT NULL,
    peer TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (holder, post, peer)
)
"""


@dataclass(frozen=True, slots=True)
class Unlock:
    holder: str
    post: str
    peer: str
    at: float


class UnlockLedger:
    """Records releases and admits a new (holder, post, peer) only under the daily cap."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        peers_per_day: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if peers_per_day < 1:
            raise ValueError("peers_per_day must be >= 1")
        self.peers_per_day = peers_per_day
        self._clock = clock
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, check_same_thread=False)
        with self._db:
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def admit(self, holder: str, post_id: bytes, peer: str) -> int | None:
        """Record a release to `peer` and return None, or refuse: return how many other
        peers this holder unlocked the post for in the last day (nothing is recorded)."""
        h, p, now = holder.lower(), "0x" + post_id.hex(), self._clock()
        with self._lock, self._db:
            others = self._db.execute(
                "SELECT COUNT(*) FROM unlocks WHERE holder = ? AND post = ? AND peer != ? "
                "AND at > ?",
                (h, p, peer, now - DAY_S),
            ).fetchone()[0]
            served = self._db.execute(
                "SELECT 1 FROM unlocks WHERE holder = ? AND post = ? AND peer = ? AND at > ?",
                (h, p, peer, now - DAY_S),
            ).fetchone()
            if served is None and others >= self.peers_per_day:
                return int(others)
            self._db.execute(
                "INSERT INTO unlocks (holder, post, peer, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (holder, post, peer) DO UPDATE SET at = excluded.at",
                (h, p, peer, now),
            )
        return None

    def unlocks(self, holder: str | None = None) -> list[Unlock]:
        """The record, oldest first (every holder when None)."""
        query = "SELECT holder, post, peer, at FROM unlocks"
        args: tuple[str, ...] = ()
        if holder is not None:
            query, args = query + " WHERE holder = ?", (holder.lower(),)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY at", args).fetchall()
        return [Unlock(str(a), str(b), str(c), float(d)) for a, b, c, d in rows]
