"""Token-gated playback as a service of the composition root.

``GatingService`` (peer/gating) needs the unlocked wallet, the clip-key stores and the chain
client, which exist only once those services started; this runner builds it in ``start()``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from peer.bus import EventBus
from peer.daemon.chain import ChainService
from peer.daemon.feed import FeedService
from peer.daemon.store import StoreService
from peer.daemon.wallet import WalletService
from peer.gating.feed_source import FeedPosts
from peer.gating.service import GatingOptions, GatingService
from peer.p2p import Network
from storage.clipkeys import ClipKeyStore
from tokens.ownership import OwnershipChecker


class GatingRunner:
    """Starts the key server (creator side) and the unlocker (holder side)."""

    name = "gating"

    def __init__(
        self,
        network: Network,
        feed: FeedService,
        store: StoreService,
        chain: ChainService,
        wallet: WalletService,
        released_dir: Path,
        window_blocks: int,
        bus: EventBus,
    ) -> None:
        self._bus = bus
        self._network, self._feed, self._store = network, feed, store
        self._chain, self._wallet = chain, wallet
        self._released_dir, self._lag = released_dir, window_blocks
        self._service: GatingService | None = None
        self._released: ClipKeyStore | None = None

    @property
    def service(self) -> GatingService:
        if self._service is None:
            raise RuntimeError("gating is not started")
        return self._service

    def has_key(self, manifest_cid: str) -> bool:
        """Whether this peer holds the clip key (its own clip, or released to it)."""
        stores = (self._wallet.clip_keys, self._released)
        return any(store is not None and store.has(manifest_cid) for store in stores)

    async def start(self) -> None:
        passphrase = self._wallet.passphrase
        released = (
            None
            if passphrase is None
            else await asyncio.to_thread(ClipKeyStore, self._released_dir, passphrase)
        )
        self._released = released
        deployment = self._chain.deployment
        assert deployment is not None
        self._service = GatingService(
            network=self._network,
            posts=FeedPosts(self._feed.index.queries),
            store=self._store.store,
            chain_id=deployment.chain_id,
            checker=OwnershipChecker(self._chain.client, lag=self._lag),
            chain=self._chain.client,
            account=self._wallet.account,
            creator_keys=self._wallet.clip_keys,
            released=released,
            options=GatingOptions(
                slippage_bps=self._chain.client.slippage_bps,
                ledger_path=self._released_dir.parent / "unlocks.sqlite",
            ),
            publish=self._bus.publish,
        )
        await self._service.start()

    async def stop(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.stop()
