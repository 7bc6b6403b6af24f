"""The DHT as bitswap's content routing: implements ``storage.bitswap.ports.ContentRouting``
on any host that implements :class:`~peer.p2p.ports.Routing` (``P2PHost`` or the fake).

``storage`` declares the port (provide a CID; find providers as dialable multiaddrs); this
adapter turns a CID into the DHT key (its multihash, as Kubo and Helia do, so a CIDv0 and a
CIDv1 of the same content share providers) and the DHT's answer into multiaddrs ending in
``/p2p/<provider>``. Errors of the p2p layer pass through unchanged: bitswap treats providing
and lookups as best effort and logs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from storage.cid import CID

from .ports import ContentRoutingPort, Routing

logger = logging.getLogger(__name__)


class _Keyed(Protocol):
    @property
    def multihash(self) -> bytes: ...


class DhtContentRouting:
    """``ContentRouting`` over the host's DHT."""

    def __init__(self, host: Routing) -> None:
        self._host = host

    async def provide(self, cid: CID) -> None:
        """Announce ``cid``; a DHT with no other reachable peer keeps the record locally."""
        await self._host.provide(_key(cid))

    async def find_providers(self, cid: CID, limit: int) -> list[str]:
        """Up to ``limit`` providers of ``cid`` (never this peer), one multiaddr each (the
        first address the DHT returned for it)."""
        if limit <= 0:
            return []
        found = await self._host.find_providers(_key(cid), limit)
        return [info.addrs[0] for info in found if info.addrs][:limit]


def _key(cid: _Keyed) -> bytes:
    return bytes(cid.multihash)


class ProvideQueue:
    """``ContentRouting`` whose ``provide`` returns at once: CIDs are announced one after
    another by an owned background task (a DHT provide is a network lookup of up to the
    lookup timeout; an add or a pin must not wait for it). ``find_providers`` passes through.

    ``reprovide(cids)`` queues many at once (the store service re-announces its pins when
    the first peer connects and periodically). Failures are logged and counted, never raised.
    """

    def __init__(self, inner: ContentRoutingPort, max_queued: int = 100_000) -> None:
        self._inner = inner
        self._max = max_queued
        self._queue: dict[bytes, CID] = {}  # keyed by multihash: one announcement per content
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.provided = 0
        self.failed = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queue.clear()
        self._idle.set()

    async def provide(self, cid: CID) -> None:
        self.reprovide([cid])

    def reprovide(self, cids: list[CID]) -> None:
        for cid in cids:
            if len(self._queue) >= self._max:
                self.dropped += 1
                continue
            self._queue.setdefault(_key(cid), cid)
        if self._queue:
            self._idle.clear()
            self._wake.set()

    async def find_providers(self, cid: CID, limit: int) -> list[str]:
        return await self._inner.find_providers(cid, limit)

    async def idle(self) -> None:
        """Wait until every queued CID was announced (or failed); for tests and shutdown."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                key = next(iter(self._queue))
                cid = self._queue.pop(key)
                try:
                    await self._inner.provide(cid)
                    self.provided += 1
                except Exception as exc:  # best effort: logged, counted
                    self.failed += 1
                    logger.info("could not provide %s: %s", cid, exc)
            self._idle.set()
