"""The content store as a service of the composition root.

``storage.backend``:

* ``embedded`` — our block store in ``<data-dir>/store`` plus bitswap on the peer's libp2p host.
  The store the rest of the daemon uses is a ``NetworkContentStore``: reads of content this peer
  lacks fetch the blocks from connected peers (verified), so a follower plays a clip the creator
  pinned, and the creator's peer serves blocks to Helia, Kubo and other Toktok peers.
* ``kubo`` — an existing Kubo / IPFS Desktop reached at ``storage.kubo_api``; the daemon does not
  start when it is unreachable (a clear error names the address).

Content routing (embedded backend, when the composition root passes one, i.e. ``p2p.dht`` is
not ``off``): every pinned root is provided on the DHT — at once when it is added or pinned,
and all pins again when a peer connects (at most every ``reprovide_gap_s``) and every
``reprovide_interval_s`` — through a :class:`~peer.p2p.routing.ProvideQueue`, so adds and pins
never wait for the network. Bitswap asks the same routing for providers of blocks no connected
peer has, and dials them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peer.config import StorageSection
from peer.p2p import Network
from peer.p2p.routing import ProvideQueue
from storage.bitswap.ports import ContentRouting
from storage.bitswap.providing import ProvidingContentStore
from storage.bitswap.service import Bitswap, BitswapOptions
from storage.bitswap.store import NetworkContentStore
from storage.embedded import EmbeddedContentStore
from storage.kubo import KuboContentStore
from storage.ports import ContentStore

REPROVIDE_GAP_S = 600.0
REPROVIDE_INTERVAL_S = 12 * 3600.0


class StoreService:
    """Opens the configured backend off the event loop; ``store`` is usable after ``start()``."""

    name = "store"

    def __init__(
        self,
        root: Path,
        settings: StorageSection,
        network: Network,
        routing: ContentRouting | None = None,
        *,
        relayed: Callable[[str], bool] | None = None,
        reprovide_gap_s: float = REPROVIDE_GAP_S,
        reprovide_interval_s: float = REPROVIDE_INTERVAL_S,
    ) -> None:
        self._root = root
        self._settings = settings
        self._network = network
        self._routing = routing
        self._relayed = relayed
        self._reprovide_gap = reprovide_gap_s
        self._reprovide_interval = reprovide_interval_s
        self._store: ContentStore | None = None
        self._embedded: EmbeddedContentStore | None = None
        self._kubo: KuboContentStore | None = None
        self._reprovider: asyncio.Task[None] | None = None
        self.bitswap: Bitswap | None = None
        self.providing: ProvideQueue | None = None

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
        if self._routing is not None:
            self.providing = ProvideQueue(self._routing)
            await self.providing.start()
        self.bitswap = Bitswap(
            self._network, self._embedded.local, BitswapOptions(), self.providing, self._relayed
        )
        await self.bitswap.start()
        if self.providing is not None:
            self._store = ProvidingContentStore(
                self._embedded, self.bitswap, self.providing.reprovide
            )
            self._reprovider = asyncio.get_running_loop().create_task(self._reprovide())
        else:
            self._store = NetworkContentStore(self._embedded, self.bitswap)

    async def stop(self) -> None:
        self._store, self._kubo = None, None
        reprovider, self._reprovider = self._reprovider, None
        if reprovider is not None:
            reprovider.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reprovider
        providing, self.providing = self.providing, None
        if providing is not None:
            await providing.stop()
        bitswap, self.bitswap = self.bitswap, None
        if bitswap is not None:
            await bitswap.stop()
        embedded, self._embedded = self._embedded, None
        close = getattr(embedded.local if embedded else None, "close", None)
        if callable(close):
            await asyncio.to_thread(close)

    async def reprovide_all(self) -> int:
        """Queue every pinned root for providing; returns how many."""
        embedded, providing = self._embedded, self.providing
        if embedded is None or providing is None:
            return 0
        roots = [pin.cid for pin in await embedded.pins()]
        providing.reprovide(roots)
        return len(roots)

    async def _reprovide(self) -> None:
        """Re-announce all pins when a peer connects (at most every gap) and periodically."""
        loop = asyncio.get_running_loop()
        last = -self._reprovide_gap
        events = self._network.watch_connections()
        try:
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), self._reprovide_interval)
                except TimeoutError:
                    event = None
                if event is not None and event.kind != "connected":
                    continue
                if event is not None and loop.time() - last < self._reprovide_gap:
                    continue
                last = loop.time()
                await self.reprovide_all()
        except StopAsyncIteration:
            return
        finally:
            await events.close()

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
        if self.providing is not None:
            out["providing"] = {
                "pending": self.providing.pending,
                "provided": self.providing.provided,
                "failed": self.providing.failed,
            }
        return out
