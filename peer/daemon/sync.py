"""Catch-up sync as a service of the composition root (built once the feed has started)."""

from __future__ import annotations

from pathlib import Path

from peer.config import SyncSection
from peer.daemon.feed import FeedService
from peer.p2p import Network
from peer.sync import PeerBook, PeerBookOptions, SyncOptions, SyncService


class SyncRunner:
    """Serves and pulls sync 1.1 and 1.0; keeps the peer book in ``<data>/p2p``."""

    name = "sync"

    def __init__(
        self, network: Network, feed: FeedService, p2p_dir: Path, settings: SyncSection
    ) -> None:
        self._network, self._feed, self._dir = network, feed, p2p_dir
        self._settings = settings
        self.service: SyncService | None = None

    async def start(self) -> None:
        self.service = SyncService(
            self._network,
            self._feed.index.sync,
            self._feed.validator,
            SyncOptions(
                interval_s=self._settings.interval_s,
                page_size=self._settings.page_size,
                v1_1=self._settings.protocol_1_1,
            ),
            peer_book=PeerBook(PeerBookOptions(self._dir / "peers.json")),
            on_stored=self._feed.on_stored,
        )
        await self.service.start()

    async def stop(self) -> None:
        service, self.service = self.service, None
        if service is not None:
            await service.stop()
