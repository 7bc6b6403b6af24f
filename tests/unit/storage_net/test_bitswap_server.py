"""The serving ledger: wants that arrive while a worker is writing are still answered."""

from __future__ import annotations

import asyncio
from typing import cast

from storage.bitswap.sender import PeerSender
from storage.bitswap.server import BitswapServer, ServerOptions
from storage.bitswap.wire import BitswapMessage, WantEntry
from storage.blockstore import MemoryBlockStore
from storage.cid import CID, RAW


class GatedSender:
    """Records messages; each send waits until the test opens the gate."""

    def __init__(self) -> None:
        self.sent: list[BitswapMessage] = []
        self.gate = asyncio.Event()
        self.writing = asyncio.Event()

    async def send(self, msg: BitswapMessage, lane: int = 0) -> None:
        self.writing.set()
        await self.gate.wait()
        self.sent.append(msg)


def blocks(*payloads: bytes) -> tuple[MemoryBlockStore, list[CID]]:
    store = MemoryBlockStore()
    cids = []
    for payload in payloads:
        cid = CID.for_block(RAW, payload)
        store.put(cid, payload)
        cids.append(cid)
    return store, cids


async def test_wants_arriving_during_a_write_are_answered() -> None:
    store, (first, second) = blocks(b"first", b"second")
    sender = GatedSender()
    server = BitswapServer(
        store, lambda peer: cast(PeerSender, sender), ServerOptions(workers_per_peer=1)
    )
    server.on_wantlist("peer", BitswapMessage(wants=(WantEntry(first),)))
    await asyncio.wait_for(sender.writing.wait(), 2)  # the worker is busy writing `first`
    server.on_wantlist("peer", BitswapMessage(wants=(WantEntry(second),)))
    sender.gate.set()
    for _ in range(200):
        if len(sender.sent) == 2:
            break
        await asyncio.sleep(0.01)
    assert [m.blocks[0][0] for m in sender.sent] == [first, second]
    await server.close()


async def test_cancelled_and_full_wantlists_update_the_ledger() -> None:
    store, (kept, cancelled) = blocks(b"kept", b"cancelled")
    sender = GatedSender()
    sender.gate.set()
    server = BitswapServer(store, lambda peer: cast(PeerSender, sender))
    msg = BitswapMessage(
        wants=(WantEntry(cancelled), WantEntry(cancelled, cancel=True), WantEntry(kept))
    )
    server.on_wantlist("peer", msg)
    for _ in range(200):
        if sender.sent:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert [b[0] for m in sender.sent for b in m.blocks] == [kept]
    await server.close()
