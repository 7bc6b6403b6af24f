"""The write side of the feed index: validated records in, the local mute and block lists.

``FeedWrites`` is the ``RecordStore`` gossip puts accepted records into. Stores issued in the
same event-loop iteration go to the writer thread as one job (one transaction, one thread hop);
each still fails alone. Every store counts a new generation of its kind in ``generations``, which
the sync view uses to know when its cached group heads are stale.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

from peer.feed.db import Readers, Writer
from peer.feed.ingest import StoreItem, StoreResult, set_listed, store_batch
from peer.feed.synckinds import SYNCED_KINDS
from peer.feed.wire import Envelope, encode

LISTS = ("muted", "blocked")
_REMOVING: Final = frozenset({"tombstone", "commentWithdrawal"})


class FeedWrites:
    """Stores validated records and keeps the local lists (part of ``FeedIndex``)."""

    def __init__(self, writer: Writer, readers: Readers, generations: Counter[str]) -> None:
        self._writer = writer
        self._readers = readers
        self._generations = generations
        self._to_store: list[tuple[StoreItem, asyncio.Future[StoreResult]]] = []

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
            # even on failure: cheap and safe; a tombstone or a comment withdrawal also removes
            # records of other kinds (the post's comments, the comment's replies and moderations)
            for kind in SYNCED_KINDS if envelope.kind in _REMOVING else (envelope.kind,):
                self._generations[kind] += 1

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

    async def is_blocked(self, address: str) -> bool:
        """True if ``address`` is on the local block list."""
        row = await self._readers.one("SELECT 1 FROM blocked WHERE address = ?", (address,))
        return row is not None

    async def listed(self, which: str) -> list[str]:
        """The addresses on the ``muted`` or ``blocked`` list."""
        if which not in LISTS:
            raise ValueError(f"unknown list {which!r}")
        sql = f"SELECT address FROM {which} ORDER BY since, address"  # noqa: S608
        return [str(row[0]) for row in await self._readers.all(sql, ())]

    @property
    def transactions(self) -> int:
        """Write transactions committed since ``start`` (one per writer batch)."""
        return self._writer.transactions


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
