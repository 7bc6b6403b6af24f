"""The local feed index: an asyncio API over SQLite (WAL, one writer thread, reader threads).

``FeedIndex`` owns the database (``start``, ``close``) and is made of four parts, one per role,
which the composition root hands to whoever plays that role:

- ``writes`` (``FeedWrites``): stores validated records, keeps the local mute and block lists;
  gossip's ``RecordStore``.
- ``view`` (``ValidatorView``): the validator's ``ports.FeedView``.
- ``sync`` (``SyncView``): heads and ranges sync serves and what a round stores
  (``peer.sync.ports.SyncIndex``).
- ``queries`` (``FeedQueries``): pages, posts, creators and comments for the API and services.

Nothing here blocks the event loop. The composition root passes
``IndexOptions(path=<data>/index/feed.sqlite)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from peer.feed.db import Readers, Writer
from peer.feed.errors import FeedIndexError
from peer.feed.feed_queries import FeedQueries
from peer.feed.sync_view import SyncView
from peer.feed.validator_view import ValidatorView
from peer.feed.writes import FeedWrites


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


class FeedIndex:
    """The feed index of one data dir. ``start()`` before use, ``close()`` after."""

    def __init__(self, options: IndexOptions) -> None:
        self._options = options
        self._writer = Writer(options.path, options.batch_max)
        self._readers = Readers(options.path, options.read_workers)
        generations: Counter[str] = Counter()
        self.writes = FeedWrites(self._writer, self._readers, generations)
        self.view = ValidatorView(self._readers)
        self.queries = FeedQueries(
            self._readers,
            page_max=options.page_max,
            for_you_window_s=options.for_you_window_s,
        )
        self.sync = SyncView(self._readers, self.writes, self.queries, generations)

    async def start(self) -> None:
        """Create the folder, open the database and apply migrations."""
        try:
            self._options.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedIndexError(f"cannot create {self._options.path.parent}: {exc}") from exc
        await self._writer.start()

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
