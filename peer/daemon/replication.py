"""Replication as a service of the composition root (built after the store and the feed).

It needs the started store (bitswap, the content store), the feed's index file and the
wallet's address (whose follows and likes say what is wanted), so it builds
:class:`~peer.replication.service.ReplicationService` in ``start()``. New posts on the bus
(``post.new``) wake the worker at once; other feed changes (follows, likes, tombstones) are
seen through the index's ``data_version`` within ``poll_s``.

State: ``<data>/store/replication.sqlite`` (see :mod:`peer.replication.state`).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from peer.bus import EventBus, Subscription
from peer.config import StorageSection
from peer.daemon.store import StoreService
from peer.daemon.wallet import WalletService
from peer.events import PostStored
from peer.feed.reader import IndexReader
from peer.replication.service import ReplicationOptions, ReplicationService
from peer.replication.state import ReplicationState, WantedPost

MIB = 1024 * 1024


def replication_options(settings: StorageSection) -> ReplicationOptions:
    """The worker's options from ``[storage]``."""
    return ReplicationOptions(
        budget_bytes=int(settings.disk_budget_mb * MIB),
        rate_bytes_s=settings.replication_rate_kbps * 1000 // 8,
    )


class IndexWants:
    """Replication's ``Wants`` port over the feed's read-only :class:`IndexReader`."""

    def __init__(self, index_file: Path) -> None:
        self._reader = IndexReader(index_file)

    def close(self) -> None:
        self._reader.close()

    def data_version(self) -> int:
        return self._reader.data_version()

    def wanted(self, me: str, limit: int) -> list[WantedPost]:
        return [
            WantedPost(row.post_id, row.creator, row.manifest, row.created_at)
            for row in self._reader.wanted_by(me, limit)
        ]

    def own_manifests(self, me: str) -> list[str]:
        return self._reader.manifests_of(me)

    def withdrawn(self, post_id: str) -> bool:
        return self._reader.withdrawn(post_id)


class ReplicationRunner:
    """Starts the replication worker when ``storage.replicate`` is on and the store is embedded."""

    name = "replication"

    def __init__(
        self,
        settings: StorageSection,
        store: StoreService,
        wallet: WalletService,
        bus: EventBus,
        index_file: Path,
        state_file: Path,
        options: ReplicationOptions | None = None,
    ) -> None:
        self._settings, self._store, self._wallet, self._bus = settings, store, wallet, bus
        self._index_file, self._state_file = index_file, state_file
        self._options = options or replication_options(settings)
        self.service: ReplicationService | None = None
        self._state: ReplicationState | None = None
        self._wants: IndexWants | None = None
        self._subscription: Subscription | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._why_not: str | None = None

    async def start(self) -> None:
        if not self._settings.replicate:
            return
        bitswap = self._store.bitswap
        if bitswap is None:
            self._why_not = (
                "replication needs storage.backend = 'embedded' (a Kubo node replicates with"
                " its own pinning)"
            )
            return
        self._wants = await asyncio.to_thread(IndexWants, self._index_file)
        self._state = await asyncio.to_thread(ReplicationState, self._state_file)
        self.service = ReplicationService(
            self._options,
            self._state,
            self._wants,
            bitswap,
            self._store.store,
            me=lambda: self._wallet.address,
            publish=self._bus.publish,
        )
        await self.service.start()
        self._subscription = self._bus.subscribe(PostStored)
        self._watcher = asyncio.get_running_loop().create_task(self._watch(self._subscription))

    async def _watch(self, subscription: Subscription) -> None:
        async for _ in subscription:
            if self.service is not None:
                self.service.wake()

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        service, self.service = self.service, None
        if service is not None:
            await service.stop()
        for closable in (self._state, self._wants):
            if closable is not None:
                await asyncio.to_thread(closable.close)
        self._state = self._wants = None

    def status(self) -> dict[str, Any] | None:
        """The ``replication`` object of ``GET /api/v1/storage`` (None when switched off)."""
        if not self._settings.replicate:
            return None
        if self.service is not None:
            return self.service.status()
        return {
            "enabled": False,
            "budget_bytes": self._options.budget_bytes,
            "used_bytes": 0,
            "pinned_posts": 0,
            "queued": 0,
            "failed": 0,
            "evicted": 0,
            "last_error": self._why_not,
        }
