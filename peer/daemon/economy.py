"""The trade index of the running peer: every creator-token trade of the deployment, kept
current by a background task (``<data>/index/trades.sqlite``, incremental from a persisted
cursor; :mod:`tokens.tradeindex`). Each new trade goes to the bus as ``token.trade``, so open
pages update prices and charts without polling the chain themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from peer.bus import EventBus
from peer.daemon.chain import ChainService
from peer.events import TokenTrade
from tokens.errors import TokensError
from tokens.tradeindex import (
    IndexedTrade,
    TradeIndex,
    confirmations_for,
    deployment_key,
    sync,
    sync_received,
)

log = logging.getLogger(__name__)


class EconomyService:
    """Owns the trade index and the task that follows the chain."""

    name = "economy"

    def __init__(
        self,
        chain: ChainService,
        bus: EventBus,
        path: Path,
        interval_s: float = 2.0,
        configured_confirmations: int = 12,
    ) -> None:
        self._configured = configured_confirmations
        self.confirmations = 0  # set at start, from the chain id
        self._chain = chain
        self._bus = bus
        self._path = path
        self._interval = interval_s
        self._index: TradeIndex | None = None
        self._task: asyncio.Task[None] | None = None
        self._syncing = asyncio.Lock()

    @property
    def index(self) -> TradeIndex:
        if self._index is None:
            raise RuntimeError("the economy service is not started")
        return self._index

    async def start(self) -> None:
        key = deployment_key(self._chain.client)
        chain_id = self._chain.client.deployment.chain_id
        self.confirmations = confirmations_for(chain_id, self._configured)
        self._index = await asyncio.to_thread(TradeIndex, self._path, key)
        self._task = asyncio.create_task(self._follow(), name="trade index")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._index is not None:
            self._index.close()

    async def refresh(self) -> list[IndexedTrade]:
        """Index what the chain has beyond the cursor now (the views call it before they read);
        each new trade is announced as ``token.trade``."""
        async with self._syncing:
            found = await sync(self.index, self._chain.client, self.confirmations)
        for t in found:
            self._bus.publish(
                TokenTrade(
                    t.token, t.trade.kind, t.trade.trader, str(t.trade.amount),
                    str(t.trade.price), str(t.trade.supply), t.trade.block,
                )
            )  # fmt: skip
        return found

    async def refresh_received(self, holder: str) -> None:
        """Index the creator tokens transferred to ``holder`` since its last read (the
        portfolio lists tokens that came by transfer only)."""
        async with self._syncing:
            await sync_received(self.index, self._chain.client, holder, self.confirmations)

    async def _follow(self) -> None:
        while True:
            try:
                await self.refresh()
            except TokensError as exc:  # the chain is down: try again on the next tick
                log.debug("trade index: %s", exc)
            await asyncio.sleep(self._interval)
