"""The serving half of bitswap: answer other peers' wantlists from our block store.

Per peer we keep a ledger: an ordered queue of wants to answer and the want-blocks we could not
serve yet (answered as soon as the block arrives in our store, unless the peer asked for
DONT_HAVE). Up to ``workers_per_peer`` worker tasks drain a peer's queue, each on its own
outbound stream (a ``PeerSender`` lane, see there why): a worker reads its next few blocks in a
worker thread while the previous message is being written, and packs blocks into messages of
at most ``max_message_bytes``. Answers always go out on OUR streams to the peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.bitswap.ports import BlockReader
from storage.bitswap.sender import PeerSender, PeerSendError
from storage.bitswap.wire import (
    BitswapMessage,
    Presence,
    PresenceType,
    WantEntry,
    WantType,
)
from storage.cid import CID
from storage.errors import StorageError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Limits of the serving side."""

    # Largest message we assemble (bytes of blocks); the protocol limit is 4 MiB. Small
    # messages keep each stream within its flow-control window (see sender.py).
    max_message_bytes: int = 256 * 1024
    # Blocks read from disk per worker-thread round trip.
    read_batch: int = 1
    # Parallel workers (each with its own outbound stream) serving one peer.
    workers_per_peer: int = 4
    # Most wants we remember per peer (queue + deferred); more are ignored.
    max_wants_per_peer: int = 8192


@dataclass
class ServerStats:
    """Counters for ``toktok storage stats``."""

    blocks_sent: int = 0
    bytes_sent: int = 0
    dont_haves_sent: int = 0


@dataclass
class _Ledger:
    queue: OrderedDict[tuple[bytes, int], WantEntry] = field(default_factory=OrderedDict)
    deferred: dict[bytes, WantEntry] = field(default_factory=dict)
    workers: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    def size(self) -> int:
        return len(self.queue) + len(self.deferred)


class BitswapServer:
    """Answers wantlists; see the module docstring."""

    def __init__(
        self,
        blocks: BlockReader,
        sender_for: Callable[[str], PeerSender],
        options: ServerOptions | None = None,
    ) -> None:
        self._blocks = blocks
        self._sender_for = sender_for
        self._options = options or ServerOptions()
        self._ledgers: dict[str, _Ledger] = {}
        self.stats = ServerStats()

    def on_wantlist(self, peer: str, msg: BitswapMessage) -> None:
        """Apply a received wantlist to the peer's ledger and wake its worker."""
        ledger = self._ledgers.setdefault(peer, _Ledger())
        if msg.full:
            ledger.queue.clear()
            ledger.deferred.clear()
        for entry in msg.wants:
            key = (entry.cid.multihash, int(entry.want_type))
            if entry.cancel:
                ledger.queue.pop((entry.cid.multihash, int(WantType.BLOCK)), None)
                ledger.queue.pop((entry.cid.multihash, int(WantType.HAVE)), None)
                ledger.deferred.pop(entry.cid.multihash, None)
            elif ledger.size() < self._options.max_wants_per_peer:
                ledger.queue[key] = entry
        self._wake(peer, ledger)

    def block_added(self, cid: CID) -> None:
        """A block arrived in our store: serve it to peers that were waiting for it."""
        for peer, ledger in self._ledgers.items():
            entry = ledger.deferred.pop(cid.multihash, None)
            if entry is not None:
                ledger.queue[(cid.multihash, int(WantType.BLOCK))] = entry
                self._wake(peer, ledger)

    def peer_gone(self, peer: str) -> None:
        """Forget a disconnected peer's ledger."""
        ledger = self._ledgers.pop(peer, None)
        if ledger is not None:
            for task in ledger.workers.values():
                task.cancel()

    async def close(self) -> None:
        """Stop every worker."""
        workers = [t for lg in self._ledgers.values() for t in lg.workers.values()]
        self._ledgers.clear()
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(BaseException):
                await task

    def _wake(self, peer: str, ledger: _Ledger) -> None:
        loop = asyncio.get_running_loop()
        for lane in range(1, self._options.workers_per_peer + 1):
            if len(ledger.queue) <= sum(1 for t in ledger.workers.values() if not t.done()):
                return
            task = ledger.workers.get(lane)
            if task is None or task.done():
                ledger.workers[lane] = loop.create_task(self._work(peer, ledger, lane))

    async def _work(self, peer: str, ledger: _Ledger, lane: int) -> None:
        sender = self._sender_for(peer)
        reading = self._next_batch(ledger)
        try:
            while True:
                if reading is None:
                    # Wants may have arrived while we were writing; _wake() did not start a
                    # worker for them because this one still counted as running. Exit only
                    # when the queue is empty, with no await between this check and the end.
                    reading = self._next_batch(ledger)
                    if reading is None:
                        return
                answers = await reading
                reading = self._next_batch(ledger)  # read ahead while we write
                for msg in self._pack(answers, ledger):
                    await sender.send(msg, lane)
        except PeerSendError as exc:
            logger.debug("dropping ledger of %s: %s", peer, exc)
            self._ledgers.pop(peer, None)
        except Exception:  # a bug here must not leave the peer waiting silently
            logger.exception("bitswap: serving %s failed", peer)
            self._ledgers.pop(peer, None)
        finally:
            if reading is not None:
                reading.cancel()

    def _next_batch(
        self, ledger: _Ledger
    ) -> asyncio.Task[list[tuple[WantEntry, bytes | bool | None]]] | None:
        if not ledger.queue:
            return None
        batch: list[WantEntry] = []
        while ledger.queue and len(batch) < self._options.read_batch:
            batch.append(ledger.queue.popitem(last=False)[1])
        return asyncio.get_running_loop().create_task(asyncio.to_thread(self._read, batch))

    def _read(self, batch: list[WantEntry]) -> list[tuple[WantEntry, bytes | bool | None]]:
        out: list[tuple[WantEntry, bytes | bool | None]] = []
        for entry in batch:
            try:
                if entry.want_type is WantType.HAVE:
                    out.append((entry, self._blocks.has(entry.cid)))
                else:
                    out.append((entry, self._blocks.get(entry.cid)))
            except StorageError:  # absent, or corrupt on our disk: never served
                out.append((entry, None))
        return out

    def _pack(
        self, answers: list[tuple[WantEntry, bytes | bool | None]], ledger: _Ledger
    ) -> list[BitswapMessage]:
        messages: list[BitswapMessage] = []
        blocks: list[tuple[CID, bytes]] = []
        presences: list[Presence] = []
        size = 0
        for entry, found in answers:
            if isinstance(found, bytes):
                if blocks and size + len(found) > self._options.max_message_bytes:
                    messages.append(BitswapMessage(blocks=tuple(blocks)))
                    blocks, size = [], 0
                blocks.append((entry.cid, found))
                size += len(found)
                self.stats.blocks_sent += 1
                self.stats.bytes_sent += len(found)
            elif found is True:
                presences.append(Presence(entry.cid, PresenceType.HAVE))
            elif entry.send_dont_have:
                presences.append(Presence(entry.cid, PresenceType.DONT_HAVE))
                self.stats.dont_haves_sent += 1
            elif entry.want_type is WantType.BLOCK:
                ledger.deferred[entry.cid.multihash] = entry
        if blocks or presences:
            messages.append(BitswapMessage(blocks=tuple(blocks), presences=tuple(presences)))
        return messages
