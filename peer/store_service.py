"""The content store as a service of the composition root.

``storage.backend``:

* ``embedded`` — our block store in ``<data-dir>/store`` plus bitswap on the peer's libp2p host.
  The store the rest of the daemon uses is a ``NetworkContentStore``: reads of content this peer
  lacks fetch the blocks from connected peers (verified), so a follower plays a clip the creator
  pinned, and the creator's peer serves blocks to Helia, Kubo and other Toktok peers.
* ``kubo`` — an existing Kubo / IPFS Desktop reached at ``storage.kubo_api``; the daemon does not
  start when it is unreachable (a clear error names the address).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from peer.config import StorageSection
from peer.p2p import Network
from storage.bitswap.service import Bitswap, BitswapOptions
from storage.bitswap.store import NetworkContentStore
from storage.embedded import EmbeddedContentStore
from storage.kubo import KuboContentStore
from storage.ports import ContentStore


class StoreService:
    """Opens the configured backend off the event loop; ``store`` is usable after ``start()``."""

    name = "store"

    def __init__(self, root: Path, settings: StorageSection, network: Network) -> None:
        self._root = root
        self._settings = settings
        self._network = network
        self._store: ContentStore | None = None
        self._embedded: EmbeddedContentStore | None = None
        self._kubo: KuboContentStore | None = None
        self.bitswap: Bitswap | None = None

    @property
    def store(self) -> ContentStore:
        if self._store is None:
            raise RuntimeError("the content store is not open yet")
        return self._store

    async def start(self) -> None:
        if self._settings.backend == "kubo":
            self._kubo = await KuboContentStore.connect(self._settings.kubo_api)
            self._store = self._kubo
            return
        self._embedded = await asyncio.to_thread(EmbeddedContentStore.at, self._root)
        self.bitswap = Bitswap(self._network, self._embedded.local, BitswapOptions())
        await self.bitswap.start()
        self._store = NetworkContentStore(self._embedded, self.bitswap)

    async def stop(self) -> None:
        self._store, self._kubo = None, None
        bitswap, self.bitswap = self.bitswap, None
        if bitswap is not None:
            await bitswap.stop()
        embedded, self._embedded = self._embedded, None
        close = getattr(embedded.local if embedded else None, "close", None)
        if callable(close):
            await asyncio.to_thread(close)

    async def status(self) -> dict[str, Any]:
        """Backend, its health and usage (``toktok storage stats``)."""
        if self._kubo is not None:
            return {"backend": "kubo", "health": await self._kubo.health()}
        usage = await self.store.usage()
        out: dict[str, Any] = {
            "backend": "embedded",
            "root": str(self._root),
            "usage": dataclasses.asdict(usage),
        }
        if self.bitswap is not None:
            out["bitswap"] = dataclasses.asdict(self.bitswap.stats())
        return out
